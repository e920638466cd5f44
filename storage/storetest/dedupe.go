package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience/resiliencetest"
)

func testExpireDedupe(t *testing.T, b *suite) {
	clk := resiliencetest.NewClock(t0)
	db := b.open(t, clk.Now)
	ctx := t.Context()
	declare(t, db, "old-1", "one")
	apply(t, db, 1, "old-2", observe("x", "old-2"))
	clk.Advance(48 * time.Hour)
	apply(t, db, 1, "new-1", observe("y", "new-1"))

	dropped, err := db.ExpireDedupe(ctx, clk.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, dropped)
	require.Equal(t, 1, counts(t, db)["dedupe"])

	again := apply(t, db, 1, "new-1", observe("y", "new-1"))
	require.True(t, again.Duplicate, "a recent key still deduplicates")
	// An expired key records again: it is outside the window retries
	// arrive in.
	res := apply(t, db, 1, "old-2", observe("x", "old-2"))
	require.False(t, res.Duplicate)

	none, err := db.ExpireDedupe(ctx, t0)
	require.NoError(t, err)
	require.Zero(t, none)
}
