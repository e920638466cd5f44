package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func testDeclareAndApplyRoundTrip(t *testing.T, b *suite) {
	clk := resiliencetest.NewClock(t0)
	clk.Advance(time.Hour)
	db := b.open(t, clk.Now)
	ctx := t.Context()

	d := declare(t, db, "k-declare", "Checkout is down")
	require.Equal(t, uint64(1), d.Incident.Number)
	require.Equal(t, "INC-1", d.Incident.ID)
	require.False(t, d.Duplicate)
	require.NotEmpty(t, d.Effects, "a declaration queues its channel, topic, kickoff and announcement")

	a := apply(t, db, 1, "k-sev", func(inc *incident.Incident) (incident.Change, error) {
		return inc.SetSeverity(1, meta("k-sev"))
	})
	require.Equal(t, 1, a.Incident.Severity)
	require.Len(t, a.Events, 1)
	require.Equal(t, d.Incident.LastSeq+1, a.Events[0].Seq)

	got, err := db.Incident(ctx, 1)
	require.NoError(t, err)
	requireSameState(t, a.Incident, got, "the returned state is the stored state")

	events, err := db.Events(ctx, 1, 1)
	require.NoError(t, err)
	require.Equal(t, append(d.Events, a.Events...), events)
	requireSameState(t, incident.Replay(events), got)

	tail, err := db.Events(ctx, 1, a.Events[0].Seq)
	require.NoError(t, err)
	require.Equal(t, a.Events, tail, "Events(from) starts at from")

	pending, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	require.Len(t, pending, len(d.Effects)+len(a.Effects))
	for i, p := range pending {
		if i > 0 {
			require.Greater(t, p.OutboxSeq, pending[i-1].OutboxSeq, "outbox sequences rise in commit order")
		}
		require.True(t, p.QueuedAt.Equal(clk.Now()), "queued at the store's clock: %v", p.QueuedAt)
	}
	RequireConsistent(t, db)
}

func testNumbersAreSequential(t *testing.T, b *suite) {
	db := b.open(t)
	for i := 1; i <= 5; i++ {
		res := declare(t, db, fmt.Sprintf("k%d", i), fmt.Sprintf("incident %d", i))
		require.Equal(t, uint64(i), res.Incident.Number)
		require.Equal(t, fmt.Sprintf("INC-%d", i), res.Incident.ID)
	}
	// A refused declaration takes no number: nobody saw the one it was
	// offered, and the next declaration gets it.
	_, err := db.Declare(t.Context(), "k-bad", declareDecider("", "k-bad"))
	require.ErrorIs(t, err, incident.ErrInvalid)
	db = b.reopen(t, db)
	require.Equal(t, uint64(6), declare(t, db, "k6", "after a reopen").Incident.Number)

	all, err := db.Incidents(t.Context(), true)
	require.NoError(t, err)
	var numbers []uint64
	for _, inc := range all {
		numbers = append(numbers, inc.Number)
	}
	require.Equal(t, []uint64{6, 5, 4, 3, 2, 1}, numbers, "newest first")
}

func testIncidentsListsActiveOnly(t *testing.T, b *suite) {
	db := b.open(t)
	declare(t, db, "k1", "one")
	declare(t, db, "k2", "two")
	apply(t, db, 1, "k-resolve", func(inc *incident.Incident) (incident.Change, error) {
		return inc.Resolve("fixed", meta("k-resolve"))
	})
	active, err := db.Incidents(t.Context(), false)
	require.NoError(t, err)
	require.Len(t, active, 1)
	require.Equal(t, uint64(2), active[0].Number)
	all, err := db.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Len(t, all, 2)
}

func testNotFound(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	_, err := db.Incident(ctx, 9)
	require.ErrorIs(t, err, incident.ErrNotFound)
	require.Contains(t, err.Error(), "INC-9 does not exist")
	_, err = db.Events(ctx, 9, 1)
	require.ErrorIs(t, err, incident.ErrNotFound)
	_, err = db.Apply(ctx, 9, "k", observe("x", "k"))
	require.ErrorIs(t, err, incident.ErrNotFound)
	_, err = db.IncidentByChannel(ctx, "C404")
	require.ErrorIs(t, err, incident.ErrNotFound)
	require.Empty(t, counts(t, db)["dedupe"], "a refused command records no key")
}

func testChannelIndex(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	declare(t, db, "k1", "one")
	declare(t, db, "k2", "two")
	channel := func(id string) incident.Decider {
		return func(inc *incident.Incident) (incident.Change, error) {
			return inc.ChannelCreated(id, meta("ch-"+id))
		}
	}
	apply(t, db, 1, "ch-C1", channel("C1"))
	apply(t, db, 2, "ch-C2", channel("C2"))
	for id, want := range map[string]uint64{"C1": 1, "C2": 2} {
		n, err := db.IncidentByChannel(ctx, id)
		require.NoError(t, err)
		require.Equal(t, want, n, id)
	}

	// A channel replaced (archived and recreated) moves the index.
	apply(t, db, 1, "ch-C3", channel("C3"))
	_, err := db.IncidentByChannel(ctx, "C1")
	require.ErrorIs(t, err, incident.ErrNotFound)
	n, err := db.IncidentByChannel(ctx, "C3")
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)

	// Two incidents cannot share a channel: the index would lie for one.
	_, err = db.Apply(ctx, 2, "ch-C3-again", channel("C3"))
	require.ErrorContains(t, err, "channel C3 already belongs to INC-1")
}

// TestRefusalWritesNothing proves the transactional outbox from the other
// side: whatever stops a command stops all of it.
func testRefusalWritesNothing(t *testing.T, b *suite) {
	gap := func(inc *incident.Incident) (incident.Change, error) {
		ch, err := inc.AddEntry(timeline.PhaseObserve, "x", false, meta("gap"))
		ch.Events[0].Seq += 2
		return ch, err
	}
	stale := func(inc *incident.Incident) (incident.Change, error) {
		old := *inc
		old.LastSeq--
		return old.AddEntry(timeline.PhaseObserve, "x", false, meta("stale"))
	}
	tests := []struct {
		name    string
		decide  incident.Decider
		wantIs  error
		wantMsg string
	}{
		{"user error", func(inc *incident.Incident) (incident.Change, error) {
			return inc.SetSeverity(7, meta("bad"))
		}, incident.ErrInvalid, "severity 7 does not exist"},
		{"refused by state", func(inc *incident.Incident) (incident.Change, error) {
			return inc.Reopen(meta("reopen"))
		}, incident.ErrRefused, "nothing to reopen"},
		{"gap in sequences", gap, nil, "event 0 has sequence"},
		{"decided on stale state", stale, nil, "want"},
		{"effects without events", func(inc *incident.Incident) (incident.Change, error) {
			return incident.Change{Effects: []incident.Effect{{Key: "x", Incident: inc.Number}}}, nil
		}, nil, "without recording an event"},
		{"effect of another incident", func(inc *incident.Incident) (incident.Change, error) {
			ch, err := inc.AddEntry(timeline.PhaseObserve, "x", false, meta("other"))
			ch.Effects[0].Incident = 99
			return ch, err
		}, nil, "belongs to INC-99"},
		{"panic", func(*incident.Incident) (incident.Change, error) { panic("boom") }, nil, "command panicked: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := b.open(t)
			declare(t, db, "k1", "one")
			before := counts(t, db)
			snap, err := db.Incident(t.Context(), 1)
			require.NoError(t, err)

			_, err = db.Apply(t.Context(), 1, "k-refused", tt.decide)
			require.Error(t, err)
			if tt.wantIs != nil {
				require.ErrorIs(t, err, tt.wantIs, "the decider's error comes back unwrapped")
				var ue *incident.UserError
				require.True(t, errors.As(err, &ue))
			}
			require.ErrorContains(t, err, tt.wantMsg)

			require.Equal(t, before, counts(t, db), "no events, snapshot, key or effect written")
			after, err := db.Incident(t.Context(), 1)
			require.NoError(t, err)
			requireSameState(t, snap, after)
		})
	}
}

func testDeclareRefusalWritesNothing(t *testing.T, b *suite) {
	db := b.open(t)
	before := counts(t, db)
	_, err := db.Declare(t.Context(), "k", declareDecider("   ", "k"))
	require.ErrorIs(t, err, incident.ErrInvalid)
	_, err = db.Declare(t.Context(), "k2", func(n uint64) (incident.Change, error) {
		ch, err := incident.Declare(n+1, incident.Declaration{Title: "wrong number"}, meta("k2"))
		ch.Effects = nil
		return ch, err
	})
	require.ErrorContains(t, err, "the events describe INC-2")
	_, err = db.Declare(t.Context(), "k3", func(n uint64) (incident.Change, error) { return incident.Change{}, nil })
	require.ErrorContains(t, err, "must record a declared event first")
	require.Equal(t, before, counts(t, db))
}

func testEmptyChangeWritesNothing(t *testing.T, b *suite) {
	db := b.open(t)
	declare(t, db, "k1", "one")
	apply(t, db, 1, "ch", func(inc *incident.Incident) (incident.Change, error) { return inc.ChannelCreated("C1", meta("ch")) })
	before := counts(t, db)
	// The same channel again is no change at all.
	res := apply(t, db, 1, "ch-again", func(inc *incident.Incident) (incident.Change, error) {
		return inc.ChannelCreated("C1", meta("ch-again"))
	})
	require.Empty(t, res.Events)
	require.Equal(t, uint64(1), res.Incident.Number, "the current state comes back")
	require.Equal(t, before, counts(t, db))
}

func testIdempotency(t *testing.T, b *suite) {
	t.Run("apply twice records once", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		first := apply(t, db, 1, "slack-event-1", func(inc *incident.Incident) (incident.Change, error) {
			return inc.AssignRole(roles.Comms, "U2", meta("slack-event-1"))
		})
		before := counts(t, db)
		second := apply(t, db, 1, "slack-event-1", func(inc *incident.Incident) (incident.Change, error) {
			return inc.AssignRole(roles.Comms, "U2", meta("slack-event-1"))
		})
		require.False(t, first.Duplicate)
		require.True(t, second.Duplicate)
		require.Equal(t, first.Events, second.Events, "the duplicate returns the original events")
		requireSameState(t, first.Incident, second.Incident)
		require.Equal(t, before, counts(t, db), "the duplicate writes nothing")
	})
	t.Run("a later command with an old key returns the old events", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		first := apply(t, db, 1, "k-a", observe("first", "k-a"))
		apply(t, db, 1, "k-b", observe("second", "k-b"))
		again := apply(t, db, 1, "k-a", observe("something else entirely", "k-a"))
		require.True(t, again.Duplicate)
		require.Equal(t, first.Events, again.Events)
		require.Equal(t, first.Events[0].Seq+1, again.Incident.LastSeq, "with the current state")
	})
	t.Run("declare twice gives one incident", func(t *testing.T) {
		db := b.open(t)
		first := declare(t, db, "trigger-1", "Checkout is down")
		second := declare(t, db, "trigger-1", "Checkout is down")
		require.True(t, second.Duplicate)
		require.Equal(t, first.Events, second.Events)
		require.Equal(t, first.Incident.Number, second.Incident.Number)
		all, err := db.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, all, 1)
		require.Equal(t, uint64(2), declare(t, db, "trigger-2", "another").Incident.Number)
	})
	t.Run("a refused command leaves its key free", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		_, err := db.Apply(t.Context(), 1, "k", observe("", "k"))
		require.ErrorIs(t, err, incident.ErrInvalid)
		res := apply(t, db, 1, "k", observe("fixed typo", "k"))
		require.False(t, res.Duplicate)
	})
	t.Run("no key is refused", func(t *testing.T) {
		db := b.open(t)
		declare(t, db, "k1", "one")
		_, err := db.Apply(t.Context(), 1, "", observe("x", "x"))
		require.ErrorContains(t, err, "idempotency key")
		_, err = db.Declare(t.Context(), "", declareDecider("x", "x"))
		require.ErrorContains(t, err, "idempotency key")
	})
}

// testConcurrentWriters runs writers on their own incidents at once, the
// way several commands are worked together (bbolt shares their
// transactions through Batch; another backend may retry on conflict).
func testConcurrentWriters(t *testing.T, b *suite) {
	db := b.open(t)
	const writers, each = 16, 10
	for i := range writers {
		declare(t, db, fmt.Sprintf("d%d", i), fmt.Sprintf("incident %d", i))
	}
	errs := make(chan error, writers*each)
	done := make(chan struct{})
	for w := range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range each {
				key := fmt.Sprintf("w%d-%d", w, i)
				// Every other command repeats a key, so duplicates are
				// committed alongside new work.
				if i%2 == 1 {
					key = fmt.Sprintf("w%d-%d", w, i-1)
				}
				_, err := db.Apply(context.Background(), uint64(w+1), key, observe("tick", key))
				errs <- err
			}
		}()
	}
	for range writers {
		<-done
	}
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for w := range writers {
		events, err := db.Events(t.Context(), uint64(w+1), 1)
		require.NoError(t, err)
		// declared + commander + each/2 entries.
		require.Len(t, events, 2+each/2, "INC-%d", w+1)
	}
	RequireConsistent(t, db)
}

func testCancelledContext(t *testing.T, b *suite) {
	db := b.open(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := db.Declare(ctx, "k", declareDecider("x", "k"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.Apply(ctx, 1, "k", observe("x", "k"))
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.Incident(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.Pending(ctx, 1)
	require.ErrorIs(t, err, context.Canceled)
}

func testEventReadsOneEvent(t *testing.T, b *suite) {
	db := b.open(t)
	res := declare(t, db, "k1", "one")
	n := res.Incident.Number
	all, err := db.Events(t.Context(), n, 1)
	require.NoError(t, err)
	for _, want := range all {
		got, err := db.Event(t.Context(), n, want.Seq)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err = db.Event(t.Context(), n, uint64(len(all))+1)
	require.ErrorIs(t, err, incident.ErrNotFound, "no such event")
	_, err = db.Event(t.Context(), n+1, 1)
	require.ErrorIs(t, err, incident.ErrNotFound, "no such incident")
}
