package github_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
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
	require.Equal(t, "From INC-3.\n\n<!-- ooda-key: INC-3/12/create_ticket -->\n<sub>Ooda key: INC-3/12/create_ticket</sub>", got.Body,
		"the key in a comment for the listing, and as text for the search, which does not index comments")
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
	require.Zero(t, f.Calls(trackertest.EndpointSearch), "no search when the listing ended")
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
			name:  "secondary rate limit without Retry-After",
			fault: func(f *trackertest.GitHub) { f.SecondaryRateLimit(trackertest.EndpointCreate, 0, 1) },
			class: resilience.ClassRateLimited, wait: time.Minute,
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

// TestPrimaryLimitWaits covers a primary limit (x-ratelimit-remaining 0)
// without Retry-After: the wait runs to x-ratelimit-reset, or a minute when
// the answer does not say.
func TestPrimaryLimitWaits(t *testing.T) {
	for _, c := range []struct {
		name  string
		reset time.Duration // 0: no x-ratelimit-reset
		want  time.Duration
	}{
		{name: "until reset", reset: 90 * time.Second, want: 90 * time.Second},
		{name: "no reset", want: time.Minute},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("X-RateLimit-Limit", "5000")
				w.Header().Set("X-RateLimit-Remaining", "0")
				if c.reset > 0 {
					w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(c.reset).Unix(), 10))
				}
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte(`{"message":"API rate limit exceeded for user ID 1."}`))
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
			// x-ratelimit-reset is in whole seconds.
			require.InDelta(t, c.want, wait, float64(2*time.Second))
		})
	}
}

// TestFindWithoutLabels covers a token whose user may not triage the
// repository: GitHub opens the issue without its labels, the answer is
// lost, and the retry's Find must still see the issue, or a second one
// would be opened.
func TestFindWithoutLabels(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	since := time.Now().Add(-time.Hour)
	f.DropLabels(true)
	f.LoseResponse(trackertest.EndpointCreate, 1)
	nt := tickets.NewTicket{Key: "INC-3/12/create_ticket", Title: "Fix the pager", Labels: []string{"sev1"}, Assignee: "octocat"}
	_, err := g.Create(ctx, "acme/ops", nt)
	require.Error(t, err, "the answer was lost")
	require.Len(t, f.Tickets(), 1)
	require.Empty(t, f.Tickets()[0].Labels, "GitHub dropped the labels")

	found, ok, err := g.Find(ctx, "acme/ops", nt.Key, since)
	require.NoError(t, err)
	require.True(t, ok, "Find sees an issue without the label")
	require.Equal(t, f.Tickets()[0].ID, found.ID)
	require.Len(t, f.Tickets(), 1, "one ticket")
}

// TestFindStopsBeforeSince: the listing is newest created first, so the
// first issue created before since ends the search, even when GitHub's
// since (on the update time) lets older issues through.
func TestFindStopsBeforeSince(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	now := time.Now()
	f.SetClock(func() time.Time { return now.Add(-2 * time.Hour) })
	var old []string
	for range 150 {
		tk, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "other", Title: "filler"})
		require.NoError(t, err)
		old = append(old, tk.ID)
	}
	f.SetClock(func() time.Time { return now })
	_, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "new", Title: "filler"})
	require.NoError(t, err)
	for _, id := range old {
		require.NoError(t, f.CloseTicket("acme/ops", id))
	}

	before := f.Calls(trackertest.EndpointList)
	_, ok, err := g.Find(ctx, "acme/ops", "K/absent", now.Add(-time.Hour))
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, 1, f.Calls(trackertest.EndpointList)-before, "no page after the first issue created before since")
	require.Zero(t, f.Calls(trackertest.EndpointSearch), "no search when the listing reached since")
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

// tick is a fake's clock that moves a second each time it is read, so that
// every issue's update time is its own and the listing's order is known.
func tick(base time.Time) func() time.Time {
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Second) }
}

// TestStatesReadsTheListingToItsEnd: more than a page of issues changed
// since the last poll (a restart in a busy repository). The listing is
// oldest first, so it is read to its end, where a later change to a ticket
// already read may still be: the ticket asked about on the first page is
// read, and so is the one on the second, without an error.
func TestStatesReadsTheListingToItsEnd(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	base := time.Now().Truncate(time.Second)
	f.SetClock(tick(base))
	old, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "K/1", Title: "one"})
	require.NoError(t, err)
	require.NoError(t, f.CloseTicket("acme/ops", old.ID))
	// 150 issues changed after it: the last is on the listing's second page.
	var last tickets.Ticket
	for range 150 {
		last, err = g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "more", Title: "filler"})
		require.NoError(t, err)
	}

	before := f.Calls(trackertest.EndpointList)
	got, err := g.States(ctx, "acme/ops", []string{old.ID, last.ID, "999"}, base.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, f.Calls(trackertest.EndpointList)-before, "it reads every page")
	require.Len(t, got, 2, "an id not listed is left out: %v", got)
	require.Equal(t, tickets.StateClosed, got[old.ID].State)
	require.Equal(t, tickets.StateOpen, got[last.ID].State)
}

// TestStatesTruncates: more issues changed than States reads in one call.
// It returns what it read with a TruncatedError through the update time of
// the last issue it listed, and the next call, from there, reads the rest.
func TestStatesTruncates(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	base := time.Now().Truncate(time.Second)
	f.SetClock(tick(base))
	first, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "K/1", Title: "one"})
	require.NoError(t, err)
	require.NoError(t, f.CloseTicket("acme/ops", first.ID))
	// 1,050 more: the listing has 11 pages, one more than the cap of
	// statesMaxPages (10) for fewer than 100 ids.
	var more []tickets.Ticket
	for range 1050 {
		tk, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "more", Title: "filler"})
		require.NoError(t, err)
		more = append(more, tk)
	}
	lastRead, unread := more[998], more[len(more)-1]
	ids := []string{first.ID, lastRead.ID, unread.ID}

	before := f.Calls(trackertest.EndpointList)
	got, err := g.States(ctx, "acme/ops", ids, base.Add(-time.Hour))
	truncated, ok := errors.AsType[*tickets.TruncatedError](err)
	require.True(t, ok, "want a TruncatedError, got %v", err)
	require.Equal(t, 10, f.Calls(trackertest.EndpointList)-before, "it stops at the cap")
	require.True(t, lastRead.Created.Equal(truncated.Through),
		"through the 1,000th issue listed: want %v, got %v", lastRead.Created, truncated.Through)
	require.Len(t, got, 2, "what it read: %v", got)
	require.Equal(t, tickets.StateClosed, got[first.ID].State)
	require.Equal(t, tickets.StateOpen, got[lastRead.ID].State)

	got, err = g.States(ctx, "acme/ops", ids, truncated.Through)
	require.NoError(t, err, "the rest fits in one call")
	require.Contains(t, got, unread.ID)
	require.Contains(t, got, lastRead.ID, "since takes the issues updated at Through too")
}

// roundTrip is an http.RoundTripper made of a function.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestStatesKeepsTheLatestState: a ticket reopened while States pages
// moves to the listing's end, where it is read a second time; the later
// state is the one reported.
func TestStatesKeepsTheLatestState(t *testing.T) {
	f := trackertest.StartGitHub(t)
	ctx := t.Context()
	base := time.Now().Truncate(time.Second)
	f.SetClock(tick(base))
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	var reopen func()
	client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
		resp, err := tr.RoundTrip(r)
		if err == nil && r.Method == http.MethodGet && reopen != nil {
			reopen()
			reopen = nil
		}
		return resp, err
	})}
	g, err := github.New(github.Config{BaseURL: f.URL(), Token: f.Token(), HTTPClient: client})
	require.NoError(t, err)

	tk, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "K/1", Title: "one"})
	require.NoError(t, err)
	require.NoError(t, f.CloseTicket("acme/ops", tk.ID))
	for range 150 {
		_, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "more", Title: "filler"})
		require.NoError(t, err)
	}
	// Reopened once the first page, which lists it closed, is read.
	reopen = func() { require.NoError(t, f.ReopenTicket("acme/ops", tk.ID)) }

	got, err := g.States(ctx, "acme/ops", []string{tk.ID}, base.Add(-time.Hour))
	require.NoError(t, err)
	require.Nil(t, reopen, "it was reopened between the pages")
	require.Equal(t, tickets.StateOpen, got[tk.ID].State)
}

// TestFindSearchesPastTheCap: a ticket created before more issues and pull
// requests than Find lists (a retry looking for a request's ticket weeks
// after the item was made, in a busy repository). Find asks the search
// API, confirms the marker, and finds it; a key no issue carries, or only
// quotes, is not found.
func TestFindSearchesPastTheCap(t *testing.T) {
	f, g := start(t)
	ctx := t.Context()
	since := time.Now().Add(-time.Hour)
	tk, err := g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "INC-3/12/create_ticket", Title: "one"})
	require.NoError(t, err)
	_, err = g.Create(ctx, "acme/ops", tickets.NewTicket{Key: "other", Title: "quotes", Body: "Like INC-3/13/create_ticket."})
	require.NoError(t, err)
	for i := range 1000 {
		f.AddPullRequest("acme/ops", "pr", "PR "+strconv.Itoa(i))
	}

	for _, c := range []struct {
		name, key string
		want      string // the ticket's id, "" for not found
	}{
		{"found by search", "INC-3/12/create_ticket", tk.ID},
		{"quoted without the marker", "INC-3/13/create_ticket", ""},
		{"absent", "INC-3/14/create_ticket", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			list, search := f.Calls(trackertest.EndpointList), f.Calls(trackertest.EndpointSearch)
			got, ok, err := g.Find(ctx, "acme/ops", c.key, since)
			require.NoError(t, err)
			require.Equal(t, c.want != "", ok)
			require.Equal(t, c.want, got.ID)
			require.Equal(t, 10, f.Calls(trackertest.EndpointList)-list, "the listing up to its cap")
			require.Equal(t, 1, f.Calls(trackertest.EndpointSearch)-search, "then one search")
		})
	}
}
