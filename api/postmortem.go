package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

// PostmortemHandler serves GET /api/v1/incidents/{n}/postmortem: the
// post-mortem draft of incident n, drafted from its events at the moment
// of the request, as Markdown (format=md, the default), standalone HTML
// (format=html) or JSON (format=json). It answers 400 for a bad incident
// number or format, 404 for an incident nobody declared. now stamps the
// draft; nil means time.Now. The caller adds authentication.
func PostmortemHandler(store incident.Store, now func() time.Time) http.HandlerFunc {
	return PostmortemHandlerWithBudget(store, now, nil)
}

// PostmortemHandlerWithBudget is PostmortemHandler with the error budget
// the incident spent in the draft, as budget finds it; nil, or a lookup
// that fails, leaves it unknown.
func PostmortemHandlerWithBudget(store incident.Store, now func() time.Time, budget postmortem.BudgetLookup) http.HandlerFunc {
	return postmortemHandler(store, now, budget, nil, nil)
}

// postmortemHandler is PostmortemHandlerWithBudget with people's names
// from people (nil: the ids); a name it does not know yet is looked up
// within requestNamesTimeout, and stays an id when Slack cannot say.
func postmortemHandler(store incident.Store, now func() time.Time, budget postmortem.BudgetLookup, people People, chart postmortem.ChartLookup) http.HandlerFunc {
	if now == nil {
		now = time.Now
	}
	return func(w http.ResponseWriter, r *http.Request) {
		n, err := incident.ParseID(r.PathValue("n"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		format := r.URL.Query().Get("format")
		if format == "" {
			format = postmortem.FormatMarkdown
		}
		if err := postmortem.CheckFormat(format); err != nil {
			writeError(w, http.StatusBadRequest, "format: "+err.Error())
			return
		}
		// A private incident the token may not see does not exist for it.
		if inc, err := store.Incident(r.Context(), n); err == nil && !admits(r.Context(), inc) {
			writeError(w, http.StatusNotFound, incident.NotFound(n).Error())
			return
		}
		opts := postmortem.Options{Now: now().UTC()}
		if budget != nil {
			// The budget comes from Prometheus; a person waiting for a
			// draft gets it with the budget unknown rather than waiting on
			// a slow Prometheus (the breaker then fails the next ones fast).
			// An incident that cannot be read gets no budget here; Export
			// reads it again and says what is wrong.
			if inc, err := store.Incident(r.Context(), n); err == nil {
				ctx, cancel := context.WithTimeout(r.Context(), requestBudgetTimeout)
				opts.Budget = postmortem.LookupBudget(ctx, inc, budget)
				cancel()
			}
		}
		if chart != nil && format == postmortem.FormatHTML {
			// The HTML draft's chart comes from Prometheus too, with the
			// budget's bound; the other formats have no place for it.
			if inc, err := store.Incident(r.Context(), n); err == nil {
				ctx, cancel := context.WithTimeout(r.Context(), requestBudgetTimeout)
				opts.Chart = postmortem.LookupChart(ctx, inc, chart)
				cancel()
			}
		}
		if people != nil {
			ctx, cancel := context.WithTimeout(r.Context(), requestNamesTimeout)
			defer cancel()
			opts.Names = people.Names(ctx)
		}
		body, contentType, err := postmortem.Export(r.Context(), store, n, format, opts)
		switch {
		case errors.Is(err, incident.ErrNotFound):
			writeError(w, http.StatusNotFound, err.Error())
			return
		case err != nil:
			// The handler has no logger of its own; the cause must not
			// reach the client.
			slog.ErrorContext(r.Context(), "post-mortem export failed", "incident", incident.ID(n), "err", err)
			writeError(w, http.StatusInternalServerError, "internal error; the server log has the cause")
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Content-Disposition", `inline; filename="`+strings.ToLower(incident.ID(n))+`-postmortem.`+format+`"`)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		if format == postmortem.FormatHTML {
			// The draft's own policy, which it also carries in a meta
			// tag, and what only a header can say: no page may frame it.
			h.Set("Content-Security-Policy", postmortem.ContentSecurityPolicy+"; frame-ancestors 'none'")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body) // the client went away; nothing to do
	}
}

// requestBudgetTimeout bounds the budget lookup on the request path, and
// requestNamesTimeout the lookups of names no one has seen yet.
const (
	requestBudgetTimeout = 2 * time.Second
	requestNamesTimeout  = 2 * time.Second
)
