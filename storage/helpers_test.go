package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// The helpers of the tests of bbolt's own concerns (its file, its lock,
// crashes, benchmarks). The store's behaviour is proved by the
// conformance suite, storetest, which has its own.

var t0 = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

func meta(key string) incident.Meta {
	return incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: key}
}

func declare(t testing.TB, db *storage.DB, key, title string) incident.Result {
	t.Helper()
	res, err := db.Declare(t.Context(), key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, meta(key))
	})
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
