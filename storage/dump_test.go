package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// dumpAll collects a store's dump as JSON, one line per item.
func dumpAll(t *testing.T, db *storage.DB) ([]string, []storage.Item) {
	t.Helper()
	var lines []string
	var items []storage.Item
	require.NoError(t, db.Dump(t.Context(), func(it storage.Item) error {
		b, err := json.Marshal(it)
		require.NoError(t, err)
		lines = append(lines, string(b))
		items = append(items, it)
		return nil
	}))
	return lines, items
}

// TestDumpLoadRoundTrip: everything a file holds, dumped and loaded into
// an empty one, dumps the same, folds to the same incidents, answers a
// repeated key with the original result, and goes on numbering after it.
func TestDumpLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	m := func(key string) incident.Meta {
		return incident.Meta{At: at, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: key}
	}
	src := storagetest.Open(t)
	for i, title := range []string{"Checkout is down", "Search is slow"} {
		key := "declare-" + title
		_, err := src.Declare(ctx, key, func(n uint64) (incident.Change, error) {
			return incident.Declare(n, incident.Declaration{Title: title, Severity: i + 1, Private: i == 1}, m(key))
		})
		require.NoError(t, err)
	}
	_, err := src.Apply(ctx, 1, "note-1", func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, "5xx at 38%", false, m("note-1"))
	})
	require.NoError(t, err)
	pending, err := src.Pending(ctx, 1)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	_, err = src.Complete(ctx, pending[0].OutboxSeq, incident.Outcome{
		Result: map[string]string{"channel": "C0CHECKOUT1"}, At: at, Key: pending[0].Effect.Key,
		Decide: func(inc *incident.Incident) (incident.Change, error) {
			return inc.ChannelCreated("C0CHECKOUT1", m(pending[0].Effect.Key))
		},
	})
	require.NoError(t, err)
	_, err = src.RecordMessage(ctx, 1, storage.MessageChange{Op: storage.MessagePosted, TS: "1764666000.000100", User: "U0BOB", Text: "rolling back"})
	require.NoError(t, err)
	require.NoError(t, src.SaveSLOState(ctx, slo.State{SLO: "checkout/availability", Service: "checkout", Level: slo.LevelPage, Since: at}))
	session := storage.Session{ID: "5e55", User: "U0ALICE", Team: "T0OODA", Name: "Alice", CreatedAt: at, ExpiresAt: at.Add(8 * time.Hour)}
	require.NoError(t, src.SaveSession(ctx, session))

	want, items := dumpAll(t, src)
	dst := storagetest.Open(t)
	require.NoError(t, dst.Load(ctx, items))
	got, _ := dumpAll(t, dst)
	require.Equal(t, want, got, "the copy dumps as the original")
	moved, ok, err := dst.Session(ctx, session.ID)
	require.NoError(t, err)
	require.True(t, ok, "a session survives the move: nobody is signed out")
	require.Equal(t, session, moved)

	for n := uint64(1); n <= 2; n++ {
		a, err := src.Incident(ctx, n)
		require.NoError(t, err)
		b, err := dst.Incident(ctx, n)
		require.NoError(t, err)
		require.Equal(t, a, b, "%s folds the same", incident.ID(n))
	}
	n, err := dst.IncidentByChannel(ctx, "C0CHECKOUT1")
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the channel index is rebuilt")
	again, err := dst.Apply(ctx, 1, "note-1", func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, "5xx at 38%", false, m("note-1"))
	})
	require.NoError(t, err)
	require.True(t, again.Duplicate, "a key seen before the move is seen after it")

	res, err := dst.Declare(ctx, "declare-third", func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Third"}, m("declare-third"))
	})
	require.NoError(t, err)
	require.EqualValues(t, 3, res.Incident.Number, "numbers go on after the loaded ones")
	var loaded uint64
	for _, it := range items {
		if it.Pending != nil {
			loaded = max(loaded, it.Pending.OutboxSeq)
		}
	}
	require.NotZero(t, loaded)
	all, err := dst.Pending(ctx, 0)
	require.NoError(t, err)
	require.Greater(t, all[len(all)-1].OutboxSeq, loaded, "new effects queue after the loaded ones")

	require.ErrorIs(t, dst.Load(ctx, items), storage.ErrNotEmpty, "a store that holds data is not loaded into")
	require.NoError(t, dst.Check(ctx))
}
