package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

func sloState(id string, level slo.Level, budget float64) slo.State {
	b := budget
	return slo.State{
		SLO: id, Service: "checkout", Level: level, Since: t0, NotifiedAt: t0,
		BudgetRemaining: &b, EvaluatedAt: t0.Add(time.Minute),
	}
}

func testSLOStatesRoundTrip(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()

	got, err := db.SLOStates(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, ok, err := db.LoadSLOState(ctx, "checkout/availability")
	require.NoError(t, err)
	assert.False(t, ok)

	frozen := sloState("checkout/availability", slo.LevelTicket, -0.2)
	frozen.Frozen, frozen.FrozenSince = true, t0
	latency := sloState("checkout/latency", slo.LevelOK, 0.8)
	require.NoError(t, db.SaveSLOStates(ctx, []slo.State{latency, frozen}))

	st, ok, err := db.LoadSLOState(ctx, "checkout/availability")
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, frozen, st)

	// A later state replaces the earlier one.
	latency.Level, latency.Since = slo.LevelPage, t0.Add(time.Hour)
	require.NoError(t, db.SaveSLOState(ctx, latency))
	got, err = db.SLOStates(ctx)
	require.NoError(t, err)
	assert.Equal(t, []slo.State{frozen, latency}, got, "ordered by id")

	// It survives a restart.
	db = b.reopen(t, db)
	again, err := db.SLOStates(ctx)
	require.NoError(t, err)
	assert.Equal(t, got, again)

	require.NoError(t, db.DeleteSLOState(ctx, "checkout/latency"))
	require.NoError(t, db.DeleteSLOState(ctx, "checkout/never-was"))
	got, err = db.SLOStates(ctx)
	require.NoError(t, err)
	assert.Equal(t, []slo.State{frozen}, got)
}

func testSaveSLOStatesRefusesAnAnonymousState(t *testing.T, b *suite) {
	db := b.open(t)
	err := db.SaveSLOStates(t.Context(), []slo.State{sloState("a/b", slo.LevelOK, 1), {Level: slo.LevelOK}})
	require.ErrorContains(t, err, "needs its SLO id")
	got, err := db.SLOStates(t.Context())
	require.NoError(t, err)
	assert.Empty(t, got, "all or nothing")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, db.SaveSLOStates(ctx, []slo.State{sloState("a/b", slo.LevelOK, 1)}), context.Canceled)
	_, err = db.SLOStates(ctx)
	require.ErrorIs(t, err, context.Canceled)
}

// Ticks of the monitor and the freeze endpoint run at once.
func testSLOStatesConcurrently(t *testing.T, b *suite) {
	db := b.open(t)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				id := fmt.Sprintf("svc-%d/slo-%d", w, i%4)
				assert.NoError(t, db.SaveSLOState(t.Context(), sloState(id, slo.LevelOK, float64(i))))
				_, err := db.SLOStates(t.Context())
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	got, err := db.SLOStates(t.Context())
	require.NoError(t, err)
	assert.Len(t, got, 32)
	for _, st := range got {
		assert.InDelta(t, float64(16+int(st.SLO[len(st.SLO)-1]-'0')), *st.BudgetRemaining, 1e-12, "the last write of %s", st.SLO)
	}
}
