package tickets_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/trackertest"
)

// BenchmarkPoll measures one poll of the tickets Ooda follows, through
// each real adapter against its fake over loopback HTTP: the time, and
// the requests it makes (the rule is one per project per 100 tickets, so
// ten times the tickets is ten times the requests, not more).
func BenchmarkPoll(b *testing.B) {
	for _, ac := range adapterCases() {
		for _, size := range []int{100, 1000} {
			b.Run(fmt.Sprintf("%s/tickets=%d", ac.name, size), func(b *testing.B) {
				fake := ac.fake()
				b.Cleanup(fake.Close)
				r := ac.rig(b, fake.URL(), nil, nil)
				tr := r.trackers[ac.name]
				for range size / 100 {
					n := r.declare("Checkout fails for EU cards", "search", false)
					for j := range 100 {
						id := r.addItem(n, fmt.Sprintf("follow-up %d", j), alice)
						inc, err := r.db.Incident(r.ctx, n)
						require.NoError(b, err)
						a, _ := inc.Action(id)
						key := a.Ticket.Effect
						// Opened directly, as a first attempt would.
						t, err := tr.Create(r.ctx, ac.project, tickets.NewTicket{Key: key, Title: a.Text, Labels: []string{"incident"}})
						require.NoError(b, err)
						r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
							return inc.TicketCreated(id, key, incident.Ticket{Tracker: ac.name, Project: ac.project, ID: t.ID, URL: t.URL, State: incident.TicketOpen}, m)
						})
					}
				}
				poller := r.svc.Poller()
				before := fake.Calls(trackertest.EndpointList)
				for b.Loop() {
					require.NoError(b, poller.PollOnce(r.ctx))
				}
				b.ReportMetric(float64(fake.Calls(trackertest.EndpointList)-before)/float64(b.N), "requests/poll")
			})
		}
	}
}
