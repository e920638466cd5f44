package github_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
	"github.com/ooda-sre/ooda/tickets/github"
	"github.com/ooda-sre/ooda/tickets/trackertest"
	"github.com/ooda-sre/ooda/tickets/trackertest/conformance"
)

func TestMain(m *testing.M) {
	// No goroutine may outlive a test: not even the client's timeout
	// watcher of a failed GitHub call (see errorBodies).
	goleak.VerifyTestMain(m)
}

func subject(t *testing.T) conformance.Subject {
	f := trackertest.StartGitHub(t)
	return conformance.Subject{
		Fake:    f,
		Project: "acme/ops",
		Missing: "acme/nothing",
		New: func(token string, client *http.Client) (tickets.Tracker, error) {
			return github.New(github.Config{BaseURL: f.URL(), Token: token, HTTPClient: client})
		},
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, subject)
}

// start returns a fake GitHub and a tracker talking to it with its own
// transport, closed with the test.
func start(t *testing.T) (*trackertest.GitHub, *github.Tracker) {
	t.Helper()
	f := trackertest.StartGitHub(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	g, err := github.New(github.Config{BaseURL: f.URL(), Token: f.Token(), HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	return f, g
}

func TestCreateSendsLabelsAssigneeAndMarker(t *testing.T) {
	f, g := start(t)
	tk, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{
		Key: "INC-3/12/create_ticket", Title: "Fix the pager", Body: "From INC-3.", Labels: []string{"sev1"}, Assignee: "octocat",
	})
	require.NoError(t, err)
	require.Equal(t, "1", tk.ID)
	require.False(t, tk.Created.IsZero())
	got := f.Tickets()[0]
	require.Equal(t, "From INC-3.\n\n<!-- ooda-key: INC-3/12/create_ticket -->", got.Body)
	require.Equal(t, []string{"sev1", github.Label}, got.Labels, "the label Find lists by is added")
	require.Equal(t, []string{"octocat"}, got.Assignees)
}

func TestFindSkipsPullRequestsAndPages(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	first, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "K/1", Title: "one"})
	require.NoError(t, err)
	// 150 newer tickets push the first onto the listing's second page.
	for range 150 {
		_, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "other", Title: "filler"})
		require.NoError(t, err)
	}
	f.AddPullRequest("acme/ops", "a PR quoting the marker", "<!-- ooda-key: K/2 -->")

	before := f.Calls(trackertest.EndpointList)
	found, ok, err := g.Find(ctx, "acme/ops", "K/1", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, first.ID, found.ID)
	require.Equal(t, 2, f.Calls(trackertest.EndpointList)-before)

	_, ok, err = g.Find(ctx, "acme/ops", "K/2", time.Now().Add(-time.Hour))
	require.NoError(t, err)
	require.False(t, ok, "a pull request is not a ticket")
}

func TestCloseReasons(t *testing.T) {
	for _, c := range []struct{ how, reason string }{
		{tickets.CloseDone, "completed"},
		{tickets.CloseWontDo, "not_planned"},
	} {
		t.Run(c.how, func(t *testing.T) {
			f, g := start(t)
			tk, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
			require.NoError(t, err)
			require.NoError(t, g.Close(t.Context(), "acme/ops", tk.ID, c.how))
			got := f.Tickets()[0]
			require.Equal(t, tickets.StateClosed, got.State)
			require.Equal(t, c.reason, got.Reason)
		})
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name      string
		fault     func(f *trackertest.GitHub)
		class     resilience.Class
		wait      time.Duration
		sentences []string
	}{
		{
			name:  "secondary rate limit",
			fault: func(f *trackertest.GitHub) { f.SecondaryRateLimit(trackertest.EndpointCreate, 61*time.Second, 1) },
			class: resilience.ClassRateLimited, wait: 61 * time.Second,
		},
		{
			name:  "primary rate limit",
			fault: func(f *trackertest.GitHub) { f.RateLimit(trackertest.EndpointCreate, 30*time.Second, 1) },
			class: resilience.ClassRateLimited, wait: 30 * time.Second,
		},
		{
			name:      "forbidden",
			fault:     func(f *trackertest.GitHub) { f.Fail(trackertest.EndpointCreate, http.StatusForbidden, 1) },
			class:     resilience.ClassPermanent,
			sentences: []string{"GitHub refused: the token may not create issues in acme/ops (403)"},
		},
		{
			name:      "gone",
			fault:     func(f *trackertest.GitHub) { f.Fail(trackertest.EndpointCreate, http.StatusGone, 1) },
			class:     resilience.ClassPermanent,
			sentences: []string{"issues are turned off", "(410)"},
		},
		{
			name:      "unprocessable",
			fault:     func(f *trackertest.GitHub) { f.Fail(trackertest.EndpointCreate, http.StatusUnprocessableEntity, 1) },
			class:     resilience.ClassPermanent,
			sentences: []string{"(422)"},
		},
		{
			name:  "bad gateway",
			fault: func(f *trackertest.GitHub) { f.Fail(trackertest.EndpointCreate, http.StatusBadGateway, 1) },
			class: resilience.ClassRetryable,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, g := start(t)
			c.fault(f)
			_, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
			require.Error(t, err)
			require.Equal(t, c.class, resilience.Classify(err), "%v", err)
			if c.wait > 0 {
				wait, ok := resilience.RetryAfter(err)
				require.True(t, ok)
				require.Equal(t, c.wait, wait)
			}
			for _, s := range c.sentences {
				require.Contains(t, err.Error(), s)
			}
			require.NotContains(t, err.Error(), f.Token())
		})
	}
}

// TestSecondaryLimitByMessage covers a secondary limit whose documentation
// URL go-github does not recognise: still a wait, not a refusal.
func TestSecondaryLimitByMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "45")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`))
	}))
	t.Cleanup(srv.Close)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	g, err := github.New(github.Config{BaseURL: srv.URL, Token: "t", HTTPClient: &http.Client{Transport: tr}})
	require.NoError(t, err)
	_, err = g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
	require.Equal(t, resilience.ClassRateLimited, resilience.Classify(err), "%v", err)
	wait, ok := resilience.RetryAfter(err)
	require.True(t, ok)
	require.Equal(t, 45*time.Second, wait)
}

func TestWebhookIgnoresOtherEvents(t *testing.T) {
	f, g := start(t)
	secret := []byte("s3cret")
	tk, err := g.Create(t.Context(), "acme/ops", tickets.NewTicket{Key: "K", Title: "t"})
	require.NoError(t, err)

	ping := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	changes, err := g.Webhook(trackertest.GitHubDelivery("ping", ping, secret), ping, secret)
	require.NoError(t, err)
	require.Empty(t, changes)

	_, body, err := f.SignedWebhook("acme/ops", tk.ID, secret)
	require.NoError(t, err)
	var ev map[string]any
	require.NoError(t, json.Unmarshal(body, &ev))
	ev["action"] = "labeled"
	labeled, err := json.Marshal(ev)
	require.NoError(t, err)
	changes, err = g.Webhook(trackertest.GitHubDelivery("issues", labeled, secret), labeled, secret)
	require.NoError(t, err)
	require.Empty(t, changes)

	// The legacy SHA-1 header alone does not count.
	h := trackertest.GitHubDelivery("issues", body, secret)
	h.Del("X-Hub-Signature-256")
	_, err = g.Webhook(h, body, secret)
	require.ErrorIs(t, err, tickets.ErrBadSignature)
}

func TestNewValidates(t *testing.T) {
	_, err := github.New(github.Config{HTTPClient: http.DefaultClient})
	require.Error(t, err)
	_, err = github.New(github.Config{Token: "x"})
	require.Error(t, err)
	g, err := github.New(github.Config{Token: "x", HTTPClient: http.DefaultClient})
	require.NoError(t, err)
	require.Equal(t, tickets.KindGitHub, g.Kind())
}

func TestStatesRejectsBadID(t *testing.T) {
	_, g := start(t)
	_, err := g.States(context.Background(), "acme/ops", []string{"OPS-1"}, time.Time{})
	require.ErrorIs(t, err, resilience.ErrPermanent)
}
