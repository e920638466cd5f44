package postmortem_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

// TestActionItemsShowTheirTickets: an item's ticket shows in every format
// as it stands: pending while the tracker has not answered, its name,
// state and page once created, and why when it failed for good.
func TestActionItemsShowTheirTickets(t *testing.T) {
	s := richIncident(t)
	inc := &s.inc
	later := 3 * 24 * time.Hour
	s.commit(inc.RequestTicket(1, s.by(later, carol)))
	s.commit(inc.RequestTicket(2, s.by(later+time.Minute, carol)))
	s.commit(inc.RequestTicket(3, s.by(later+2*time.Minute, carol)))
	key := func(id int) string { a, _ := inc.Action(id); return a.Ticket.Effect }
	bot := func(d time.Duration, k string) incident.Meta {
		return incident.Meta{At: declaredAt.Add(d), Actor: incident.Bot, Source: "system", Key: k}
	}
	s.commit(inc.TicketCreated(2, key(2), incident.Ticket{Tracker: "github", Project: "acme/ops", ID: "42", URL: "https://github.example.com/acme/ops/issues/42", State: incident.TicketOpen}, bot(later+time.Hour, "c2")))
	s.commit(inc.TicketFailed(3, key(3), "GitHub refused (403): the token may not create issues in acme/ops", bot(later+time.Hour, "f3")))
	s.commit(inc.TicketChanged(2, incident.TicketClosed, bot(later+2*time.Hour, "x2")))

	doc := postmortem.Draft(s.inc, s.events, richOptions())
	a := doc.Actions.Items
	require.Equal(t, &postmortem.Ticket{State: incident.TicketPending}, a[0].Ticket)
	require.Equal(t, &postmortem.Ticket{Name: "acme/ops#42", URL: "https://github.example.com/acme/ops/issues/42", State: incident.TicketClosed}, a[1].Ticket)
	require.Equal(t, incident.ActionDone, a[1].Status, "closing the ticket in the tracker did the item")
	require.Equal(t, incident.TicketFailed, a[2].Ticket.State)

	md := renderAs(t, doc, postmortem.FormatMarkdown)
	require.Contains(t, md, " | ticket pending |\n")
	require.Contains(t, md, " | acme/ops\\#42 (closed) <https://github.example.com/acme/ops/issues/42> |\n")
	require.Contains(t, md, " | ticket failed: GitHub refused (403): the token may not create issues in acme/ops |\n")

	html := renderAs(t, doc, postmortem.FormatHTML)
	require.Contains(t, html, `<td>ticket pending</td></tr>`)
	require.Contains(t, html, `<td><a href="https://github.example.com/acme/ops/issues/42" rel="noreferrer">acme/ops#42</a> (closed)</td></tr>`)

	var js struct {
		Actions struct {
			Items []struct {
				Ticket *postmortem.Ticket `json:"ticket"`
			} `json:"items"`
		} `json:"action_items"`
	}
	require.NoError(t, json.Unmarshal([]byte(renderAs(t, doc, postmortem.FormatJSON)), &js))
	require.Equal(t, "pending", js.Actions.Items[0].Ticket.State)
	require.Equal(t, "acme/ops#42", js.Actions.Items[1].Ticket.Name)
}
