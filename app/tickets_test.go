package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/trackertest"
	"github.com/ooda-sre/ooda/timeline"
)

const ticketsTestAPIToken = "tickets-test-api-token-0123456789"

// ticketsRig is Ooda as `ooda serve` builds it with a GitHub tracker (a
// fake) configured in the YAML way: a token file, a webhook secret file
// and a default route. The clock is the test's, so a deferred effect
// comes due when the test says.
type ticketsRig struct {
	t      *testing.T
	a      *app.App
	db     *storage.DB
	gh     *trackertest.GitHub
	slack  *slacktest.Server
	clock  *resiliencetest.Clock
	base   string
	secret []byte
}

func newTicketsRig(t *testing.T) *ticketsRig {
	t.Helper()
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slackTestUser, "alice")
	gh := trackertest.StartGitHub(t)
	dir := t.TempDir()
	secret := []byte("webhook-secret-of-the-test")
	tokenFile, secretFile := filepath.Join(dir, "github-token"), filepath.Join(dir, "github-webhook")
	require.NoError(t, os.WriteFile(tokenFile, []byte(gh.Token()+"\n"), 0o600))
	require.NoError(t, os.WriteFile(secretFile, secret, 0o600))
	conf := filepath.Join(dir, "ooda.yaml")
	require.NoError(t, os.WriteFile(conf, []byte(`tickets:
  trackers:
    - name: github
      kind: github
      url: `+gh.URL()+`
      token_file: `+tokenFile+`
      webhook_secret_file: `+secretFile+`
  default: {tracker: github, project: acme/ops}
`), 0o600))
	cfg, err := app.ReadConfigFile(conf)
	require.NoError(t, err)
	def := app.DefaultConfig()
	cfg.DB, cfg.Listen, cfg.EtcdPrefix = def.DB, def.Listen, def.EtcdPrefix
	cfg.SlackBotToken, cfg.SlackSigningSecret, cfg.SlackAPIURL = slackTestBotToken, slackTestSecret, fake.URL()
	cfg.APIToken = ticketsTestAPIToken
	clock := resiliencetest.NewClock(time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC))
	db := storagetest.Open(t)
	a := newApp(t, cfg, db, app.Options{Now: clock.Now})
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(srv.Close)
	return &ticketsRig{t: t, a: a, db: db, gh: gh, slack: fake, clock: clock, base: srv.URL, secret: secret}
}

// do runs an /incident command through the API, then lets the executor
// perform what it queued, as it does in the background.
func (r *ticketsRig) do(text string) string {
	r.t.Helper()
	rep := apiCommand(r.t, r.base, ticketsTestAPIToken, text)
	r.drain()
	return rep.Text
}

// drain makes executor passes until one gets nowhere: a completion may
// queue another effect (a ticket opened is told in the channel).
func (r *ticketsRig) drain() {
	r.t.Helper()
	for range 5 {
		done, err := r.a.Drain(r.t.Context())
		require.NoError(r.t, err)
		if done == 0 {
			return
		}
	}
}

func (r *ticketsRig) get(path string) (int, string) {
	r.t.Helper()
	req, err := http.NewRequestWithContext(r.t.Context(), http.MethodGet, r.base+path, nil)
	require.NoError(r.t, err)
	req.Header.Set("Authorization", "Bearer "+ticketsTestAPIToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(r.t, err)
	return resp.StatusCode, string(b)
}

func (r *ticketsRig) deliver(tracker string, h http.Header, body []byte) int {
	r.t.Helper()
	req, err := http.NewRequestWithContext(r.t.Context(), http.MethodPost, r.base+"/api/v1/webhooks/"+tracker, bytes.NewReader(body))
	require.NoError(r.t, err)
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (r *ticketsRig) incident() incident.Incident {
	r.t.Helper()
	inc, err := r.db.Incident(r.t.Context(), 1)
	require.NoError(r.t, err)
	return inc
}

// ticketEvents counts the incident's events that changed a ticket's
// state in its tracker.
func (r *ticketsRig) ticketEvents() int {
	r.t.Helper()
	evs, err := r.db.Events(r.t.Context(), 1, 1)
	require.NoError(r.t, err)
	n := 0
	for _, e := range evs {
		if e.Attr(timeline.AttrChange) == timeline.ActionChangeTicketState {
			n++
		}
	}
	return n
}

// TestTicketsWithTheTrackerDownForTheWholeIncident: while GitHub is down
// the incident runs as usual (its Slack effects are not held behind the
// tickets), its items exist and the post-mortem says "ticket pending";
// when GitHub returns, each item's ticket is opened once and linked.
func TestTicketsWithTheTrackerDownForTheWholeIncident(t *testing.T) {
	r := newTicketsRig(t)
	r.gh.SetDown(true)
	r.do("declare sev2 --service checkout Checkout down")
	require.Regexp(t, `^INC-1: action 1 added \(P2, no owner yet, due [^,]+, ticket pending\)\.$`, r.do("action INC-1 alert on pool saturation"))
	r.do("action INC-1 add a canary stage P1")
	r.do("observe INC-1 errors at 30%")
	r.do("resolve INC-1 rolled back")
	r.do("postmortem INC-1")

	inc := r.incident()
	require.NotEmpty(t, inc.ChannelID, "the channel was created while the tracker was down")
	require.Len(t, inc.Actions, 2)
	for _, a := range inc.Actions {
		require.Equal(t, incident.TicketPending, a.Ticket.State)
	}
	require.Empty(t, r.gh.Tickets())
	code, md := r.get("/api/v1/incidents/1/postmortem?format=md")
	require.Equal(t, http.StatusOK, code, md)
	require.Regexp(t, `\| alert on pool saturation \| \*unassigned\* \| P2 \(default\) \| [0-9-]+ \| open \| ticket pending \|`, md)
	require.Regexp(t, `\| add a canary stage \| \*unassigned\* \| P1 \| [0-9-]+ \| open \| ticket pending \|`, md)

	r.gh.SetDown(false)
	r.clock.Advance(time.Hour) // the deferred effects come due
	r.drain()
	ts := r.gh.Tickets()
	require.Len(t, ts, 2, "one ticket per item")
	require.Equal(t, []string{"alert on pool saturation", "add a canary stage"}, []string{ts[0].Title, ts[1].Title})
	require.ElementsMatch(t, []string{"incident", "sev2", "P2"}, ts[0].Labels)
	r.drain()
	require.Len(t, r.gh.Tickets(), 2, "nothing more is opened")

	code, md = r.get("/api/v1/incidents/1/postmortem?format=md")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, md, "| acme/ops\\#1 (open) <"+ts[0].URL+"> |")
	require.Contains(t, md, "| acme/ops\\#2 (open) <"+ts[1].URL+"> |")
	code, js := r.get("/api/v1/actions?state=all")
	require.Equal(t, http.StatusOK, code)
	var page struct {
		Actions []struct {
			Ticket *incident.Ticket `json:"ticket"`
		} `json:"actions"`
	}
	require.NoError(t, json.Unmarshal([]byte(js), &page))
	require.Equal(t, &incident.Ticket{State: incident.TicketOpen, Tracker: "github", Project: "acme/ops", ID: "1", URL: ts[0].URL}, page.Actions[0].Ticket,
		"the API shows the ticket, not Ooda's bookkeeping")
}

// TestTicketsKeptInStep: a ticket closed in GitHub does its item, told by
// webhook and by poll and recorded once; deliveries are verified before
// they are read; done in Ooda closes the ticket with a comment.
func TestTicketsKeptInStep(t *testing.T) {
	r := newTicketsRig(t)
	r.do("declare sev2 Checkout down")
	r.do("action INC-1 alert on pool saturation")
	r.do("action INC-1 add a canary stage")
	require.Len(t, r.gh.Tickets(), 2)

	require.NoError(t, r.gh.CloseTicket("acme/ops", "1"))
	h, body, err := r.gh.SignedWebhook("acme/ops", "1", r.secret)
	require.NoError(t, err)

	bad := h.Clone()
	bad.Set("X-Hub-Signature-256", "sha256="+strings.Repeat("0", 64))
	require.Equal(t, http.StatusUnauthorized, r.deliver("github", bad, body), "a wrong signature")
	missing := h.Clone()
	missing.Del("X-Hub-Signature-256")
	missing.Del("X-Hub-Signature")
	require.Equal(t, http.StatusUnauthorized, r.deliver("github", missing, body), "no signature")
	require.Equal(t, http.StatusNotFound, r.deliver("jira", h, body), "no such tracker")
	require.Equal(t, incident.ActionOpen, r.incident().Actions[0].Status, "nothing refused was read")

	require.Equal(t, http.StatusOK, r.deliver("github", h, body))
	r.drain()
	a := r.incident().Actions[0]
	require.Equal(t, incident.ActionDone, a.Status)
	require.Equal(t, incident.TicketClosed, a.Ticket.State)
	require.Equal(t, http.StatusOK, r.deliver("github", h, body), "GitHub's redelivery")
	require.NoError(t, r.a.PollTickets(t.Context()))
	require.Equal(t, 1, r.ticketEvents(), "told three times, recorded once")
	require.NotEmpty(t, r.slack.Messages(r.incident().ChannelID), "the channel hears of it")

	// Done in Ooda: the ticket is commented on and closed.
	r.do("action INC-1 done 2")
	ts := r.gh.Tickets()
	require.Equal(t, tickets.StateClosed, ts[1].State)
	require.Len(t, ts[1].Comments, 1)
	require.Contains(t, ts[1].Comments[0], "Marked done in Ooda")
	require.Empty(t, ts[0].Comments, "a ticket closed in GitHub gets no comment from Ooda")
	require.NoError(t, r.a.PollTickets(t.Context()))
	require.Equal(t, 2, r.ticketEvents(), "the close Ooda made, recorded once")
}
