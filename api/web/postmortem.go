package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

// The bounds on what a post-mortem waits for on the request path, as the
// API's: a person gets the draft with a name shown as a member ID, or the
// budget unknown, rather than waiting on a slow Slack or Prometheus.
const (
	postmortemNamesTimeout  = 2 * time.Second
	postmortemBudgetTimeout = 2 * time.Second
)

// postmortemView is the post-mortem page's data.
type postmortemView struct {
	Number uint64
	Doc    *postmortem.Doc
	// Findings are the blameless check's findings over the Markdown
	// draft, each with the section it stands in.
	Findings  []pmFinding
	Downloads []pmDownload
}

// pmFinding is a finding of the blameless check and the section of the
// Markdown draft its line is in.
type pmFinding struct {
	postmortem.Finding
	Section string
}

// pmDownload is a link to the draft in one format.
type pmDownload struct {
	Format, Label, URL string
}

// postmortemPage answers GET /incidents/{n}/postmortem: the draft drafted
// now from incident n's events, as a page with the blameless check's
// findings beside it, or with format=md, html or json the download
// itself, the same bytes as the API's. A private incident the viewer may
// not see answers as an unknown number does.
func (s *Site) postmortemPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	n, ok := s.incidentNumber(w, r, v)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format != "" {
		if err := postmortem.CheckFormat(format); err != nil {
			s.fail(w, r, v, http.StatusBadRequest, fmt.Sprintf("There is no %q download of a post-mortem", format),
				fmt.Sprintf("Ask for format=md (Markdown), format=html or format=json, as /incidents/%d/postmortem?format=md.", n))
			return
		}
	}
	// The snapshot first: an incident the viewer may not see answers as
	// one nobody declared (notFound, the incident page's answer), after
	// the same one read, so the time the answer takes does not tell a
	// hidden incident from an unknown number. Then the events, folded
	// into the snapshot, so the access check and the draft see one
	// moment of the incident; the check is made again on that fold.
	ctx := r.Context()
	snap, err := s.cfg.Store.Incident(ctx, n)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		s.notFound(w, r, v, n)
		return
	case err != nil:
		s.internal(w, r, fmt.Errorf("read %s: %w", incident.ID(n), err))
		return
	case !snap.Admits(v.User):
		s.notFound(w, r, v, n)
		return
	}
	events, err := s.cfg.Store.Events(ctx, n, 1)
	switch {
	case errors.Is(err, incident.ErrNotFound):
		s.notFound(w, r, v, n)
		return
	case err != nil:
		s.internal(w, r, fmt.Errorf("read %s's events: %w", incident.ID(n), err))
		return
	}
	// A snapshot without events (a store restored from snapshots alone)
	// still has a draft: what the snapshot says, an empty timeline.
	st := incidentState{inc: snap.Clone()}
	st.add(events)
	inc := st.inc
	if !inc.Admits(v.User) {
		s.notFound(w, r, v, n)
		return
	}
	opts, done := s.postmortemOptions(r.Context(), inc)
	if s.cfg.PostmortemChart != nil && (format == "" || format == postmortem.FormatHTML) {
		// The chart comes from Prometheus: bounded as the budget is, and
		// only for the page and the HTML, which show it.
		cctx, cancel := context.WithTimeout(r.Context(), postmortemBudgetTimeout)
		opts.Chart = postmortem.LookupChart(cctx, inc, s.cfg.PostmortemChart)
		cancel()
	}
	doc := postmortem.Draft(inc, events, opts)
	done()
	if format != "" {
		s.postmortemDownload(w, r, n, doc, format)
		return
	}
	md := doc.Markdown()
	view := postmortemView{Number: n, Doc: &doc, Findings: pmFindings(string(md), postmortem.Lint(string(md)))}
	for _, f := range postmortem.Formats() {
		view.Downloads = append(view.Downloads, pmDownload{
			Format: f, Label: formatLabel(f), URL: fmt.Sprintf("/incidents/%d/postmortem?format=%s", n, f),
		})
	}
	s.render(w, r, http.StatusOK, "postmortem", layout{Title: inc.ID + " post-mortem", Viewer: v, Page: view})
}

// formatLabel names a download's format for its link.
func formatLabel(format string) string {
	switch format {
	case postmortem.FormatMarkdown:
		return "Markdown"
	case postmortem.FormatHTML:
		return "HTML"
	case postmortem.FormatJSON:
		return "JSON"
	}
	return format
}

// postmortemOptions are the draft's options as the API gives them:
// the error budget the incident spent, looked up within
// postmortemBudgetTimeout, and people's names, a name not known yet
// looked up within postmortemNamesTimeout of the call. Draft calls the
// names while it writes: call done after it.
func (s *Site) postmortemOptions(ctx context.Context, inc incident.Incident) (opts postmortem.Options, done func()) {
	opts = postmortem.Options{Now: s.cfg.Now().UTC()}
	if s.cfg.PostmortemBudget != nil {
		bctx, cancel := context.WithTimeout(ctx, postmortemBudgetTimeout)
		opts.Budget = postmortem.LookupBudget(bctx, inc, s.cfg.PostmortemBudget)
		cancel()
	}
	if s.cfg.People == nil {
		return opts, func() {}
	}
	nctx, cancel := context.WithTimeout(ctx, postmortemNamesTimeout)
	opts.Names = s.cfg.People.Names(nctx)
	return opts, cancel
}

// postmortemDownload answers with the draft in format, as a file.
func (s *Site) postmortemDownload(w http.ResponseWriter, r *http.Request, n uint64, doc postmortem.Doc, format string) {
	body, contentType, err := postmortem.Render(doc, format)
	if err != nil {
		s.internal(w, r, fmt.Errorf("render %s post-mortem as %s: %w", incident.ID(n), format, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+strings.ToLower(incident.ID(n))+`-postmortem.`+format+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if format == postmortem.FormatHTML {
		// The draft's own policy replaces the site's: its styles are
		// inline, and it loads nothing. No page may frame it.
		h.Set("Content-Security-Policy", postmortem.ContentSecurityPolicy+"; frame-ancestors 'none'")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client went away; nothing to do
}

// pmFindings gives each finding the section of md its line stands in:
// the last "## " heading above it.
func pmFindings(md string, fs []postmortem.Finding) []pmFinding {
	out := make([]pmFinding, 0, len(fs))
	if len(fs) == 0 {
		return out
	}
	// sections[i] is the heading line i+1 stands under.
	var sections []string
	current := ""
	for line := range strings.SplitSeq(md, "\n") {
		if h, ok := strings.CutPrefix(line, "## "); ok {
			current = strings.TrimSpace(h)
		} else if strings.HasPrefix(line, "# ") && current == "" {
			current = "Title"
		}
		sections = append(sections, current)
	}
	for _, f := range fs {
		pf := pmFinding{Finding: f}
		pf.Text = findingText(f)
		if f.Line >= 1 && f.Line <= len(sections) {
			pf.Section = sections[f.Line-1]
		}
		out = append(out, pf)
	}
	return out
}

// findingText is the text a finding quotes, without the Markdown table
// around it: a timeline row quotes only the cell the phrase is in.
func findingText(f postmortem.Finding) string {
	if !strings.HasPrefix(f.Text, "|") {
		return f.Text
	}
	phrase := strings.ToLower(f.Phrase)
	for cell := range strings.SplitSeq(strings.Trim(f.Text, "| "), " | ") {
		if strings.Contains(strings.ToLower(cell), phrase) {
			return strings.TrimSpace(cell)
		}
	}
	return f.Text
}
