package command

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

// routes is a Tickets routing the services it names.
type routes map[string]bool

func (r routes) Routed(service string) bool { return r[strings.ToLower(service)] || r["*"] }

// TestActionTickets: with a tracker routed for the incident's service an
// item is added with its ticket pending, in the same command;
// `action ticket n` asks for one for an item made before, and says what
// to do when no tracker covers the incident.
func TestActionTickets(t *testing.T) {
	r := newActionRig(t)
	r.ok(alice, "declare sev2 --service checkout Checkout down")
	r.ok(alice, "declare sev3 --service search Search slow")

	require.Equal(t, "INC-1: action 1 added (P2, no owner yet, due Thu 31 Dec).", r.ok(alice, "action INC-1 add a canary"),
		"no tracker: no ticket")
	rep := r.as(alice, "action INC-1 ticket 1", false)
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Contains(t, rep.Text, "No tracker is configured to open a ticket for action 1")
	require.Contains(t, rep.Text, "`/incident action link 1 <url>`")

	r.d.Tickets = routes{"checkout": true}
	require.Equal(t, "INC-1: action 2 added (P2, no owner yet, due Thu 31 Dec, ticket pending).", r.ok(alice, "action INC-1 alert on pool saturation"))
	inc := r.incident(1)
	require.Equal(t, incident.TicketPending, inc.Actions[1].Ticket.State)
	require.Nil(t, inc.Actions[0].Ticket)

	require.Equal(t, "INC-1: action 1's ticket is asked for; it is created as soon as the tracker answers.", r.ok(alice, "action INC-1 ticket 1"))
	require.Equal(t, incident.TicketPending, r.incident(1).Actions[0].Ticket.State)
	rep = r.as(alice, "action INC-1 ticket 1", false)
	require.Equal(t, http.StatusConflict, rep.Code)
	require.Contains(t, rep.Text, "has a ticket pending already")

	rep = r.as(alice, "action INC-1 ticket 7", false)
	require.Equal(t, http.StatusBadRequest, rep.Code, "no item 7: not a new item titled “ticket 7” either")
	require.Contains(t, rep.Text, "INC-1 has no action 7; its items are 1 to 2")
	require.Len(t, r.incident(1).Actions, 2)
	rep = r.as(alice, "action INC-1 ticket 7 for the canary", false)
	require.Equal(t, http.StatusBadRequest, rep.Code, "nor with words after it")
	require.Contains(t, rep.Text, "INC-1 has no action 7")
	require.Contains(t, rep.Text, "begin it with another word: `/incident action open ticket 7 …`")
	require.Len(t, r.incident(1).Actions, 2)

	rep = r.as(alice, "action INC-1 ticket 1 please", false)
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Contains(t, rep.Text, "takes nothing after the item's number")

	// Search has no route: its items get none, and asking says why.
	require.Equal(t, "INC-2: action 1 added (P2, no owner yet, due Thu 31 Dec).", r.ok(alice, "action INC-2 tune the cache"))
	rep = r.as(alice, "action INC-2 ticket 1", false)
	require.Equal(t, http.StatusBadRequest, rep.Code)
	require.Contains(t, rep.Text, "No tracker route covers service search (and there is no default route)")

	// The list shows where each item's ticket stands.
	list := r.ok(alice, "actions --service checkout")
	require.Contains(t, list, "• INC-1 #2 P2 · due Thu 31 Dec · no owner · ticket pending · “alert on pool saturation”")
}

// TestActionsListLinksTickets: a created ticket is linked by name with
// its state, and a failed one says why.
func TestActionsListLinksTickets(t *testing.T) {
	r := newActionRig(t)
	r.d.Tickets = routes{"*": true}
	r.ok(alice, "declare sev2 Checkout down")
	r.ok(alice, "action INC-1 alert on pool saturation")
	r.ok(alice, "action INC-1 add a canary")
	bot := incident.Meta{At: r.at, Actor: incident.Bot, Source: "system", Key: "created"}
	_, err := r.d.Store.Apply(t.Context(), 1, "created", func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketCreated(1, inc.Actions[0].Ticket.Effect, incident.Ticket{Tracker: "gh", Project: "acme/ops", ID: "42", URL: "https://github.example/acme/ops/issues/42", State: incident.TicketOpen}, bot)
	})
	require.NoError(t, err)
	bot.Key = "failed"
	_, err = r.d.Store.Apply(t.Context(), 1, "failed", func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketFailed(2, inc.Actions[1].Ticket.Effect, "GitHub refused (403): <no access>", bot)
	})
	require.NoError(t, err)

	list := r.ok(alice, "actions")
	require.Contains(t, list, "· <https://github.example/acme/ops/issues/42|acme/ops#42> (open) · “alert on pool saturation”")
	require.Contains(t, list, "· ticket failed: GitHub refused (403): &lt;no access&gt; · “add a canary”")
}
