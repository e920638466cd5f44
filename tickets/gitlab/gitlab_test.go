package gitlab_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/gitlab"
	"github.com/ooda-sre/ooda/tickets/trackertest"
	"github.com/ooda-sre/ooda/tickets/trackertest/conformance"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Subject {
		f := trackertest.StartGitLab(t)
		return conformance.Subject{
			Fake:    f,
			Project: "acme/ops",
			Missing: "acme/nothing",
			New: func(token string, client *http.Client) (tickets.Tracker, error) {
				return gitlab.New(gitlab.Config{BaseURL: f.URL(), Token: token, HTTPClient: client})
			},
		}
	})
}

func start(t *testing.T) (*trackertest.GitLab, *gitlab.Tracker) {
	t.Helper()
	f := trackertest.StartGitLab(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	g, err := gitlab.New(gitlab.Config{BaseURL: f.URL(), Token: f.Token(), HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	return f, g
}

func TestCreateByNumericProjectID(t *testing.T) {
	f, g := start(t)
	tk, err := g.Create(t.Context(), "7", tickets.NewTicket{
		Key: "INC-3/12/create_ticket", Title: "Fix the pager", Body: "From INC-3.", Labels: []string{"incident", "sev1"}, Assignee: "42",
	})
	require.NoError(t, err)
	require.Equal(t, "1", tk.ID)
	require.False(t, tk.Created.IsZero())
	got := f.Tickets()[0]
	require.Equal(t, "acme/ops", got.Project)
	require.Equal(t, "From INC-3.\n\n<!-- ooda-key: INC-3/12/create_ticket -->", got.Body)
	require.Equal(t, []string{"incident", "sev1"}, got.Labels)
	require.Equal(t, []string{"42"}, got.Assignees)

	found, ok, err := g.Find(t.Context(), "acme/ops", "INC-3/12/create_ticket", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, tk.ID, found.ID)
}

func TestCreateRejectsNonNumericAssignee(t *testing.T) {
	f, g := start(t)
	_, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t", Assignee: "alice"})
	require.ErrorIs(t, err, resilience.ErrPermanent)
	require.Zero(t, f.Calls(trackertest.EndpointCreate))
}

// TestNoRetriesUnderneath proves client-go's own retries are off: the guard
// owns them, and a POST retried underneath it could open a second ticket.
func TestNoRetriesUnderneath(t *testing.T) {
	for _, c := range []struct {
		name  string
		fault func(f *trackertest.GitLab)
	}{
		{"500", func(f *trackertest.GitLab) { f.Fail(trackertest.EndpointCreate, http.StatusInternalServerError, 5) }},
		{"429", func(f *trackertest.GitLab) { f.RateLimit(trackertest.EndpointCreate, time.Second, 5) }},
		{"reset after create", func(f *trackertest.GitLab) { f.LoseResponse(trackertest.EndpointCreate, 5) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, g := start(t)
			c.fault(f)
			_, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
			require.Error(t, err)
			require.Equal(t, 1, f.Calls(trackertest.EndpointCreate))
		})
	}
	t.Run("list", func(t *testing.T) {
		f, g := start(t)
		f.Fail(trackertest.EndpointList, http.StatusBadGateway, 5)
		_, _, err := g.Find(t.Context(), "acme/ops", "K", time.Time{})
		require.Equal(t, resilience.ClassRetryable, resilience.Classify(err), "%v", err)
		require.Equal(t, 1, f.Calls(trackertest.EndpointList))
	})
}

func TestErrorSentences(t *testing.T) {
	for _, c := range []struct {
		status int
		want   string
	}{
		{http.StatusForbidden, "GitLab refused: the token's user may not create an issue in acme/ops (403)"},
		{http.StatusUnprocessableEntity, "(422)"},
		{http.StatusGone, "(410)"},
	} {
		t.Run(http.StatusText(c.status), func(t *testing.T) {
			f, g := start(t)
			f.Fail(trackertest.EndpointCreate, c.status, 1)
			_, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
			require.ErrorIs(t, err, resilience.ErrPermanent)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), f.Token())
		})
	}
}

func TestAccountByEmail(t *testing.T) {
	f, g := start(t)
	f.AddUser(trackertest.GitLabUser{ID: 42, Username: "alice", Name: "Alice Liddell", PublicEmail: "alice@example.com"})
	f.AddUser(trackertest.GitLabUser{ID: 43, Username: "bob", Name: "Bob", PublicEmail: ""})
	for email, want := range map[string]string{
		"alice@example.com": "42",
		"ALICE@example.com": "42",
		"bob@example.com":   "",
	} {
		got, err := g.AccountByEmail(t.Context(), email)
		require.NoError(t, err)
		require.Equal(t, want, got, email)
	}
	require.Equal(t, 3, f.Calls(trackertest.EndpointUsers))
}

func TestWebhookIgnoresOtherEvents(t *testing.T) {
	_, g := start(t)
	secret := []byte("s3cret")
	// A note as GitLab's webhook events page shows one (trimmed), a
	// pipeline, and a body that is no issue event at all: whatever the
	// shape, an event Ooda does not follow is not read, and not refused,
	// or GitLab would disable the webhook after a few failures.
	note := `{"object_kind":"note","event_type":"note","user":{"id":1,"name":"Administrator","username":"root"},` +
		`"project_id":5,"project":{"id":5,"name":"ops","path_with_namespace":"acme/ops"},` +
		`"object_attributes":{"id":1244,"note":"hi","noteable_type":"Issue","author_id":1,"project_id":5,"action":"create",` +
		`"position":{"base_sha":"e83c5163","head_sha":"e83c5163","new_path":"README.md"},"type":"DiffNote","url":"http://example.com/acme/ops/-/issues/1#note_1244"},` +
		`"issue":{"id":92,"iid":1,"title":"Fix the pager","state":"closed"}}`
	for _, c := range []struct{ event, body string }{
		{"Note Hook", note},
		{"Note Hook", `[{"object_kind":"note"}]`},
		{"Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"id":31,"iid":3,"status":"success","stages":["build","test"]}}`},
		{"Merge Request Hook", `{"object_kind":"merge_request","object_attributes":{"iid":1,"action":"close"}}`},
		{"Issue Hook", `{"object_kind":"issue","project":{"path_with_namespace":"acme/ops"},"object_attributes":{"iid":1,"action":"update"}}`},
	} {
		t.Run(c.event, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Gitlab-Event", c.event)
			h.Set("X-Gitlab-Token", string(secret))
			changes, err := g.Webhook(h, []byte(c.body), secret)
			require.NoError(t, err)
			require.Empty(t, changes)
		})
	}

	h := http.Header{}
	h.Set("X-Gitlab-Event", "Note Hook")
	h.Set("X-Gitlab-Token", "s3cre")
	_, err := g.Webhook(h, []byte(`garbage`), secret)
	require.ErrorIs(t, err, tickets.ErrBadSignature, "the token is checked first")
}

// TestWebhookReadsOnlyWhatItNeeds: an issue event whose fields Ooda does not
// read take another shape than client-go expects still reports the change.
func TestWebhookReadsOnlyWhatItNeeds(t *testing.T) {
	_, g := start(t)
	secret := []byte("s3cret")
	h := http.Header{}
	h.Set("X-Gitlab-Event", "Issue Hook")
	h.Set("X-Gitlab-Token", string(secret))
	body := `{"object_kind":"issue","project":{"path_with_namespace":"acme/ops"},` +
		`"object_attributes":{"iid":1,"action":"close","url":"http://example.com/acme/ops/-/issues/1",` +
		`"time_estimate":"1h","escalation_policy":"none","description":{"type":"doc"}}}`
	changes, err := g.Webhook(h, []byte(body), secret)
	require.NoError(t, err)
	require.Equal(t, []tickets.Change{{Project: "acme/ops", ID: "1", URL: "http://example.com/acme/ops/-/issues/1", State: tickets.StateClosed}}, changes)
}

func TestNewValidates(t *testing.T) {
	_, err := gitlab.New(gitlab.Config{HTTPClient: http.DefaultClient})
	require.Error(t, err)
	g, err := gitlab.New(gitlab.Config{Token: "x", HTTPClient: http.DefaultClient})
	require.NoError(t, err)
	require.Equal(t, tickets.KindGitLab, g.Kind())
	_, err = g.States(context.Background(), "acme/ops", []string{"OPS-1"}, time.Time{})
	require.ErrorIs(t, err, resilience.ErrPermanent)
}
