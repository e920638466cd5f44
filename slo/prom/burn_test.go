package prom_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// The worked examples of issue 6, for a 99.9 % SLO over 30 days, evaluated
// through the evaluator against a fake Prometheus.
func TestWorkedVectors(t *testing.T) {
	tests := []struct {
		name      string
		answer    slotest.Windows
		level     slo.Level
		alert     string
		burnOf    string
		burn      float64
		budget    float64 // NaN: do not check
		exhausted bool
	}{
		{
			name:   "1h and 5m at 1.5 % page through the fast pair",
			answer: windows(0.0002, map[string]float64{"1h": 0.015, "5m": 0.015}),
			level:  slo.LevelPage, alert: "page-quick", burnOf: "1h", burn: 15,
			budget: math.NaN(),
		},
		{
			name:   "1h at 2 % but 5m at 0.5 % does not page fast: the problem is over",
			answer: windows(0.0002, map[string]float64{"1h": 0.02, "5m": 0.005}),
			level:  slo.LevelOK, burnOf: "1h", burn: 20,
			budget: math.NaN(),
		},
		{
			name:   "6h and 30m at 0.7 % page through the slow pair only",
			answer: windows(0.0002, map[string]float64{"6h": 0.007, "30m": 0.007, "1h": 0.007, "5m": 0.007}),
			level:  slo.LevelPage, alert: "page-slow", burnOf: "6h", burn: 7,
			budget: math.NaN(),
		},
		{
			name:   "3d, 6h, 1d and 2h at 0.2 % give a ticket",
			answer: windows(0.002, map[string]float64{"30d": 0.0002}),
			level:  slo.LevelTicket, alert: "ticket-slow", burnOf: "3d", burn: 2,
			budget: math.NaN(),
		},
		{
			name:   "400 errors in 1,000,000 requests leave 60 % of the budget",
			answer: windows(0.0002, map[string]float64{"30d": 400.0 / 1_000_000}),
			level:  slo.LevelOK, burnOf: "30d", burn: 0.4,
			budget: 0.6,
		},
		{
			name:   "1,000 errors in 1,000,000 requests spend the budget",
			answer: windows(0.0002, map[string]float64{"30d": 1000.0 / 1_000_000}),
			level:  slo.LevelOK, burnOf: "30d", burn: 1,
			budget: 0, exhausted: true,
		},
	}
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := newEvaluator(t, &slotest.API{Answer: tt.answer.Answer}, slos)
			rep, err := ev.Evaluate(t.Context(), t0)
			require.NoError(t, err)
			require.Len(t, rep.Results, 1)
			r := rep.Results[0]
			require.NoError(t, r.Err)
			assert.Equal(t, "checkout/availability", r.SLO)
			assert.Equal(t, tt.level, r.Level)
			assert.Equal(t, tt.alert, r.Alert.Name)
			wb, ok := r.Window(window(t, tt.burnOf))
			require.True(t, ok, "window %s measured", tt.burnOf)
			assert.InDelta(t, tt.burn, wb.Burn, 1e-6)
			if !math.IsNaN(tt.budget) {
				assert.InDelta(t, tt.budget, r.BudgetRemaining, 1e-9)
			}
			assert.Equal(t, tt.exhausted, r.Exhausted())

			// The freeze the budget implies, as the monitor tracks it.
			st, n := slo.Track(slo.State{Level: tt.level}, r, t0, time.Hour)
			assert.Equal(t, tt.exhausted, st.Frozen)
			if tt.exhausted {
				require.NotNil(t, n)
				assert.Equal(t, slo.FreezeStarted, n.Freeze)
			}
		})
	}
}

func TestEvaluateReportsExhaustionAtTheCurrentBurn(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	ans := windows(0.0002, map[string]float64{"1h": 0.015, "5m": 0.015, "30d": 0.0004})
	ev := newEvaluator(t, &slotest.API{Answer: ans.Answer}, slos)
	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)
	r := rep.Results[0]
	require.True(t, r.Exhausts)
	assert.InDelta(t, 15, r.Burn, 1e-6, "the 1h burn")
	assert.InDelta(t, 28.8, r.ExhaustsIn.Hours(), 1e-6)

	// Without a 1h measurement the longest window with data stands in.
	delete(ans, "1h")
	rep, err = newEvaluator(t, &slotest.API{Answer: ans.Answer}, slos).Evaluate(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, slo.LevelNoData, rep.Results[0].Level)
	assert.InDelta(t, 0.4, rep.Results[0].Burn, 1e-6, "the 30d burn")
}
