package prom

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/slo"
)

// The spans of an SLO's charts: the last hours, where a page shows, and
// the last days, where a ticket does.
const (
	RecentSpan = 6 * time.Hour
	DaysSpan   = 3 * slo.Day
)

// The size of an SLO chart, in CSS pixels: a column of the SLO page, so
// that on a 390-pixel phone its text shrinks little (chart.Line.Width).
const (
	chartWidth  = 480
	chartHeight = 260
)

// chartSteps is about how many samples a chart's range query asks for: a
// point every two or three pixels of a chart.
const chartSteps = 180

// Charts are an SLO's charts, in this order: its error ratio over the last
// RecentSpan (measured over the fast page's short window, 5m for 30 days)
// and over the last DaysSpan (over the fast page's long window, 1h), each
// against the page and ticket thresholds, and the budget left over its
// period at each step of the last period (4h for 30 days). now is rounded down to the minute, so that charts
// drawn within a minute agree. One range query per chart, through the
// guard; the first failure is returned, with no charts. The error matches
// slo.ErrUnknownService when no watched SLO has the id.
func (e *Evaluator) Charts(ctx context.Context, id string, now time.Time) ([]chart.Line, error) {
	s, ok := e.watched(id)
	if !ok {
		return nil, fmt.Errorf("charts of %s: %w", id, slo.ErrUnknownService)
	}
	now = now.UTC().Truncate(time.Minute)
	recent, err := e.RecentChart(ctx, s, now)
	if err != nil {
		return nil, err
	}
	w := e.WindowsOf(s)
	days, err := e.ratioChart(ctx, s, w, w.PageQuick.Long, DaysSpan, now)
	if err != nil {
		return nil, err
	}
	budget, err := e.budgetChart(ctx, s, w, now)
	if err != nil {
		return nil, err
	}
	return []chart.Line{recent, days, budget}, nil
}

// RecentChart is the first of Charts: s's error ratio over the last
// RecentSpan against its page and ticket thresholds, what a page-level
// warning's thread shows.
func (e *Evaluator) RecentChart(ctx context.Context, s slo.SLO, now time.Time) (chart.Line, error) {
	w := e.WindowsOf(s)
	return e.ratioChart(ctx, s, w, w.PageQuick.Short, RecentSpan, now.UTC().Truncate(time.Minute))
}

// watched returns the watched SLO with id.
func (e *Evaluator) watched(id string) (slo.SLO, bool) {
	for _, s := range e.SLOs() {
		if s.ID == id {
			return s, true
		}
	}
	return slo.SLO{}, false
}

// ratioChart is s's error ratio measured over window d, over the span
// ending at now.
func (e *Evaluator) ratioChart(ctx context.Context, s slo.SLO, w slo.Windows, d, span time.Duration, now time.Time) (chart.Line, error) {
	step := chartStep(span)
	to := now.Truncate(step)
	from := to.Add(-span)
	samples, err := e.ErrorRatioRange(ctx, s, d, from, to, step)
	if err != nil {
		return chart.Line{}, err
	}
	return chart.Line{
		Title:      fmt.Sprintf("%s error ratio, last %s", s.ID, spanName(span)),
		YLabel:     "errors (" + slo.FormatWindow(d) + ")",
		Series:     []chart.Series{{Name: "error ratio over " + slo.FormatWindow(d), Points: points(samples)}},
		Thresholds: Thresholds(s, w),
		From:       from, To: to,
		Percent: true,
		Width:   chartWidth, Height: chartHeight,
	}, nil
}

// budgetChart is the share of s's budget left over its period, at each
// step of the period ending at now.
func (e *Evaluator) budgetChart(ctx context.Context, s slo.SLO, w slo.Windows, now time.Time) (chart.Line, error) {
	step := chartStep(w.Period)
	to := now.Truncate(step)
	from := to.Add(-w.Period)
	samples, err := e.BudgetRange(ctx, s, from, to, step)
	if err != nil {
		return chart.Line{}, err
	}
	// A budget is at most whole: the axis shows how much of it is left.
	whole := 1.0
	return chart.Line{
		YMax:       &whole,
		Title:      fmt.Sprintf("%s error budget left, last %s", s.ID, spanName(w.Period)),
		YLabel:     "budget left",
		Series:     []chart.Series{{Name: "budget left over " + slo.FormatWindow(w.Period), Points: points(samples)}},
		Thresholds: []chart.Threshold{{Name: "spent: deploys freeze", Value: 0}},
		From:       from, To: to,
		Percent: true,
		Width:   chartWidth, Height: chartHeight,
	}, nil
}

// Thresholds are the error ratios s's alerts fire above, as chart lines:
// the lowest page and the lowest ticket burn-rate thresholds (6× and 1× for
// 30 days) times the error budget. Above the page line for the page's
// long window, it pages; below the ticket line the budget lasts the
// period.
func Thresholds(s slo.SLO, w slo.Windows) []chart.Threshold {
	lowest := map[slo.Level]float64{slo.LevelPage: math.Inf(1), slo.LevelTicket: math.Inf(1)}
	for _, a := range w.Alerts() {
		lowest[a.Level] = min(lowest[a.Level], a.Threshold)
	}
	budget := s.ErrorBudget()
	var out []chart.Threshold
	for _, lvl := range []slo.Level{slo.LevelPage, slo.LevelTicket} {
		th := lowest[lvl]
		if math.IsInf(th, 0) || math.IsNaN(th) {
			continue
		}
		out = append(out, chart.Threshold{Name: fmt.Sprintf("%s (%s× burn)", lvl, formatBurn(th)), Value: th * budget})
	}
	return out
}

// formatBurn writes a burn rate as the Workbook does: 14.4, 6, 1.
func formatBurn(b float64) string {
	return fmt.Sprintf("%.3g", b)
}

// chartStep is the step of a chart over span: about chartSteps samples,
// in whole minutes.
func chartStep(span time.Duration) time.Duration {
	return max((span / chartSteps).Truncate(time.Minute), time.Minute)
}

// spanName writes a span for a title: 6 hours, 3 days.
func spanName(d time.Duration) string {
	switch {
	case d%slo.Day == 0 && d > slo.Day:
		return fmt.Sprintf("%d days", d/slo.Day)
	case d%time.Hour == 0 && d > time.Hour:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return slo.FormatWindow(d)
}

func points(samples []Sample) []chart.Point {
	out := make([]chart.Point, len(samples))
	for i, s := range samples {
		out[i] = chart.Point{T: s.T, V: s.V}
	}
	return out
}

// Charts is Evaluator.Charts, so that the monitor is all the SLO page
// needs.
func (m *Monitor) Charts(ctx context.Context, id string, now time.Time) ([]chart.Line, error) {
	return m.cfg.Evaluator.Charts(ctx, id, now)
}

// ServiceChart is the error ratio of service's SLOs from from to to (an
// incident's window), with an hour before it for context: the SLO that
// burnt fastest, against its page and ticket thresholds. Each point
// measures the fast page's short window (5m for 30 days), or the step
// when the window is so long that the step is longer. The error matches
// slo.ErrUnknownService when the service has no SLO, and slo.ErrNoData
// when none had data.
func (e *Evaluator) ServiceChart(ctx context.Context, service string, from, to time.Time) (chart.Line, error) {
	from = from.UTC().Add(-time.Hour).Truncate(time.Minute)
	to = to.UTC()
	step := chartStep(to.Sub(from))
	to = from.Add(to.Sub(from).Truncate(step) + step)
	var (
		best      chart.Line
		bestBurn  = -1.0
		found     bool
		firstFail error
	)
	for _, s := range e.SLOs() {
		if s.Service != service {
			continue
		}
		found = true
		w := e.WindowsOf(s)
		d := max(w.PageQuick.Short, step)
		samples, err := e.ErrorRatioRange(ctx, s, d, from, to, step)
		if err != nil {
			if firstFail == nil {
				firstFail = err
			}
			continue
		}
		peak := -1.0
		for _, p := range samples {
			if known(p.V) {
				peak = max(peak, p.V/s.ErrorBudget())
			}
		}
		if peak <= bestBurn {
			continue
		}
		bestBurn = peak
		best = chart.Line{
			Title:      fmt.Sprintf("%s error ratio, %s to %s UTC", s.ID, from.Format("2 Jan 15:04"), to.Format("2 Jan 15:04")),
			YLabel:     "errors (" + slo.FormatWindow(d) + ")",
			Series:     []chart.Series{{Name: "error ratio over " + slo.FormatWindow(d), Points: points(samples)}},
			Thresholds: Thresholds(s, w),
			From:       from, To: to,
			Percent: true,
			Width:   chartWidth, Height: chartHeight,
		}
	}
	switch {
	case !found:
		return chart.Line{}, fmt.Errorf("chart of %s: %w", service, slo.ErrUnknownService)
	case bestBurn < 0 && firstFail != nil:
		return chart.Line{}, fmt.Errorf("chart of %s: %w", service, firstFail)
	case bestBurn < 0:
		return chart.Line{}, fmt.Errorf("chart of %s: %w", service, slo.ErrNoData)
	}
	return best, nil
}
