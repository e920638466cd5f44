package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/ooda-sre/ooda/api/web"
	"github.com/ooda-sre/ooda/bot/signals"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
)

// The charts of the SLOs outside the SLO page, which the monitor serves
// itself (web.Config.SLOs): the chart a page-level warning's thread gets
// in Slack, and the chart of an incident's window in its HTML
// post-mortem. Both come from Prometheus through its guard, and both are
// left out, never waited for, when it cannot give them.

// sloChartPNG draws the chart of a page-level SLO warning: the SLO's error
// ratio over the 6 hours up to the notice, as PNG (signals.ChartPNG).
func (a *App) sloChartPNG(ctx context.Context, n slo.Notice) ([]byte, error) {
	if a.evaluator == nil {
		return nil, errors.New("no SLO evaluator")
	}
	for _, s := range a.evaluator.SLOs() {
		if s.ID != n.SLO {
			continue
		}
		line, err := a.evaluator.RecentChart(ctx, s, n.At)
		if err != nil {
			return nil, err
		}
		return line.PNG()
	}
	return nil, fmt.Errorf("chart of %s: %w", n.SLO, slo.ErrUnknownService)
}

var (
	_ signals.ChartPNG       = (*App)(nil).sloChartPNG
	_ postmortem.ChartLookup = (*App)(nil).postmortemChart
	_ web.SLOSource          = (*prom.Monitor)(nil)
)

// chartFiles is what uploads the SLO warnings' charts: the Slack client,
// or nil while Slack is off (a nil *slack.Client in the interface would
// not be nil).
func (a *App) chartFiles() signals.ChartUploader {
	if a.client == nil {
		return nil
	}
	return a.client
}

// postmortemChart draws the chart of inc's window for its HTML
// post-mortem, as SVG: the error ratio of its service's SLO that burnt
// fastest, from an hour before it was declared to its resolution (now
// while open). Nil, with no error, when its service has no SLO or no
// data (postmortem.ChartLookup).
func (a *App) postmortemChart(ctx context.Context, inc incident.Incident) ([]byte, error) {
	if a.evaluator == nil || inc.Service == "" || inc.DeclaredAt.IsZero() {
		return nil, nil
	}
	to := inc.ResolvedAt
	if to.IsZero() || !to.After(inc.DeclaredAt) {
		to = clock(a.opts.Now)()
	}
	line, err := a.evaluator.ServiceChart(ctx, inc.Service, inc.DeclaredAt, to)
	switch {
	case errors.Is(err, slo.ErrUnknownService), errors.Is(err, slo.ErrNoData):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("chart of %s: %w", inc.ID, err)
	}
	return line.SVG()
}
