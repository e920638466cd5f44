package tickets_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/github"
	"github.com/ooda-sre/ooda/tickets/gitlab"
	"github.com/ooda-sre/ooda/tickets/jira"
	"github.com/ooda-sre/ooda/tickets/trackertest"
)

// adapterCase is one real adapter against its tracker's fake REST API.
type adapterCase struct {
	name    string
	kind    string
	project string
	tc      tickets.TrackerConfig
	fake    func() trackertest.Fake
	token   string // the only token the fake accepts
	build   func(url, token string, client *http.Client) (tickets.Tracker, error)
}

func adapterCases() []adapterCase {
	return []adapterCase{
		{
			name: "github", kind: tickets.KindGitHub, project: "acme/ops",
			fake: func() trackertest.Fake { return trackertest.NewGitHub() }, token: trackertest.DefaultGitHubToken,
			build: func(url, token string, c *http.Client) (tickets.Tracker, error) {
				return github.New(github.Config{BaseURL: url, Token: token, HTTPClient: c})
			},
		},
		{
			name: "gitlab", kind: tickets.KindGitLab, project: "acme/ops",
			fake: func() trackertest.Fake { return trackertest.NewGitLab() }, token: trackertest.DefaultGitLabToken,
			build: func(url, token string, c *http.Client) (tickets.Tracker, error) {
				return gitlab.New(gitlab.Config{BaseURL: url, Token: token, HTTPClient: c})
			},
		},
		{
			name: "jira", kind: tickets.KindJira, project: "OPS",
			tc:   tickets.TrackerConfig{Email: trackertest.DefaultJiraEmail},
			fake: func() trackertest.Fake { return trackertest.NewJira(jira.FlavorCloud) }, token: trackertest.DefaultJiraToken,
			build: func(url, token string, c *http.Client) (tickets.Tracker, error) {
				return jira.New(jira.Config{BaseURL: url, Flavor: jira.FlavorCloud, Email: trackertest.DefaultJiraEmail, Token: token, HTTPClient: c})
			},
		},
		{
			name: "jira-dc", kind: tickets.KindJira, project: "OPS",
			tc:   tickets.TrackerConfig{Flavor: tickets.FlavorDataCenter},
			fake: func() trackertest.Fake { return trackertest.NewJira(jira.FlavorDataCenter) }, token: trackertest.DefaultJiraToken,
			build: func(url, token string, c *http.Client) (tickets.Tracker, error) {
				return jira.New(jira.Config{BaseURL: url, Flavor: jira.FlavorDataCenter, Token: token, HTTPClient: c})
			},
		},
	}
}

// rig builds a rig whose one tracker is the real adapter reaching url,
// on db (nil: a new database).
func (ac adapterCase) rig(t testing.TB, url string, secret []byte, db *storage.DB) *rig {
	t.Helper()
	tc := ac.tc
	tc.Name, tc.Kind, tc.TokenEnv = ac.name, ac.kind, "TOKEN"
	if ac.kind == tickets.KindJira {
		tc.URL = "https://jira.example"
	}
	return newRig(t, rigOptions{
		db:     db,
		config: tickets.Config{Trackers: []tickets.TrackerConfig{tc}, Default: &tickets.Route{Tracker: ac.name, Project: ac.project}},
		adapters: map[string]func(g *resilience.Guard) tickets.Tracker{ac.name: func(g *resilience.Guard) tickets.Tracker {
			tr, err := ac.build(url, ac.token, g.HTTPClient())
			require.NoError(t, err)
			return tr
		}},
		secrets: map[string][]byte{ac.name: secret},
	})
}

// TestAdapters drives each real adapter, against its tracker's fake, through
// the Service: one ticket under faults, closed in the tracker heard by poll
// and by webhook and recorded once, done in Ooda closing the ticket, and
// webhook signatures checked.
func TestAdapters(t *testing.T) {
	secret := []byte("webhook-secret-for-the-fake")
	for _, ac := range adapterCases() {
		t.Run(ac.name, func(t *testing.T) {
			fake := ac.fake()
			t.Cleanup(fake.Close)
			r := ac.rig(t, fake.URL(), secret, nil)
			n := r.declare("Checkout fails for EU cards", "search", false)

			// A response lost after the ticket was created: one ticket.
			lost := r.addItem(n, "Alert on card declines", "")
			fake.LoseResponse(trackertest.EndpointCreate, 1)
			err := r.attempt(r.pending(incident.EffectCreateTicket))
			require.Error(t, err)
			require.NotErrorIs(t, err, resilience.ErrPermanent)
			require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
			require.Len(t, fake.Tickets(), 1)
			assert.Equal(t, 1, fake.Calls(trackertest.EndpointCreate), "found by key, not created again")

			// 500 three times, then 200: one ticket.
			fails := r.addItem(n, "Add a dashboard for declines", "")
			fake.Fail(trackertest.EndpointCreate, http.StatusInternalServerError, 3)
			for range 3 {
				err := r.attempt(r.pending(incident.EffectCreateTicket))
				require.Error(t, err)
				require.NotErrorIs(t, err, resilience.ErrPermanent)
				assert.Equal(t, "ticket pending", r.item(n, fails).TicketLabel())
			}
			require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
			all := fake.Tickets()
			require.Len(t, all, 2)

			a := r.item(n, lost)
			require.Equal(t, incident.TicketOpen, a.Ticket.State)
			assert.Equal(t, all[0].ID, a.Ticket.ID)
			assert.Equal(t, all[0].URL, a.Ticket.URL)
			assert.Equal(t, all[1].ID, r.item(n, fails).Ticket.ID)

			// Closed in the tracker: heard by poll and webhook, recorded once.
			require.NoError(t, fake.CloseTicket(ac.project, a.Ticket.ID))
			require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
			h, body, err := fake.SignedWebhook(ac.project, a.Ticket.ID, secret)
			require.NoError(t, err)
			require.NoError(t, r.svc.Deliver(r.ctx, ac.name, h, body))
			require.NoError(t, r.svc.Poller().PollOnce(r.ctx))
			assert.Equal(t, incident.ActionDone, r.item(n, lost).Status)
			closes := 0
			for _, e := range r.ticketEvents(n) {
				if e == "ticket_state closed done" {
					closes++
				}
			}
			assert.Equal(t, 1, closes, "recorded once: %v", r.ticketEvents(n))

			// Webhook signatures: invalid, missing.
			h, body, err = fake.SignedWebhook(ac.project, a.Ticket.ID, []byte("another-secret"))
			require.NoError(t, err)
			require.ErrorIs(t, r.svc.Deliver(r.ctx, ac.name, h, body), tickets.ErrBadSignature)
			h, body, err = fake.SignedWebhook(ac.project, a.Ticket.ID, nil)
			require.NoError(t, err)
			require.ErrorIs(t, r.svc.Deliver(r.ctx, ac.name, h, body), tickets.ErrBadSignature)

			// Done in Ooda: commented on and closed in the tracker.
			r.apply(n, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
				return inc.MarkActionDone(fails, m)
			})
			require.NoError(t, r.attempt(r.pending(incident.EffectCloseTicket)))
			got := fake.Tickets()[1]
			assert.Equal(t, tickets.StateClosed, got.State)
			assert.Equal(t, []string{"Marked done in Ooda by Alice Chen in INC-1."}, got.Comments)
			assert.Equal(t, incident.TicketClosed, r.item(n, fails).Ticket.State)
		})
	}
}
