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

// ChartLookup draws the chart of an incident's window for its HTML
// draft, as SVG (see Options.Chart): nil with a nil error when no SLO of
// its service knows.
type ChartLookup func(ctx context.Context, inc incident.Incident) ([]byte, error)

// LookupChart is the chart of incident inc's window for its draft, or nil
// when there is none; a failed lookup is logged and leaves it out.
func LookupChart(ctx context.Context, inc incident.Incident, chart ChartLookup) []byte {
	svg, err := chart(ctx, inc)
	if err != nil {
		slog.WarnContext(ctx, "post-mortem draft without its chart", "incident", inc.ID, "err", err)
		return nil
	}
	return svg
}
