package slo

import (
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
		if r.Level.Failed() {
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
