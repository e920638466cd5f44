package slo_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

func ptr[T any](v T) *T { return &v }

func TestServiceFreeze(t *testing.T) {
	report := slo.Report{At: t0, Results: []slo.Result{
		{SLO: "checkout/availability", Service: "checkout", Level: slo.LevelTicket, BudgetRemaining: -0.2},
		{SLO: "checkout/latency", Service: "checkout", Level: slo.LevelOK, BudgetRemaining: 0.7},
		{SLO: "search/availability", Service: "search", Level: slo.LevelOK, BudgetRemaining: 0.9},
		{SLO: "billing/availability", Service: "billing", Level: slo.LevelNoData, BudgetRemaining: math.NaN()},
	}}
	frozeAt := t0.Add(-2 * time.Hour)
	states := []slo.State{
		{SLO: "checkout/availability", Service: "checkout", Frozen: true, FrozenSince: frozeAt, BudgetRemaining: ptr(-0.1), EvaluatedAt: t0},
		{SLO: "search/availability", Service: "search", BudgetRemaining: ptr(0.9), EvaluatedAt: t0},
		{SLO: "billing/availability", Service: "billing", BudgetRemaining: ptr(0.4), EvaluatedAt: t0.Add(-time.Minute)},
		{SLO: "legacy/availability", Service: "legacy", Frozen: true, FrozenSince: frozeAt, EvaluatedAt: t0.Add(-time.Hour)},
	}
	tests := []struct {
		service string
		found   bool
		frozen  bool
		since   *time.Time
		budget  *float64
		at      time.Time
	}{
		{"checkout", true, true, &frozeAt, ptr(-0.2), t0},
		{"search", true, false, nil, ptr(0.9), t0},
		{"billing", true, false, nil, ptr(0.4), t0},               // no data now: the stored budget stands
		{"legacy", true, true, &frozeAt, nil, t0.Add(-time.Hour)}, // only the store knows it
		{"payments", false, false, nil, nil, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			fs, ok := slo.ServiceFreeze(tt.service, report, states)
			require.Equal(t, tt.found, ok)
			if !ok {
				return
			}
			assert.Equal(t, tt.service, fs.Service)
			assert.Equal(t, tt.frozen, fs.Frozen)
			assert.Equal(t, tt.since, fs.Since)
			if tt.budget == nil {
				assert.Nil(t, fs.BudgetRemaining)
			} else {
				require.NotNil(t, fs.BudgetRemaining)
				assert.InDelta(t, *tt.budget, *fs.BudgetRemaining, 1e-12)
			}
			assert.Equal(t, tt.at, fs.EvaluatedAt)
		})
	}

	// An SLO spent before its first tracked state freezes from the report.
	fs, ok := slo.ServiceFreeze("checkout", report, nil)
	require.True(t, ok)
	assert.True(t, fs.Frozen)
	assert.Equal(t, &t0, fs.Since)
}
