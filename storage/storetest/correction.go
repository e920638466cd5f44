package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// testCorrectionsReplayAfterRestart: an amended, a struck and a backdated
// entry, read back after a restart, fold to the same state and show the
// same timeline: the corrections live in the log, not in anything the
// store keeps beside it.
func testCorrectionsReplayAfterRestart(t *testing.T, b *suite) {
	db := b.open(t)
	n := declare(t, db, "declare", "Checkout down").Incident.Number // 1 declared, 2 U1 is Commander
	by := func(actor, key string, d time.Duration) incident.Meta {
		return incident.Meta{At: t0.Add(d), Actor: actor, Source: timeline.SourceCommand, Key: key}
	}
	entry := func(seq uint64) *timeline.Event {
		e, err := db.Event(t.Context(), n, seq)
		require.NoError(t, err)
		return &e
	}
	apply(t, db, n, "act", func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseAct, "rolled back to v42", false, by("U2", "act", time.Minute))
	}) // 3
	apply(t, db, n, "orient", func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, "db-2 is slow", false, by("U2", "orient", 2*time.Minute))
	}) // 4
	earlier, err := incident.ParseWhen("-10m")
	require.NoError(t, err)
	back, err := incident.ParseWhen("-9m")
	require.NoError(t, err)
	three, four := entry(3), entry(4)
	apply(t, db, n, "amend", func(inc *incident.Incident) (incident.Change, error) {
		return inc.Amend(3, three, "rolled back to v41", earlier, by("U2", "amend", 10*time.Minute))
	})
	apply(t, db, n, "strike", func(inc *incident.Incident) (incident.Change, error) {
		return inc.Strike(4, four, "it was db-3", by("U1", "strike", 11*time.Minute))
	})
	apply(t, db, n, "backdated", func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntryAt(timeline.PhaseObserve, "first 5xx", false, back, by("U3", "backdated", 12*time.Minute))
	})

	before, err := db.Incident(t.Context(), n)
	require.NoError(t, err)
	require.Len(t, before.Corrections, 3)
	beforeEvents, err := db.Events(t.Context(), n, 1)
	require.NoError(t, err)

	db = b.reopen(t, db)
	after, err := db.Incident(t.Context(), n)
	require.NoError(t, err)
	events, err := db.Events(t.Context(), n, 1)
	require.NoError(t, err)
	require.Equal(t, beforeEvents, events, "the log reads back as written")
	requireSameState(t, before, after, "the state after a restart")
	requireSameState(t, incident.Replay(events), after, "the state is the fold of the log")
	require.Equal(t, []timeline.Correction{
		{Kind: timeline.CorrectionAmended, Entry: 3, Seq: 5, By: "U2", At: t0.Add(10 * time.Minute),
			Previous: "rolled back to v42", Text: "rolled back to v41", EntryAt: t0, PreviousAt: t0.Add(time.Minute)},
		{Kind: timeline.CorrectionStruck, Entry: 4, Seq: 6, By: "U1", At: t0.Add(11 * time.Minute), Previous: "db-2 is slow", Reason: "it was db-3"},
		{Kind: timeline.CorrectionBackdated, Entry: 7, Seq: 7, By: "U3", At: t0.Add(12 * time.Minute), EntryAt: t0.Add(3 * time.Minute)},
	}, after.Corrections)

	view := timeline.Build(events, after.DeclaredAt, timeline.Options{})
	var texts []string
	for _, m := range view.Minutes {
		for _, e := range m.Events {
			texts = append(texts, e.Text)
		}
	}
	require.Equal(t, []string{"", "", "rolled back to v41", "first 5xx"}, texts, "the corrected timeline, the same after a restart")
}
