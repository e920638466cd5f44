package incident_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// ticketed returns a run of INC-7 whose action 1 was added with a ticket
// asked for, and that ticket's effect.
func ticketed(t *testing.T) (*run, incident.Effect) {
	t.Helper()
	r := declare(t, checkout)
	ch := r.commit(r.inc.AddActionItem(incident.NewAction{Text: "Alert on pool saturation", Owner: "U5", Ticket: true}, r.meta("U1")))
	require.Equal(t, []string{"post incident line", "create_ticket"}, effectShape(ch))
	fx := ch.Effects[1]
	require.Equal(t, map[string]string{incident.ParamAction: "1"}, fx.Params)
	require.Equal(t, &incident.Ticket{State: incident.TicketPending, Effect: fx.Key}, r.inc.Actions[0].Ticket)
	require.Equal(t, "ticket pending", r.inc.Actions[0].TicketLabel())
	return r, fx
}

var opsTicket = incident.Ticket{Tracker: "jira", Project: "OPS", ID: "OPS-12", URL: "https://acme.atlassian.net/browse/OPS-12", State: incident.TicketOpen}

func TestTicketCreatedOnce(t *testing.T) {
	r, fx := ticketed(t)
	ch := r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))
	require.Equal(t, []string{"post incident line"}, effectShape(ch))
	got := *r.inc.Actions[0].Ticket
	require.Equal(t, incident.Ticket{Tracker: "jira", Project: "OPS", ID: "OPS-12", URL: opsTicket.URL, State: incident.TicketOpen, Effect: fx.Key}, got)
	require.Equal(t, "OPS-12 (open)", r.inc.Actions[0].TicketLabel())
	require.Equal(t, "Action 1 ticket OPS-12 opened: https://acme.atlassian.net/browse/OPS-12", timeline.Describe(ch.Events[0]))

	// A completion replayed after a crash, or by a deposed leader,
	// records nothing.
	ch = r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))
	require.Empty(t, ch.Events)
	ch = r.commit(r.inc.TicketFailed(1, fx.Key, "late", r.meta(incident.Bot)))
	require.Empty(t, ch.Events)

	_, err := r.inc.RequestTicket(1, r.meta("U1"))
	requireUserError(t, err, incident.ErrRefused, "is tracked by OPS-12 already")
	a, ok := r.inc.ActionByTicket("jira", "OPS", "OPS-12")
	require.True(t, ok)
	require.Equal(t, 1, a.ID)
	_, ok = r.inc.ActionByTicket("jira", "PAY", "OPS-12")
	require.False(t, ok)
}

func TestTicketFailedThenAskedAgain(t *testing.T) {
	r, fx := ticketed(t)
	_, err := r.inc.RequestTicket(1, r.meta("U1"))
	requireUserError(t, err, incident.ErrRefused, "has a ticket pending already")

	ch := r.commit(r.inc.TicketFailed(1, fx.Key, "Jira refused (404): project OPS does not exist", r.meta(incident.Bot)))
	require.Equal(t, []string{"post incident line"}, effectShape(ch))
	require.Equal(t, "ticket failed: Jira refused (404): project OPS does not exist", r.inc.Actions[0].TicketLabel())
	require.Equal(t, "Action 1 ticket failed: Jira refused (404): project OPS does not exist", timeline.Describe(ch.Events[0]))

	ch = r.commit(r.inc.RequestTicket(1, r.meta("U1")))
	require.Equal(t, []string{"create_ticket"}, effectShape(ch))
	again := ch.Effects[0]
	require.Equal(t, []string{fx.Key}, incident.PreviousKeys(again), "the failed request's ticket is looked for too")
	require.NotEqual(t, fx.Key, again.Key, "a new request is a new effect, with its own key")
	require.Equal(t, incident.TicketPending, r.inc.Actions[0].Ticket.State)

	// The old effect's completion no longer applies.
	require.Empty(t, r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot))).Events)
	// Failed again: a third request looks for both earlier ones'.
	r.commit(r.inc.TicketFailed(1, again.Key, "Jira refused (403)", r.meta(incident.Bot)))
	third := r.commit(r.inc.RequestTicket(1, r.meta("U1"))).Effects[0]
	require.Equal(t, []string{fx.Key, again.Key}, incident.PreviousKeys(third))
	r.commit(r.inc.TicketCreated(1, third.Key, opsTicket, r.meta(incident.Bot)))
	require.Equal(t, "OPS-12", r.inc.Actions[0].Ticket.ID)

	_, err = r.inc.RequestTicket(2, r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "has no action 2")
}

func TestTicketClosedInTheTrackerDoesTheItemOnce(t *testing.T) {
	r, fx := ticketed(t)
	r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))

	ch := r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot)))
	require.Equal(t, []string{"post incident line"}, effectShape(ch), "no close goes back to the tracker")
	a := r.inc.Actions[0]
	require.Equal(t, incident.ActionDone, a.Status)
	require.True(t, a.ClosedByTicket)
	require.Equal(t, incident.TicketClosed, a.Ticket.State)
	require.Equal(t, "Action 1 ticket OPS-12 closed in its tracker; the action is done", timeline.Describe(ch.Events[0]))

	require.Empty(t, r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot))).Events, "told twice, recorded once")

	ch = r.commit(r.inc.TicketChanged(1, incident.TicketOpen, r.meta(incident.Bot)))
	require.Equal(t, incident.ActionOpen, r.inc.Actions[0].Status, "reopening the ticket reopens what closing it did")
	require.Equal(t, "Action 1 ticket OPS-12 reopened in its tracker; the action is open again", timeline.Describe(ch.Events[0]))

	_, err := r.inc.TicketChanged(1, "resolved", r.meta(incident.Bot))
	require.ErrorIs(t, err, incident.ErrInvalid)
}

func TestDoneInOodaClosesTheTicket(t *testing.T) {
	r, fx := ticketed(t)
	// Done before the ticket exists: nothing to close yet.
	ch := r.commit(r.inc.MarkActionDone(1, r.meta("U5")))
	require.Equal(t, []string{"post incident line"}, effectShape(ch))
	ch = r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))
	require.Equal(t, []string{"post incident line", "close_ticket"}, effectShape(ch), "a ticket created for a done item is closed at once")
	r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot)))
	require.Equal(t, incident.ActionDone, r.inc.Actions[0].Status)
	require.False(t, r.inc.Actions[0].ClosedByTicket)

	r.commit(r.inc.ReopenAction(1, r.meta("U5")))
	r.commit(r.inc.TicketChanged(1, incident.TicketOpen, r.meta(incident.Bot)))
	ch = r.commit(r.inc.MarkActionDone(1, r.meta("U5")))
	require.Equal(t, []string{"post incident line", "close_ticket"}, effectShape(ch))
	require.Equal(t, map[string]string{incident.ParamAction: "1", incident.ParamHow: timeline.ActionChangeDone}, ch.Effects[1].Params)
	require.False(t, r.inc.Actions[0].ClosedByTicket)

	// The close lands: the ticket is closed, and the item, done by a
	// person, stays done however the ticket moves later.
	ch = r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot)))
	require.Len(t, ch.Events, 1)
	require.Empty(t, ch.Effects)
	r.commit(r.inc.TicketChanged(1, incident.TicketOpen, r.meta(incident.Bot)))
	require.Equal(t, incident.ActionDone, r.inc.Actions[0].Status, "a person's done is not undone by the tracker")

	r.commit(r.inc.ReopenAction(1, r.meta("U5")))
	ch = r.commit(r.inc.MarkActionWontDo(1, "superseded", r.meta("U5")))
	require.Equal(t, []string{"post incident line", "close_ticket"}, effectShape(ch))
	require.Equal(t, timeline.ActionChangeWontDo, ch.Effects[1].Params[incident.ParamHow])
}

// TestTicketChangesOnAClosedIncident: follow-up work outlives the
// incident; its ticket changes are recorded, not told in the channel.
func TestTicketChangesOnAClosedIncident(t *testing.T) {
	r, fx := ticketed(t)
	r.commit(r.inc.Resolve("rolled back", r.meta("U1")))
	r.commit(r.inc.Close("https://wiki.example/pm/7", r.meta("U1")))
	ch := r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))
	require.Empty(t, ch.Effects)
	ch = r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot)))
	require.Empty(t, ch.Effects)
	require.Equal(t, incident.ActionDone, r.inc.Actions[0].Status)
}

// TestTrackerFailuresAreNotSlackFailures: a ticket's close that failed
// for good is on the timeline, and not counted with Slack's failures,
// which replies warn of.
func TestTrackerFailuresAreNotSlackFailures(t *testing.T) {
	r := declare(t, checkout)
	r.commit(r.inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, "Ooda could not close OPS-12: 403",
		map[string]string{timeline.AttrEffect: "INC-7/9/close_ticket", "kind": string(incident.EffectCloseTicket)}, r.meta(incident.Bot)))
	require.Zero(t, r.inc.FailedEffects)
	r.commit(r.inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, "Ooda could not post",
		map[string]string{timeline.AttrEffect: "INC-7/10/post/incident", "kind": string(incident.EffectPost)}, r.meta(incident.Bot)))
	require.Equal(t, 1, r.inc.FailedEffects)
}

// TestTicketCloseFailed: a close that failed for good is on the item
// and in the timeline until the ticket is closed in the tracker.
func TestTicketCloseFailed(t *testing.T) {
	r, fx := ticketed(t)
	r.commit(r.inc.TicketCreated(1, fx.Key, opsTicket, r.meta(incident.Bot)))
	r.commit(r.inc.MarkActionDone(1, r.meta("U5")))
	ch := r.commit(r.inc.TicketCloseFailed(1, "Jira refused (403): no permission to transition OPS-12", r.meta(incident.Bot)))
	require.Equal(t, []string{"post incident line"}, effectShape(ch), "told in the channel")
	require.Equal(t, "Action 1 ticket OPS-12 could not be closed: Jira refused (403): no permission to transition OPS-12", timeline.Describe(ch.Events[0]))
	require.False(t, ch.Events[0].Bookkeeping(), "shown by /incident timeline")
	require.Equal(t, "OPS-12 (open; close failed: Jira refused (403): no permission to transition OPS-12)", r.inc.Actions[0].TicketLabel())

	r.commit(r.inc.TicketChanged(1, incident.TicketClosed, r.meta(incident.Bot)))
	require.Equal(t, "OPS-12 (closed)", r.inc.Actions[0].TicketLabel(), "closed by hand: the failure is over")
	require.Empty(t, r.commit(r.inc.TicketCloseFailed(1, "late", r.meta(incident.Bot))).Events)
}

// TestTrackerWordsAreBounded: a tracker's error, kept on the item, is
// valid UTF-8 and at most MaxText bytes, cut between characters.
func TestTrackerWordsAreBounded(t *testing.T) {
	r, fx := ticketed(t)
	long := "\xff" + strings.Repeat("é", incident.MaxText)
	r.commit(r.inc.TicketFailed(1, fx.Key, long, r.meta(incident.Bot)))
	got := r.inc.Actions[0].Ticket.Error
	require.True(t, utf8.ValidString(got))
	require.LessOrEqual(t, len(got), incident.MaxText)
	require.True(t, strings.HasPrefix(got, "\uFFFDéé"))
}
