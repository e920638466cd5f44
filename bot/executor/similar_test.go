package executor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/search"
)

// TestKickoffListsWhatEveryReaderMaySee: the kickoff lists the similar
// past incidents every reader of its channel may see, now and after
// others join: public ones only, even in a private incident whose every
// member may see a private one (people invited later read the same
// kickoff).
func TestKickoffListsWhatEveryReaderMaySee(t *testing.T) {
	h := newHarness(t)
	idx := search.New()
	e, err := New(Config{
		Store: h.db, Outbox: h.db, Slack: h.api, Guard: h.guard, AnnounceChannel: h.announce,
		Now: h.clock.Now, Registerer: nil, Backoff: Backoff{Rand: func() float64 { return 0.5 }},
		Similar: idx.Similar,
	})
	require.NoError(t, err)
	kickoff := func(inc incident.Incident) string {
		t.Helper()
		require.NoError(t, idx.Rebuild(h.ctx, h.db))
		h.drainAll(e)
		for _, m := range h.slack.Messages(channelsFor(h.slack, inc.Number)[0].ID) {
			if messageKey(m) == incident.KickoffKey(inc.Number) {
				return string(m.Blocks)
			}
		}
		t.Fatal("no kickoff message")
		return ""
	}

	public := h.declare("Checkout pool exhausted", false)
	require.NotContains(t, kickoff(public), "Similar past incidents", "nothing came before")
	secret := h.declare("Checkout card numbers logged", true) // alice is its Commander
	require.Contains(t, kickoff(secret), "*INC-1* · SEV2 · investigating")

	again := h.declare("Checkout pool exhausted again", false)
	got := kickoff(again)
	require.Contains(t, got, "*Similar past incidents* — what happened last time:")
	require.Contains(t, got, "*INC-1* · SEV2 · investigating · 2026-03-14 — Checkout pool exhausted")
	require.Contains(t, got, "Why: same service `checkout`; shared words: ")
	require.NotContains(t, got, "INC-2", "alice declared it, but the channel is public")
	require.NotContains(t, got, "card numbers")

	mine := h.declare("Checkout card numbers logged again", true)
	got = kickoff(mine)
	require.NotContains(t, got, "*INC-2*", "alice is the only reader so far, but whoever she invites reads it too")
	require.Contains(t, got, "*INC-1*")

	shared := h.declare("Checkout card numbers seen in logs", true)
	h.assign(shared.Number, roles.Ops, bob)
	got = kickoff(shared)
	require.NotContains(t, got, "*INC-2*")
	require.NotContains(t, got, "*INC-4*")
	require.Contains(t, got, "*INC-1*")
}

// TestReadersMay: the access rule of a message everyone in the channel
// reads, now and later: public past incidents only.
func TestReadersMay(t *testing.T) {
	pastPrivate := incident.Incident{Private: true, Members: []string{alice, bob}, MembersKnown: true}
	for _, tt := range []struct {
		name string
		inc  incident.Incident
		past incident.Incident
		want bool
	}{
		{"a public channel, a private past incident", incident.Incident{DeclaredBy: alice}, pastPrivate, false},
		{"a public channel, a public past incident", incident.Incident{DeclaredBy: alice}, incident.Incident{}, true},
		{"private, every member admitted today", incident.Incident{Private: true, Members: []string{alice, bob}, MembersKnown: true}, pastPrivate, false},
		{"private, a public past incident", incident.Incident{Private: true, MembersKnown: true}, incident.Incident{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, readersMay(tt.inc)(tt.past))
		})
	}
}
