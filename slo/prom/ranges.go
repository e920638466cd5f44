package prom

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
)

// DefaultRangeTimeout bounds one range query, retries included, when the
// caller's context gives it longer: a chart is worth less than an answer.
const DefaultRangeTimeout = 10 * time.Second

// Sample is one value of a series over time. V is NaN where Prometheus had
// nothing for that step, so a gap in the data reads as a gap.
type Sample struct {
	T time.Time
	V float64
}

var opQueryRange = resilience.Op{Method: "query_range", Idempotent: true}

// ErrorRatioRange is s's error ratio measured over window d at every step
// from from to to (Prometheus aligns nothing: the first sample is at
// from): one range query of slo.RatioQuery, through the guard and the
// evaluator's bulkhead. Every step has a sample; a step without data has
// NaN. The error matches slo.ErrBadQuery when Prometheus refused the
// query or returned more than one series.
func (e *Evaluator) ErrorRatioRange(ctx context.Context, s slo.SLO, d time.Duration, from, to time.Time, step time.Duration) ([]Sample, error) {
	q, err := slo.RatioQuery(s, d)
	if err != nil {
		return nil, fmt.Errorf("error ratio of %s over %s: %w", s.ID, slo.FormatWindow(d), err)
	}
	out, err := e.queryRange(ctx, s, q, from, to, step)
	if err != nil {
		return nil, fmt.Errorf("error ratio of %s over %s: %w", s.ID, slo.FormatWindow(d), err)
	}
	return out, nil
}

// BudgetRange is the share of s's error budget left over its period at
// every step from from to to: 1 − (error ratio over the period ending at
// that step) / (1 − objective), slo.BudgetRemaining at each step. It is
// ErrorRatioRange over the period, and as costly: Prometheus reads a whole
// period of data per step, so keep the steps few (a hundred or so).
func (e *Evaluator) BudgetRange(ctx context.Context, s slo.SLO, from, to time.Time, step time.Duration) ([]Sample, error) {
	period := e.WindowsOf(s).Period
	out, err := e.ErrorRatioRange(ctx, s, period, from, to, step)
	if err != nil {
		return nil, fmt.Errorf("budget: %w", err)
	}
	budget := s.ErrorBudget()
	for i := range out {
		out[i].V = slo.BudgetRemaining(out[i].V, budget)
	}
	return out, nil
}

// WindowsOf returns the alert windows s is measured over: those of its
// own period when its file gives one, the configured ones otherwise.
func (e *Evaluator) WindowsOf(s slo.SLO) slo.Windows {
	return e.withWindows([]slo.SLO{s})[0].windows
}

// queryRange runs one range query through the guard and reads its one
// series onto the steps.
func (e *Evaluator) queryRange(ctx context.Context, s slo.SLO, q string, from, to time.Time, step time.Duration) ([]Sample, error) {
	if step <= 0 || !to.After(from) {
		return nil, fmt.Errorf("the range %s to %s by %v is empty", from.Format(time.RFC3339), to.Format(time.RFC3339), step)
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultRangeTimeout)
	defer cancel()
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-e.sem }()
	r := promv1.Range{Start: from, End: to, Step: step}
	var v model.Value
	err := e.cfg.Guard.Do(ctx, opQueryRange, func(ctx context.Context) error {
		var warns promv1.Warnings
		var err error
		v, warns, _, err = e.cfg.API.QueryRange(ctx, q, r)
		if len(warns) > 0 {
			e.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "prometheus warned",
				slog.String("slo", s.ID), slog.Any("warnings", []string(warns)))
		}
		return err
	})
	if err != nil {
		if msg, bad := refusedQuery(err); bad {
			return nil, fmt.Errorf("%w: Prometheus refused its query as invalid (%s); correct the query in %s", slo.ErrBadQuery, msg, s.File)
		}
		return nil, err
	}
	out, err := readSeries(v, from, to, step)
	if err != nil {
		return nil, fmt.Errorf("%w: %w; correct the query in %s", slo.ErrBadQuery, err, s.File)
	}
	return out, nil
}

// readSeries puts the one ratio series of a range query's matrix onto
// every step from from to to, NaN where it has no value.
func readSeries(v model.Value, from, to time.Time, step time.Duration) ([]Sample, error) {
	m, ok := v.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("the query returned a %s; want a range vector", typeName(v))
	}
	var series *model.SampleStream
	for _, ss := range m {
		if ss.Metric[slo.SeriesLabel] == slo.SeriesRequests {
			continue
		}
		if series != nil {
			return nil, fmt.Errorf("the error ratio came back as %d series; it must be one: aggregate the query with sum() or max()", len(m))
		}
		series = ss
	}
	n := int(to.Sub(from)/step) + 1
	out := make([]Sample, n)
	for i := range out {
		out[i] = Sample{T: from.Add(time.Duration(i) * step), V: math.NaN()}
	}
	if series == nil {
		return out, nil
	}
	for _, p := range series.Values {
		t := p.Timestamp.Time()
		i := int((t.Sub(from) + step/2) / step)
		if i < 0 || i >= n {
			continue
		}
		if f := float64(p.Value); known(f) && f >= 0 {
			out[i].V = f
		}
	}
	return out, nil
}
