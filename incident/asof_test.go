package incident_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// TestAsOf: the state a message about an event is rendered from is the one
// its command left, whatever happened after.
func TestAsOf(t *testing.T) {
	r := declare(t, incident.Declaration{Title: "Checkout down", Severity: 1})
	update := r.commit(r.inc.PostUpdate("rolling back", r.meta("U1"))).Events[0].Seq
	r.commit(r.inc.SetSeverity(2, r.meta("U1")))
	r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
	require.Equal(t, 2, r.inc.Severity)
	require.Equal(t, incident.StatusResolved, r.inc.Status)

	tests := []struct {
		name     string
		seq      uint64
		severity int
		status   incident.Status
		end      uint64
	}{
		// The declaration's command also made the declarer Commander
		// (event 2, key "req-1#1"): an announcement of event 1 names him.
		{name: "declared", seq: 1, severity: 1, status: incident.StatusInvestigating, end: 2},
		{name: "the command's later event", seq: 2, severity: 1, status: incident.StatusInvestigating, end: 2},
		{name: "update written at SEV1", seq: update, severity: 1, status: incident.StatusInvestigating, end: update},
		{name: "last", seq: r.inc.LastSeq, severity: 2, status: incident.StatusResolved, end: r.inc.LastSeq},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.end, incident.CommandEnd(r.events, tc.seq))
			got := incident.AsOf(r.events, tc.seq)
			require.Equal(t, tc.severity, got.Severity)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, "U1", got.Roles.Get(roles.Commander))
			require.Equal(t, incident.Replay(r.events[:tc.end]), got)
		})
	}
	require.Equal(t, r.inc, incident.AsOf(r.events, r.inc.LastSeq), "as of the last event is the current state")
}

// TestCommandEndReadsKeys: a key that itself ends in "#n" still groups
// its command's events, and an unrelated next command is never taken in.
func TestCommandEndReadsKeys(t *testing.T) {
	ev := func(seq uint64, key string) timeline.Event { return timeline.Event{Seq: seq, Key: key, At: t0} }
	tests := []struct {
		name   string
		events []timeline.Event
		seq    uint64
		want   uint64
	}{
		{"alone", []timeline.Event{ev(4, "k"), ev(5, "other")}, 4, 4},
		{"with its later events", []timeline.Event{ev(4, "k"), ev(5, "k#1"), ev(6, "k#2"), ev(7, "k2")}, 4, 6},
		{"from a later event", []timeline.Event{ev(5, "k#1"), ev(6, "k#2"), ev(7, "k#x")}, 5, 6},
		{"a key ending in #n", []timeline.Event{ev(4, "slack#7"), ev(5, "slack#7#1"), ev(6, "slack#8")}, 4, 5},
		{"no key", []timeline.Event{ev(4, ""), ev(5, "#1")}, 4, 4},
		{"a gap in the sequence", []timeline.Event{ev(4, "k"), ev(6, "k#1")}, 4, 4},
		{"out of order", []timeline.Event{ev(4, "k"), ev(5, "k#2")}, 4, 4},
		{"another time", []timeline.Event{ev(4, "k"), {Seq: 5, Key: "k#1", At: t0.Add(time.Second)}}, 4, 4},
		{"not there", []timeline.Event{ev(4, "k")}, 9, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, incident.CommandEnd(tc.events, tc.seq))
		})
	}
}
