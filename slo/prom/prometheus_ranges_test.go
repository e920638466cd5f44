package prom_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo/prom"
)

// TestRealPrometheusRanges: the charts' range queries read what a real
// Prometheus stores, step by step.
func TestRealPrometheusRanges(t *testing.T) {
	server := startHistory(t)
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(server.URL, guard)
	require.NoError(t, err)
	slos := historySLOs(t)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Now: func() time.Time { return historyEnd }})
	require.NoError(t, err)
	checkout := slos[0]
	require.Equal(t, "checkout", checkout.Service)

	ratios, err := ev.ErrorRatioRange(t.Context(), checkout, 5*time.Minute, historyEnd.Add(-3*time.Hour), historyEnd, 15*time.Minute)
	require.NoError(t, err)
	require.Len(t, ratios, 13)
	assert.InDelta(t, 0.0005, ratios[0].V, 0.0002, "before the incident")
	assert.InDelta(t, 0.02, ratios[12].V, 0.002, "during it")

	budget, err := ev.BudgetRange(t.Context(), checkout, historyEnd.Add(-2*time.Hour), historyEnd, time.Hour)
	require.NoError(t, err)
	require.Len(t, budget, 3)
	assert.InDelta(t, 0.297, budget[2].V, 0.01, "as the evaluation says at the end")
	assert.Greater(t, budget[1].V, budget[2].V, "the incident's hour spent budget")

	before, err := ev.ErrorRatioRange(t.Context(), checkout, 5*time.Minute, historyStart.Add(-2*time.Hour), historyStart.Add(-time.Hour), 30*time.Minute)
	require.NoError(t, err)
	for _, s := range before {
		assert.True(t, math.IsNaN(s.V), "no data before the history: a gap, not 0")
	}

	lines, err := ev.Charts(t.Context(), checkout.ID, historyEnd)
	require.NoError(t, err)
	for _, l := range lines {
		svg, err := l.SVG()
		require.NoError(t, err)
		assert.Contains(t, string(svg), `role="img"`)
	}
}
