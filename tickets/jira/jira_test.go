package jira_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/jira"
	"github.com/ooda-sre/ooda/tickets/trackertest"
	"github.com/ooda-sre/ooda/tickets/trackertest/conformance"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var flavors = []string{jira.FlavorCloud, jira.FlavorDataCenter}

func config(f *trackertest.Jira, token string, client *http.Client) jira.Config {
	return jira.Config{
		BaseURL: f.URL(), Flavor: f.Flavor(), Email: trackertest.DefaultJiraEmail, Token: token, HTTPClient: client,
	}
}

func TestConformance(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(flavor, func(t *testing.T) {
			conformance.Run(t, func(t *testing.T) conformance.Subject {
				f := trackertest.StartJira(t, flavor)
				return conformance.Subject{
					Fake:    f,
					Project: "OPS",
					Missing: "NOPE",
					New: func(token string, client *http.Client) (tickets.Tracker, error) {
						return jira.New(config(f, token, client))
					},
				}
			})
		})
	}
}

func start(t *testing.T, flavor string) (*trackertest.Jira, *jira.Tracker) {
	t.Helper()
	f := trackertest.StartJira(t, flavor)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	j, err := jira.New(config(f, f.Token(), &http.Client{Transport: tr}))
	require.NoError(t, err)
	return f, j
}

func TestKeyLabel(t *testing.T) {
	require.Equal(t, "ooda-inc-3-12-create-ticket", jira.KeyLabel("INC-3/12/create_ticket"))
	require.Equal(t, "ooda-a-b-c", jira.KeyLabel("A B:c"))
}

func TestCreateSendsLabelAssigneeAndMarker(t *testing.T) {
	for _, c := range []struct{ flavor, assignee string }{
		{jira.FlavorCloud, "5b10ac8d82e05b22cc7d4ef5"},
		{jira.FlavorDataCenter, "alice"},
	} {
		t.Run(c.flavor, func(t *testing.T) {
			f, j := start(t, c.flavor)
			tk, err := j.Create(t.Context(), "OPS", tickets.NewTicket{
				Key: "INC-3/12/create_ticket", Title: "Fix the pager", Body: "From INC-3.", Labels: []string{"incident"}, Assignee: c.assignee,
			})
			require.NoError(t, err)
			require.Equal(t, "OPS-1", tk.ID)
			require.Equal(t, f.URL()+"/browse/OPS-1", tk.URL)
			got := f.Tickets()[0]
			require.Equal(t, "From INC-3.\n\nooda-key: INC-3/12/create_ticket", got.Body)
			require.Equal(t, []string{"incident", "ooda-inc-3-12-create-ticket"}, got.Labels)
			require.Equal(t, []string{c.assignee}, got.Assignees)
		})
	}
}

func TestCloseChoosesTransition(t *testing.T) {
	custom := []trackertest.JiraTransition{
		{ID: "5", Name: "Start", To: "In Progress", Category: "indeterminate"},
		{ID: "6", Name: "Decline", To: "Declined", Category: "done"},
		{ID: "7", Name: "Resolve", To: "Resolved", Category: "done"},
	}
	for _, c := range []struct {
		name     string
		workflow []trackertest.JiraTransition
		how      string
		status   string
	}{
		{"done, default workflow", trackertest.DefaultJiraWorkflow, tickets.CloseDone, "Done"},
		{"won't do, default workflow", trackertest.DefaultJiraWorkflow, tickets.CloseWontDo, "Won't Do"},
		{"done skips declined", custom, tickets.CloseDone, "Resolved"},
		{"won't do prefers declined", custom, tickets.CloseWontDo, "Declined"},
		{"won't do without one is done", []trackertest.JiraTransition{
			{ID: "31", Name: "Done", To: "Done", Category: "done"},
		}, tickets.CloseWontDo, "Done"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, j := start(t, jira.FlavorCloud)
			f.SetWorkflow(c.workflow)
			tk, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: "t"})
			require.NoError(t, err)
			require.NoError(t, j.Close(t.Context(), "OPS", tk.ID, c.how))
			got := f.Tickets()[0]
			require.Equal(t, tickets.StateClosed, got.State)
			require.Equal(t, c.status, got.Reason)
			require.Equal(t, 1, f.Calls(trackertest.EndpointIssue), "one GET reads status and transitions")
			require.Equal(t, 1, f.Calls(trackertest.EndpointClose))
		})
	}
}

func TestCloseWithoutDoneTransitionIsPermanent(t *testing.T) {
	f, j := start(t, jira.FlavorDataCenter)
	f.SetWorkflow([]trackertest.JiraTransition{{ID: "5", Name: "Start", To: "In Progress", Category: "indeterminate"}})
	tk, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: "t"})
	require.NoError(t, err)
	err = j.Close(t.Context(), "OPS", tk.ID, tickets.CloseDone)
	require.ErrorIs(t, err, resilience.ErrPermanent)
	require.EqualError(t, err, "Jira offers no transition to a done status for OPS-1 from its workflow")
	require.Zero(t, f.Calls(trackertest.EndpointClose))
}

func TestAccountByEmail(t *testing.T) {
	for _, c := range []struct{ flavor, want string }{
		{jira.FlavorCloud, "5b10ac8d82e05b22cc7d4ef5"},
		{jira.FlavorDataCenter, "alice"},
	} {
		t.Run(c.flavor, func(t *testing.T) {
			f, j := start(t, c.flavor)
			f.AddUser(trackertest.JiraUser{AccountID: "5b10ac8d82e05b22cc7d4ef5", Name: "alice", Email: "alice@example.com", Display: "Alice"})
			f.AddUser(trackertest.JiraUser{AccountID: "5b10ac8d82e05b22cc7d4ef6", Name: "alicia", Email: "alice@example.com.au", Display: "Alicia"})
			got, err := j.AccountByEmail(t.Context(), "alice@example.com")
			require.NoError(t, err)
			require.Equal(t, c.want, got)
			got, err = j.AccountByEmail(t.Context(), "nobody@example.com")
			require.NoError(t, err)
			require.Empty(t, got)
		})
	}
}

func TestErrorSentences(t *testing.T) {
	f, j := start(t, jira.FlavorCloud)
	_, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: ""})
	require.ErrorIs(t, err, resilience.ErrPermanent)
	require.Contains(t, err.Error(), "Jira refused: it did not accept the request to create an issue in OPS: summary: You must specify a summary of the issue. (400)")

	f.Fail(trackertest.EndpointCreate, http.StatusForbidden, 1)
	_, err = j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: "t"})
	require.ErrorIs(t, err, resilience.ErrPermanent)
	require.Contains(t, err.Error(), "(403)")

	f.Fail(trackertest.EndpointList, http.StatusServiceUnavailable, 1)
	_, _, err = j.Find(t.Context(), "OPS", "K", time.Time{})
	require.Equal(t, resilience.ClassRetryable, resilience.Classify(err), "%v", err)
}

func TestWebhookIgnoresOtherEvents(t *testing.T) {
	f, j := start(t, jira.FlavorCloud)
	secret := []byte("s3cret")
	tk, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: "t"})
	require.NoError(t, err)
	require.NoError(t, f.CloseTicket("OPS", tk.ID))
	h, body, err := f.SignedWebhook("OPS", tk.ID, secret)
	require.NoError(t, err)
	changes, err := j.Webhook(h, body, secret)
	require.NoError(t, err)
	require.Equal(t, []tickets.Change{{Project: "OPS", ID: "OPS-1", URL: f.URL() + "/browse/OPS-1", State: tickets.StateClosed}}, changes)

	created := []byte(strings.Replace(string(body), "jira:issue_updated", "jira:issue_created", 1))
	relabelled := []byte(strings.Replace(string(body), `"field":"status"`, `"field":"labels"`, 1))
	for name, b := range map[string][]byte{"created": created, "labels changed": relabelled} {
		t.Run(name, func(t *testing.T) {
			sh := h.Clone()
			sh.Set("X-Hub-Signature", trackertest.JiraSignature(b, secret))
			changes, err := j.Webhook(sh, b, secret)
			require.NoError(t, err)
			require.Empty(t, changes)
		})
	}
}

// TestWebhookReadsOnlyWhatItNeeds: a field Ooda does not read may take any
// shape (Cloud sends descriptions in Atlassian Document Format to some
// webhooks) without failing the delivery.
func TestWebhookReadsOnlyWhatItNeeds(t *testing.T) {
	f, j := start(t, jira.FlavorCloud)
	secret := []byte("s3cret")
	tk, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K", Title: "t"})
	require.NoError(t, err)
	require.NoError(t, f.CloseTicket("OPS", tk.ID))
	h, body, err := f.SignedWebhook("OPS", tk.ID, secret)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(body, &ev))
	fields := ev["issue"].(map[string]any)["fields"].(map[string]any)
	fields["description"] = map[string]any{"type": "doc", "version": 1, "content": []any{
		map[string]any{"type": "paragraph", "content": []any{map[string]any{"type": "text", "text": "From INC-3."}}},
	}}
	fields["created"] = 1733140000000
	body, err = json.Marshal(ev)
	require.NoError(t, err)
	h.Set("X-Hub-Signature", trackertest.JiraSignature(body, secret))

	changes, err := j.Webhook(h, body, secret)
	require.NoError(t, err)
	require.Equal(t, []tickets.Change{{Project: "OPS", ID: "OPS-1", URL: f.URL() + "/browse/OPS-1", State: tickets.StateClosed}}, changes)
}

// TestStatesSurviveADeletedKey: a ticket deleted in Jira must not stop the
// others' states being read. Cloud's JQL search answers 400 to a key in (…)
// naming it, so Cloud reads them with the bulk fetch; Data Center's search
// warns instead when validateQuery is false, and its fake, like Data
// Center, answers 400 to Cloud's string values ("warn").
func TestStatesSurviveADeletedKey(t *testing.T) {
	for _, flavor := range flavors {
		t.Run(flavor, func(t *testing.T) {
			f, j := start(t, flavor)
			a, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K/1", Title: "one"})
			require.NoError(t, err)
			b, err := j.Create(t.Context(), "OPS", tickets.NewTicket{Key: "K/2", Title: "two"})
			require.NoError(t, err)
			require.NoError(t, f.CloseTicket("OPS", b.ID))

			before := f.Calls(trackertest.EndpointList)
			got, err := j.States(t.Context(), "OPS", []string{a.ID, "OPS-404", b.ID}, time.Time{})
			require.NoError(t, err)
			require.Equal(t, 1, f.Calls(trackertest.EndpointList)-before, "one request")
			require.Equal(t, map[string]tickets.Ticket{
				a.ID: {ID: a.ID, URL: a.URL, State: tickets.StateOpen},
				b.ID: {ID: b.ID, URL: b.URL, State: tickets.StateClosed},
			}, withoutCreated(got))
		})
	}
}

// TestFakeCloudSearchRejectsUnknownKey pins the fake to Jira Cloud: its
// /search/jql fails on a key in (…) naming an issue that does not exist.
func TestFakeCloudSearchRejectsUnknownKey(t *testing.T) {
	f := trackertest.StartJira(t, trackertest.JiraCloud)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL()+"/rest/api/2/search/jql",
		strings.NewReader(`{"jql":"project = \"OPS\" AND key in (\"OPS-404\")","fields":["status"]}`))
	require.NoError(t, err)
	req.SetBasicAuth(trackertest.DefaultJiraEmail, f.Token())
	req.Header.Set("Content-Type", "application/json")
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	msg, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Contains(t, string(msg), "An issue with key 'OPS-404' does not exist for field 'key'.")
}

func withoutCreated(m map[string]tickets.Ticket) map[string]tickets.Ticket {
	out := make(map[string]tickets.Ticket, len(m))
	for k, v := range m {
		v.Created = time.Time{}
		out[k] = v
	}
	return out
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]jira.Config{
		"no base url":     {Flavor: jira.FlavorDataCenter, Token: "x", HTTPClient: http.DefaultClient},
		"unknown flavor":  {BaseURL: "https://jira.example.com", Flavor: "server", Token: "x", HTTPClient: http.DefaultClient},
		"cloud, no email": {BaseURL: "https://acme.atlassian.net", Flavor: jira.FlavorCloud, Token: "x", HTTPClient: http.DefaultClient},
		"no token":        {BaseURL: "https://jira.example.com", Flavor: jira.FlavorDataCenter, HTTPClient: http.DefaultClient},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := jira.New(cfg)
			require.Error(t, err)
		})
	}
}
