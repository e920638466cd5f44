package jobs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/timeline"
)

// BudgetSpender measures the budget a service's SLOs spent between two
// instants. *prom.Evaluator is one.
type BudgetSpender interface {
	ServiceBudgetSpent(ctx context.Context, service string, from, to time.Time) (slo.Spent, error)
}

// DefaultBudgetTimeout bounds one budget lookup: it asks Prometheus, and
// a draft without the figure is better than a draft that does not come.
const DefaultBudgetTimeout = 10 * time.Second

// IncidentBudget measures the error budget incidents spent, over their
// own span: from the declaration to the resolution, or to now while the
// incident is open. An incident that alone spent more than
// slo.PostmortemBudgetShare of a budget needs a post-mortem (the
// Workbook's error-budget policy).
type IncidentBudget struct {
	SLOs BudgetSpender
	// Now ends the span of an open incident; nil means time.Now.
	Now func() time.Time
	// Timeout bounds one lookup; 0 means DefaultBudgetTimeout.
	Timeout time.Duration
}

// Spent is the budget inc spent for the SLO of its service it hurt most.
// ok is false when that is unknown: no service, no SLO for it, no data.
func (b IncidentBudget) Spent(ctx context.Context, inc incident.Incident) (spent slo.Spent, ok bool, err error) {
	if b.SLOs == nil || inc.Service == "" || inc.DeclaredAt.IsZero() {
		return slo.Spent{}, false, nil
	}
	to := inc.ResolvedAt
	if to.IsZero() || !to.After(inc.DeclaredAt) {
		now := time.Now
		if b.Now != nil {
			now = b.Now
		}
		to = now()
	}
	timeout := b.Timeout
	if timeout <= 0 {
		timeout = DefaultBudgetTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	spent, err = b.SLOs.ServiceBudgetSpent(ctx, inc.Service, inc.DeclaredAt, to)
	switch {
	case errors.Is(err, slo.ErrUnknownService), errors.Is(err, slo.ErrNoData):
		return slo.Spent{}, false, nil
	case err != nil:
		return slo.Spent{}, false, fmt.Errorf("budget spent by %s: %w", inc.ID, err)
	}
	return spent, true, nil
}

// NeedsPostmortem reports whether inc alone spent more than
// slo.PostmortemBudgetShare of one of its service's error budgets, and
// what it spent. The post-mortem path calls it to hold such an incident
// to a post-mortem whatever its severity.
func (b IncidentBudget) NeedsPostmortem(ctx context.Context, inc incident.Incident) (bool, slo.Spent, error) {
	spent, ok, err := b.Spent(ctx, inc)
	if err != nil || !ok {
		return false, spent, err
	}
	return spent.NeedsPostmortem(), spent, nil
}

// Lookup is a postmortem.BudgetLookup: the budget for postmortem.Options.Budget.
func (b IncidentBudget) Lookup(ctx context.Context, inc incident.Incident) (*postmortem.BudgetSpent, error) {
	spent, ok, err := b.Spent(ctx, inc)
	if err != nil || !ok {
		return nil, err
	}
	return &postmortem.BudgetSpent{SLO: spent.SLO, Spent: spent.Share}, nil
}

// MarkPostmortem records in inc's timeline, once, that it needs a
// post-mortem because it spent over slo.PostmortemBudgetShare of a
// budget. It reports whether it does; nothing is recorded otherwise.
func (b IncidentBudget) MarkPostmortem(ctx context.Context, store incident.Store, inc incident.Incident, committed func()) (bool, error) {
	need, spent, err := b.NeedsPostmortem(ctx, inc)
	if err != nil || !need {
		return false, err
	}
	key := "slo:postmortem:" + inc.ID + ":" + spent.SLO
	text := fmt.Sprintf("This incident alone spent %s of the error budget of SLO %s, over the %s the error-budget policy allows without a post-mortem: a post-mortem is required.",
		slo.FormatBudget(spent.Share), spent.SLO, slo.FormatBudget(slo.PostmortemBudgetShare))
	m := incident.Meta{At: time.Now().UTC(), Actor: incident.Bot, Source: timeline.SourceSLO, Key: key}
	if b.Now != nil {
		m.At = b.Now().UTC()
	}
	res, err := store.Apply(ctx, inc.Number, key, func(i *incident.Incident) (incident.Change, error) {
		return i.BudgetBreached(text, map[string]string{
			"slo": spent.SLO, "share": strconv.FormatFloat(spent.Share, 'f', 4, 64),
		}, m)
	})
	if err != nil {
		return true, fmt.Errorf("mark %s as needing a post-mortem: %w", inc.ID, err)
	}
	if !res.Duplicate && len(res.Effects) > 0 && committed != nil {
		committed()
	}
	return true, nil
}

// BudgetCheckWindow is how long after its resolution an incident's budget
// is measured, every tick: long enough to outlast a Prometheus restart or
// an Ooda redeploy, short enough that ticks do not query every incident
// ever resolved.
const BudgetCheckWindow = time.Hour

// MarkBudgetBreaches measures the budget spent by each incident resolved in
// the last BudgetCheckWindow, and marks as needing a post-mortem those that
// alone spent more than the policy allows. The SLO job runs it every tick;
// an incident already marked, or one without a service, costs no query.
func (b IncidentBudget) MarkBudgetBreaches(ctx context.Context, store incident.Store, now time.Time, committed func()) (int, error) {
	incs, err := store.Incidents(ctx, true)
	if err != nil {
		return 0, err
	}
	marked := 0
	var errs []error
	for _, inc := range incs {
		if inc.Status != incident.StatusResolved || inc.Service == "" || inc.BudgetBreach ||
			now.Sub(inc.ResolvedAt) > BudgetCheckWindow || now.Before(inc.ResolvedAt) {
			continue
		}
		ok, err := b.MarkPostmortem(ctx, store, inc, committed)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			marked++
		}
	}
	return marked, errors.Join(errs...)
}
