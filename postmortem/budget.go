package postmortem

import (
	"context"
	"log/slog"

	"github.com/ooda-sre/ooda/incident"
)

// BudgetLookup finds the error budget an incident spent, for its
// post-mortem draft: nil with a nil error when no SLO of its service
// knows. jobs.IncidentBudget.Lookup is one.
type BudgetLookup func(ctx context.Context, inc incident.Incident) (*BudgetSpent, error)

// LookupBudget is the budget incident n spent for its draft, or nil when
// unknown; a failed lookup is logged and leaves it unknown.
func LookupBudget(ctx context.Context, inc incident.Incident, budget BudgetLookup) *BudgetSpent {
	b, err := budget(ctx, inc)
	if err != nil {
		slog.WarnContext(ctx, "post-mortem draft without its error budget", "incident", inc.ID, "err", err)
		return nil
	}
	return b
}
