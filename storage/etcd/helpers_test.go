package etcd_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/timeline"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 0, 0, time.UTC)

func meta(key string) incident.Meta {
	return incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: key}
}

func declareDecider(title, key string) func(uint64) (incident.Change, error) {
	return func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, meta(key))
	}
}

func declare(t testing.TB, s *etcd.Store, key, title string) incident.Result {
	t.Helper()
	res, err := s.Declare(t.Context(), key, declareDecider(title, key))
	require.NoError(t, err)
	return res
}

func observe(text, key string) incident.Decider {
	return func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, text, false, meta(key))
	}
}

// entries is a command recording k entries at once.
func entries(k int, key string) incident.Decider {
	return func(inc *incident.Incident) (incident.Change, error) {
		var all incident.Change
		for i := range k {
			ch, err := inc.AddEntry(timeline.PhaseObserve, fmt.Sprintf("entry %d", i), false, meta(key))
			if err != nil {
				return incident.Change{}, err
			}
			for _, e := range ch.Events {
				inc.Apply(e)
			}
			all.Events = append(all.Events, ch.Events...)
			all.Effects = append(all.Effects, ch.Effects...)
		}
		return all, nil
	}
}

// requireContiguous asserts that incident n's events run 1..len without
// gaps and that its snapshot is their fold.
func requireContiguous(t testing.TB, s *etcd.Store, n uint64) []timeline.Event {
	t.Helper()
	events, err := s.Events(t.Context(), n, 1)
	require.NoError(t, err)
	for i, e := range events {
		require.Equal(t, uint64(i+1), e.Seq, "%s: sequences contiguous from 1", incident.ID(n))
	}
	inc, err := s.Incident(t.Context(), n)
	require.NoError(t, err)
	require.Equal(t, uint64(len(events)), inc.LastSeq, "%s: the snapshot is at the last event", incident.ID(n))
	return events
}
