package storage_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

func meta(key string) incident.Meta {
	return incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: key}
}

func declareDecider(title string, key string) func(uint64) (incident.Change, error) {
	return func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, meta(key))
	}
}

func declare(t testing.TB, db *storage.DB, key, title string) incident.Result {
	t.Helper()
	res, err := db.Declare(t.Context(), key, declareDecider(title, key))
	require.NoError(t, err)
	return res
}

func observe(text, key string) incident.Decider {
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, text, false, meta(key))
	}
}

func apply(t testing.TB, db *storage.DB, n uint64, key string, d incident.Decider) incident.Result {
	t.Helper()
	res, err := db.Apply(t.Context(), n, key, d)
	require.NoError(t, err)
	return res
}

// requireConsistent asserts what every state of the store must satisfy:
// each incident's events run 1..n and its snapshot is their fold.
func requireConsistent(t testing.TB, db *storage.DB) {
	t.Helper()
	all, err := db.Incidents(t.Context(), true)
	require.NoError(t, err)
	for _, inc := range all {
		events, err := db.Events(t.Context(), inc.Number, 1)
		require.NoError(t, err)
		for i, e := range events {
			require.Equal(t, uint64(i+1), e.Seq, "%s: sequences contiguous from 1", inc.ID)
		}
		requireSameState(t, incident.Replay(events), inc, "%s: snapshot is the fold of its events", inc.ID)
	}
}

// requireSameState compares incidents as they are stored and served: as
// JSON, where a nil and an empty list are the same state.
func requireSameState(t testing.TB, want, got incident.Incident, msg ...any) {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	g, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g), msg...)
}

// counts returns how many records each bucket holds; "events" counts the
// events of every incident.
func counts(t testing.TB, db *storage.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if v == nil && string(name) == "events" {
					out["events"] += b.Bucket(k).Stats().KeyN
					return nil
				}
				out[string(name)]++
				return nil
			})
		})
	}))
	return out
}
