package slo

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// FreezeStatus answers "may this service deploy?" under the error-budget
// policy: it may not while the budget of any of its SLOs over the period
// is spent. It is the body of GET /api/v1/freeze.
type FreezeStatus struct {
	Service string `json:"service"`
	Frozen  bool   `json:"frozen"`
	// BudgetRemaining is the smallest share of budget left among the
	// service's SLOs; nil when none has data.
	BudgetRemaining *float64 `json:"budget_remaining"`
	// Since is when the freeze started; nil when not frozen.
	Since *time.Time `json:"since"`
	// EvaluatedAt is the instant the status was measured at: a client
	// decides how old is too old.
	EvaluatedAt time.Time `json:"evaluated_at"`
}

// ServiceFreeze works out a service's freeze from the latest report and the
// stored states: the states say when a freeze started (Track keeps them),
// the report has the freshest budgets. An SLO without a state yet counts
// from the report alone. ok is false when neither knows the service.
func ServiceFreeze(service string, report Report, states []State) (FreezeStatus, bool) {
	fs := FreezeStatus{Service: service}
	found := false
	tracked := map[string]State{}
	for _, st := range states {
		if st.Service != service {
			continue
		}
		found = true
		tracked[st.SLO] = st
		if st.Frozen {
			fs.freezeSince(st.FrozenSince)
		}
		if st.BudgetRemaining != nil {
			fs.lowerBudget(*st.BudgetRemaining)
		}
		if st.EvaluatedAt.After(fs.EvaluatedAt) {
			fs.EvaluatedAt = st.EvaluatedAt
		}
	}
	var fresh *float64
	for _, r := range report.Service(service) {
		found = true
		if r.Level == LevelError {
			continue
		}
		fs.EvaluatedAt = report.At
		if _, ok := tracked[r.SLO]; !ok && r.Exhausted() {
			fs.freezeSince(report.At)
		}
		if known(r.BudgetRemaining) && (fresh == nil || r.BudgetRemaining < *fresh) {
			b := r.BudgetRemaining
			fresh = &b
		}
	}
	if fresh != nil {
		fs.BudgetRemaining = fresh
	}
	return fs, found
}

func (fs *FreezeStatus) freezeSince(t time.Time) {
	fs.Frozen = true
	if fs.Since == nil || t.Before(*fs.Since) {
		fs.Since = &t
	}
}

func (fs *FreezeStatus) lowerBudget(b float64) {
	if fs.BudgetRemaining == nil || b < *fs.BudgetRemaining {
		fs.BudgetRemaining = &b
	}
}

// FreezeLookup finds a service's freeze status; ok is false for a service
// without SLOs. prom.Monitor.Freeze is one.
type FreezeLookup func(ctx context.Context, service string) (fs FreezeStatus, ok bool, err error)

// FreezeHandler serves GET /api/v1/freeze?service=NAME: 200 with a
// FreezeStatus, 400 without a service, 404 for a service without SLOs. It
// does no authentication; mount it behind the API's bearer token.
func FreezeHandler(lookup FreezeLookup) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET /api/v1/freeze?service=NAME")
			return
		}
		service := strings.TrimSpace(r.URL.Query().Get("service"))
		if service == "" {
			writeError(w, http.StatusBadRequest, "name the service: GET /api/v1/freeze?service=NAME")
			return
		}
		fs, ok, err := lookup(r.Context(), service)
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "freeze status unavailable: "+err.Error())
			return
		case !ok:
			writeError(w, http.StatusNotFound, "no SLO names the service "+service+"; check the service: field of your SLO files")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, fs)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the shape of the rest of /api/v1.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"ok": false, "error": msg})
}
