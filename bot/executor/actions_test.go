package executor

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// TestActionsDueDirectMessage: an overdue-items reminder is one direct
// message to the owner, written when it is sent from the items as they
// are then: a done item is left out, a private incident is named only
// while the owner is a member of it, and a reminder left with nothing to
// say is not sent.
func TestActionsDueDirectMessage(t *testing.T) {
	var dms *dmCatcher
	h := newHarness(t, withSlackWrapper(func(api slackapi.SlackAPI) slackapi.SlackAPI {
		dms = &dmCatcher{SlackAPI: api}
		return dms
	}))
	pub := h.declare("Checkout is down", false).Number
	other := h.declare("Search <slow>", false).Number
	secret := h.declare("Payroll leak", true).Number
	h.apply(secret, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersSynced([]string{alice}, m)
	})
	add := func(n uint64, text string) {
		h.apply(n, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddActionItem(incident.NewAction{Text: text, Owner: bob, Priority: "P0"}, m)
		})
	}
	add(pub, "alert on pool saturation")
	add(pub, "canary the config push")
	add(other, "tune the cache")
	add(secret, "rotate the payroll keys")
	h.drainAll(h.exec)
	due := h.incident(pub).Actions[0].Due // 21 March; the clock is 14 March
	day := "2026-03-30"
	remind := func(key string) {
		h.t.Helper()
		m := incident.Meta{At: h.clock.Now(), Actor: incident.Bot, Source: timeline.SourceReminder, Key: key}
		_, err := h.db.Apply(h.ctx, pub, key, func(inc *incident.Incident) (incident.Change, error) {
			return inc.RemindActions(bob, day, []incident.ActionRef{{Incident: pub, Action: 1}, {Incident: pub, Action: 2}, {Incident: other, Action: 1}, {Incident: secret, Action: 1}}, m)
		})
		require.NoError(t, err)
	}

	// Item 2 is done between the reminder and its sending.
	remind("remind-actions:" + bob + ":" + day)
	h.apply(pub, bob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(2, m)
	})
	h.drainAll(h.exec)
	require.Equal(t, []string{bob}, dms.to, "one message to the owner")
	text := dms.text[0]
	require.Equal(t, "You own 2 overdue action items: INC-1 #1, INC-2 #1.", text)
	require.NotContains(t, text, "INC-3", "bob is no member of the private incident")
	require.Equal(t, "2026-03-21", due)

	// He joins the private incident's channel, and every item is done
	// but that one: it is named to him now.
	h.apply(secret, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersAdded([]string{bob}, m)
	})
	h.apply(pub, bob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	h.apply(other, bob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	day = "2026-03-31"
	remind("remind-actions:" + bob + ":" + day)
	h.drainAll(h.exec)
	require.Len(t, dms.to, 2)
	require.Equal(t, "You own 1 overdue action item: INC-3 #1.", dms.text[1])

	// All done: the next reminder says nothing, and is not sent.
	h.apply(secret, bob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	day = "2026-04-01"
	remind("remind-actions:" + bob + ":" + day)
	h.drainAll(h.exec)
	require.Len(t, dms.to, 2, "nothing left to remind of")
	evs := h.events(pub)
	last := evs[len(evs)-1]
	require.Equal(t, timeline.KindNudged, last.Kind)
	out, ok, err := h.db.EffectResult(h.ctx, incident.ID(pub)+"/"+strconv.FormatUint(last.Seq, 10)+"/dm/"+bob)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "no overdue action item left", out.Result["skipped"])
}
