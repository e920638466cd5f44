package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

func testPendingInCommitOrder(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	one := declare(t, db, "k1", "one")
	two := declare(t, db, "k2", "two")
	var want []incident.Effect
	want = append(append(want, one.Effects...), two.Effects...)

	all, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	require.Len(t, all, len(want))
	for i, p := range all {
		require.Equal(t, want[i], p.Effect)
		if i > 0 {
			require.Greater(t, p.OutboxSeq, all[i-1].OutboxSeq, "outbox sequences rise in commit order")
		}
		require.Zero(t, p.Attempts)
	}
	first, err := db.Pending(ctx, 3)
	require.NoError(t, err)
	require.Equal(t, all[:3], first)
}

func testComplete(t *testing.T, b *suite) {
	createChannel := func(t *testing.T, db storage.Store) incident.Pending {
		all, err := db.Pending(t.Context(), 0)
		require.NoError(t, err)
		require.Equal(t, incident.EffectCreateChannel, all[0].Effect.Kind)
		return all[0]
	}
	channelCreated := func(id string) incident.Decider {
		return func(inc *incident.Incident) (incident.Change, error) {
			return inc.ChannelCreated(id, incident.Meta{At: t0, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "channel-" + id})
		}
	}

	t.Run("records the outcome and removes the entry", func(t *testing.T) {
		clk := resiliencetest.NewClock(t0)
		db := b.open(t, clk.Now)
		declare(t, db, "k1", "one")
		p := createChannel(t, db)
		before := counts(t, db)
		clk.Advance(time.Minute)

		res, err := db.Complete(t.Context(), p.OutboxSeq, incident.Outcome{Result: map[string]string{"channel": "C1"}})
		require.NoError(t, err)
		require.False(t, res.Duplicate)
		require.Equal(t, uint64(1), res.Incident.Number, "the current state comes back")

		out, ok, err := db.EffectResult(t.Context(), p.Effect.Key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, map[string]string{"channel": "C1"}, out.Result)
		require.True(t, out.At.Equal(clk.Now()), "an outcome without a time gets the store's")

		after := counts(t, db)
		require.Equal(t, before["outbox"]-1, after["outbox"])
		require.Equal(t, before["effects"]+1, after["effects"])
		require.Equal(t, before["events"], after["events"])
	})

	t.Run("appends the outcome's events in the same transaction", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		p := createChannel(t, db)
		res, err := db.Complete(t.Context(), p.OutboxSeq, incident.Outcome{
			Result: map[string]string{"channel": "C1"},
			Key:    "done-" + p.Effect.Key,
			Decide: channelCreated("C1"),
		})
		require.NoError(t, err)
		require.Len(t, res.Events, 1)
		require.Equal(t, timeline.KindChannelCreated, res.Events[0].Kind)
		require.Equal(t, "C1", res.Incident.ChannelID)
		n, err := db.IncidentByChannel(t.Context(), "C1")
		require.NoError(t, err)
		require.Equal(t, uint64(1), n)
		RequireConsistent(t, db)
	})

	t.Run("completing twice is a no-op", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		p := createChannel(t, db)
		outcome := incident.Outcome{Key: "done-" + p.Effect.Key, Decide: channelCreated("C1")}
		first, err := db.Complete(t.Context(), p.OutboxSeq, outcome)
		require.NoError(t, err)
		before := counts(t, db)

		again, err := db.Complete(t.Context(), p.OutboxSeq, outcome)
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.Events, again.Events, "the first completion's events come back")

		unknown, err := db.Complete(t.Context(), 999, incident.Outcome{})
		require.NoError(t, err)
		require.True(t, unknown.Duplicate)
		require.Equal(t, before, counts(t, db))
	})

	t.Run("a refused decide leaves the effect pending", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		p := createChannel(t, db)
		before := counts(t, db)
		_, err := db.Complete(t.Context(), p.OutboxSeq, incident.Outcome{Key: "done", Decide: channelCreated("")})
		require.ErrorIs(t, err, incident.ErrInvalid)
		require.Equal(t, before, counts(t, db))
		_, ok, err := db.EffectResult(t.Context(), p.Effect.Key)
		require.NoError(t, err)
		require.False(t, ok)
	})

	t.Run("a decide whose key was seen still completes", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		p := createChannel(t, db)
		recorded := apply(t, db, 1, "channel-key", channelCreated("C1"))
		res, err := db.Complete(t.Context(), p.OutboxSeq, incident.Outcome{Key: "channel-key", Decide: channelCreated("C1")})
		require.NoError(t, err)
		require.True(t, res.Duplicate)
		require.Equal(t, recorded.Events, res.Events)
		pending, err := db.Pending(t.Context(), 0)
		require.NoError(t, err)
		for _, q := range pending {
			require.NotEqual(t, p.OutboxSeq, q.OutboxSeq, "the effect left the outbox")
		}
	})
}

func testDefer(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	declare(t, db, "k1", "one")
	all, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	next := t0.Add(30 * time.Second)
	require.NoError(t, db.Defer(ctx, all[1].OutboxSeq, incident.Retry{
		Attempts: 2, NextAt: next, Error: "slack: 503", Result: map[string]string{"ts": "1.2"},
	}))
	again, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, all[0], again[0], "other entries untouched")
	got := again[1]
	require.Equal(t, 2, got.Attempts)
	require.True(t, got.NextAt.Equal(next))
	require.Equal(t, "slack: 503", got.LastError)
	require.Equal(t, map[string]string{"ts": "1.2"}, got.Result)
	require.Equal(t, all[1].Effect, got.Effect)

	require.NoError(t, db.Defer(ctx, 999, incident.Retry{Attempts: 1}), "deferring a completed effect does nothing")
}

func testOutboxStats(t *testing.T, b *suite) {
	clk := resiliencetest.NewClock(t0)
	db := b.open(t, clk.Now)
	ctx := t.Context()
	depth, oldest, err := db.OutboxStats(ctx)
	require.NoError(t, err)
	require.Zero(t, depth)
	require.True(t, oldest.IsZero())

	first := declare(t, db, "k1", "one")
	clk.Advance(time.Hour)
	second := declare(t, db, "k2", "two")
	depth, oldest, err = db.OutboxStats(ctx)
	require.NoError(t, err)
	require.Equal(t, len(first.Effects)+len(second.Effects), depth)
	require.True(t, oldest.Equal(t0), "oldest is the first queued: %v", oldest)
}
