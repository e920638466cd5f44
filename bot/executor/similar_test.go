package executor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/search"
)

// TestKickoffListsWhatEveryReaderMaySee: the kickoff lists the similar
// past incidents every reader of its channel may see. A public incident's
// kickoff never lists a private one, even when its declarer is a member of
// it; a private incident's kickoff lists a private one only when it admits
// every reader.
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
	require.Contains(t, kickoff(mine), "*INC-2*", "alice is the only reader, and INC-2 admits her")

	shared := h.declare("Checkout card numbers seen in logs", true)
	h.assign(shared.Number, roles.Ops, bob) // before the kickoff is sent: bob reads it too
	got = kickoff(shared)
	require.NotContains(t, got, "*INC-2*", "bob may not see INC-2")
	require.NotContains(t, got, "*INC-4*", "nor INC-4")
	require.Contains(t, got, "*INC-1*")
}

// TestReadersMay: the access rule of a message everyone in the channel reads.
func TestReadersMay(t *testing.T) {
	pastPrivate := incident.Incident{Private: true, Members: []string{alice, bob}, MembersKnown: true}
	unknownMembers := incident.Incident{Private: true, DeclaredBy: alice}
	unknownMembers.Roles.Ops = bob
	tests := []struct {
		name string
		inc  incident.Incident
		past incident.Incident
		want bool
	}{
		{"a public channel, a public past incident", incident.Incident{}, incident.Incident{}, true},
		{"a public channel, a private past incident", incident.Incident{DeclaredBy: alice}, pastPrivate, false},
		{"private, every member admitted", incident.Incident{Private: true, Members: []string{alice, bob}, MembersKnown: true}, pastPrivate, true},
		{"private, one member not admitted", incident.Incident{Private: true, Members: []string{alice, carol}, MembersKnown: true}, pastPrivate, false},
		{"private, members unknown: declarer and role holders", unknownMembers, pastPrivate, true},
		{"private, members unknown, a role holder not admitted", unknownMembers, incident.Incident{Private: true, Members: []string{alice}, MembersKnown: true}, false},
		{"private, nobody known: nothing private", incident.Incident{Private: true, MembersKnown: true}, pastPrivate, false},
		{"private, a public past incident", incident.Incident{Private: true, MembersKnown: true}, incident.Incident{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, readersMay(tt.inc)(tt.past))
		})
	}
}
