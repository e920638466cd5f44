package prom_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// rampAnswer answers every query with an error ratio that grows by 0.001
// an hour after t0, none at all in the hour from t0+2h, and NaN (0/0) at
// t0+4h.
func rampAnswer(query string, ts time.Time) (model.Value, error) {
	h := ts.Sub(t0).Hours()
	switch {
	case h >= 2 && h < 3:
		return model.Vector{}, nil
	case h == 4:
		return model.Vector{{Value: model.SampleValue(math.NaN()), Timestamp: model.TimeFromUnixNano(ts.UnixNano())}}, nil
	}
	return model.Vector{{Value: model.SampleValue(0.001 * h), Timestamp: model.TimeFromUnixNano(ts.UnixNano())}}, nil
}

func TestErrorRatioRange(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	api := &slotest.API{Answer: rampAnswer}
	ev := newEvaluator(t, api, slos)

	got, err := ev.ErrorRatioRange(t.Context(), slos[0], 5*time.Minute, t0, t0.Add(6*time.Hour), time.Hour)
	require.NoError(t, err)
	require.Len(t, got, 7, "one sample per step, both ends included")
	for i, s := range got {
		assert.Equal(t, t0.Add(time.Duration(i)*time.Hour), s.T, "sample %d", i)
		switch i {
		case 2, 4:
			assert.True(t, math.IsNaN(s.V), "step %d has no data: a gap, never 0", i)
		default:
			assert.InDelta(t, 0.001*float64(i), s.V, 1e-12, "step %d", i)
		}
	}
	assert.Equal(t, 1, api.Calls(), "one range query")
}

func TestBudgetRange(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability")) // 99.9 %: a budget of 0.001
	var asked []string
	api := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		asked = append(asked, q)
		return rampAnswer(q, ts)
	}}
	ev := newEvaluator(t, api, slos)

	got, err := ev.BudgetRange(t.Context(), slos[0], t0, t0.Add(time.Hour), 30*time.Minute)
	require.NoError(t, err)
	require.Len(t, got, 3)
	assert.InDelta(t, 1.0, got[0].V, 1e-9, "no errors: the whole budget left")
	assert.InDelta(t, 0.5, got[1].V, 1e-9, "half the budget's ratio: half left")
	assert.InDelta(t, 0.0, got[2].V, 1e-9, "the ratio at the budget: none left")
	require.NotEmpty(t, asked)
	assert.Contains(t, asked[0], "[30d]", "the budget is measured over the period")
}

func TestRangeFailures(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	tests := []struct {
		name    string
		answer  slotest.Answer
		badData bool
	}{
		{"two series", func(string, time.Time) (model.Value, error) {
			return model.Vector{
				{Metric: model.Metric{"code": "500"}, Value: 0.1},
				{Metric: model.Metric{"code": "503"}, Value: 0.2},
			}, nil
		}, true},
		{"refused", func(string, time.Time) (model.Value, error) {
			return nil, &promv1.Error{Type: promv1.ErrBadData, Msg: "parse error"}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := newEvaluator(t, &slotest.API{Answer: tt.answer}, slos)
			_, err := ev.ErrorRatioRange(t.Context(), slos[0], time.Hour, t0, t0.Add(time.Hour), time.Minute)
			require.Error(t, err)
			assert.Equal(t, tt.badData, errors.Is(err, slo.ErrBadQuery), "err: %v", err)
		})
	}
}

func TestRangeDownPrometheus(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	f := newFlakyPrometheus(t, rampAnswer)
	f.mode.Store("500")
	g := newGuard(t, func(p *resilience.Policy) { p.MaxAttempts = 1 })
	api, err := prom.NewPrometheusAPI(f.srv.URL, g)
	require.NoError(t, err)
	ev := newEvaluator(t, api, slos, func(c *prom.Config) { c.Guard = g })

	_, err = ev.ErrorRatioRange(t.Context(), slos[0], time.Hour, t0, t0.Add(time.Hour), time.Minute)
	require.Error(t, err)
	assert.False(t, errors.Is(err, slo.ErrBadQuery), "an outage is not the SLO's fault: %v", err)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = ev.ErrorRatioRange(ctx, slos[0], time.Hour, t0, t0.Add(time.Hour), time.Minute)
	require.ErrorIs(t, err, context.Canceled)
}

func TestWindowsOf(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	ev := newEvaluator(t, &slotest.API{Answer: rampAnswer}, slos)
	assert.Equal(t, slo.DefaultWindows(slo.DefaultPeriod), ev.WindowsOf(slos[0]))
	own := slos[0]
	own.Period = 7 * slo.Day
	assert.Equal(t, slo.DefaultWindows(7*slo.Day), ev.WindowsOf(own))
}

func TestCharts(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	api := &slotest.API{Answer: rampAnswer}
	ev := newEvaluator(t, api, slos)
	now := t0.Add(6*time.Hour + 30*time.Second)

	lines, err := ev.Charts(t.Context(), slos[0].ID, now)
	require.NoError(t, err)
	require.Len(t, lines, 3, "6 hours, 3 days, the budget")
	assert.Equal(t, 3, api.Calls(), "one range query per chart")
	assert.Equal(t, t0.Add(6*time.Hour), lines[0].To, "now rounded down to the step")
	assert.Equal(t, prom.RecentSpan, lines[0].To.Sub(lines[0].From))
	assert.Equal(t, prom.DaysSpan, lines[1].To.Sub(lines[1].From))
	assert.Equal(t, slo.DefaultPeriod, lines[2].To.Sub(lines[2].From))
	require.Len(t, lines[0].Thresholds, 2)
	assert.InDelta(t, 0.006, lines[0].Thresholds[0].Value, 1e-12, "page: 6× a budget of 0.001")
	assert.InDelta(t, 0.001, lines[0].Thresholds[1].Value, 1e-12, "ticket: 1× the budget")
	for _, l := range lines {
		assert.True(t, l.Percent)
		_, err := l.SVG()
		require.NoError(t, err, l.Title)
	}

	_, err = ev.Charts(t.Context(), "checkout/nope", now)
	require.ErrorIs(t, err, slo.ErrUnknownService)
}

func TestServiceChart(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency"))
	api := &slotest.API{Answer: rampAnswer}
	ev := newEvaluator(t, api, slos)

	line, err := ev.ServiceChart(t.Context(), "checkout", t0.Add(time.Hour), t0.Add(3*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 2, api.Calls(), "one range query per SLO of the service")
	assert.Equal(t, t0, line.From, "an hour before the incident")
	assert.False(t, line.To.Before(t0.Add(3*time.Hour)), "to its end")
	require.Len(t, line.Series, 1)
	assert.Len(t, line.Thresholds, 2)

	_, err = ev.ServiceChart(t.Context(), "search", t0, t0.Add(time.Hour))
	require.ErrorIs(t, err, slo.ErrUnknownService)

	empty := newEvaluator(t, &slotest.API{Answer: func(string, time.Time) (model.Value, error) { return model.Vector{}, nil }}, slos)
	_, err = empty.ServiceChart(t.Context(), "checkout", t0, t0.Add(time.Hour))
	require.ErrorIs(t, err, slo.ErrNoData)
}

// TestRangeOverHTTP: the range query through the real client, against
// slotest's HTTP stand-in, reads what the in-process fake gives.
func TestRangeOverHTTP(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	srv := slotest.NewServer(t, rampAnswer)
	g := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(srv.URL, g)
	require.NoError(t, err)
	ev := newEvaluator(t, api, slos, func(c *prom.Config) { c.Guard = g })
	overHTTP, err := ev.ErrorRatioRange(t.Context(), slos[0], 5*time.Minute, t0, t0.Add(6*time.Hour), time.Hour)
	require.NoError(t, err)
	inProcess, err := newEvaluator(t, &slotest.API{Answer: rampAnswer}, slos).ErrorRatioRange(t.Context(), slos[0], 5*time.Minute, t0, t0.Add(6*time.Hour), time.Hour)
	require.NoError(t, err)
	require.Len(t, overHTTP, len(inProcess))
	for i := range inProcess {
		assert.True(t, inProcess[i].T.Equal(overHTTP[i].T), "step %d", i)
		if math.IsNaN(inProcess[i].V) {
			assert.True(t, math.IsNaN(overHTTP[i].V), "step %d", i)
		} else {
			assert.InDelta(t, inProcess[i].V, overHTTP[i].V, 1e-12, "step %d", i)
		}
	}
}
