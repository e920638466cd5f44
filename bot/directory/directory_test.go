package directory_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// rig is a fake Slack, a store and a directory over both.
type rig struct {
	slack *slacktest.Server
	api   *slack.Client
	db    *storage.DB
	clock *resiliencetest.Clock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	clk := resiliencetest.NewClock(time.Date(2026, 11, 26, 23, 0, 0, 0, time.UTC))
	s := slacktest.New(slacktest.WithClock(clk.Now))
	t.Cleanup(s.Close)
	s.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice", TZ: "Europe/Paris"})
	s.AddMember(slacktest.Member{ID: "U0BOB", Handle: "bob", RealName: "Bob Kowalski"})
	s.AddMember(slacktest.Member{ID: "U0GONE", Handle: "dave", RealName: "Dave Old", Deleted: true})
	guard := slackapitest.NewGuard(t, slackapitest.Policy(), prometheus.NewRegistry())
	return &rig{slack: s, api: slackapi.NewSlackClient("xoxb-test-token", s.URL(), guard), db: storagetest.Open(t), clock: clk}
}

// directory builds a directory on the rig's store; withSlack false leaves
// Slack out, as a server without Slack configured.
func (r *rig) directory(t *testing.T, withSlack bool, opts ...func(*directory.Config)) *directory.Directory {
	t.Helper()
	cfg := directory.Config{Store: r.db, Now: r.clock.Now, PageSize: 2}
	if withSlack {
		cfg.Slack = r.api
		cfg.Guard = slackapitest.NewGuard(t, slackapitest.Policy(), prometheus.NewRegistry())
	}
	for _, o := range opts {
		o(&cfg)
	}
	d, err := directory.New(cfg)
	require.NoError(t, err)
	return d
}

func TestRefreshListsEveryPageAndKeepsItInTheStore(t *testing.T) {
	r := newRig(t)
	d := r.directory(t, true)
	assert.Zero(t, d.Len(), "nobody before the first refresh")

	n, err := d.Refresh(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 4, n, "three people and Ooda's bot user")
	assert.Len(t, r.slack.CallsTo("users.list"), 2, "two to a page")

	assert.Equal(t, "Alice Chen (@alice)", d.Name("U0ALICE"))
	assert.Equal(t, "Bob Kowalski (@bob)", d.Name("U0BOB"))
	assert.Equal(t, "Dave Old (@dave)", d.Name("U0GONE"), "a deactivated member keeps their name")
	assert.Equal(t, "U0ALICE", d.Find("@alice").ID)
	assert.Empty(t, d.Find("@dave").ID, "a deactivated member is never named")

	stored, err := r.db.People(t.Context())
	require.NoError(t, err)
	require.Len(t, stored, 4)
	alice, ok := d.Current().Person("U0ALICE")
	require.True(t, ok)
	assert.Equal(t, "Europe/Paris", alice.TZ)
	assert.Equal(t, r.clock.Now(), alice.SeenAt, "the refresh age")

	// A restart with Slack down: the names come from the store.
	r.slack.SetDown(true)
	again := r.directory(t, true)
	require.NoError(t, again.Load(t.Context()))
	assert.Equal(t, "Alice Chen (@alice)", again.Name("U0ALICE"))
	_, err = again.Refresh(t.Context())
	require.Error(t, err, "Slack is down")
	assert.Equal(t, "Alice Chen (@alice)", again.Name("U0ALICE"), "a failed refresh forgets nobody")
}

func TestRefreshFollowsARename(t *testing.T) {
	r := newRig(t)
	d := r.directory(t, true)
	_, err := d.Refresh(t.Context())
	require.NoError(t, err)
	require.Equal(t, "Alice Chen (@alice)", d.Name("U0ALICE"))

	r.clock.Advance(time.Hour)
	r.slack.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Wong", DisplayName: "awong"})
	_, err = d.Refresh(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "Alice Wong (@awong)", d.Name("U0ALICE"))
	assert.Equal(t, "U0ALICE", d.Find("@awong").ID)
	assert.Empty(t, d.Find("@alice").ID, "the old display name is nobody's now")
}

func TestRefreshSavesThePagesItRead(t *testing.T) {
	r := newRig(t)
	// Every users.list after the first fails at the network.
	var calls atomic.Int32
	tr := roundTrip(func(req *http.Request) (*http.Response, error) {
		if strings.HasSuffix(req.URL.Path, "/users.list") && calls.Add(1) > 1 {
			return nil, errors.New("connection reset by peer")
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(r.slack.URL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
	d := r.directory(t, true, func(c *directory.Config) { c.Slack = api })

	n, err := d.Refresh(t.Context())
	require.ErrorContains(t, err, "users.list")
	assert.Equal(t, 2, n, "the first page")
	stored, err := r.db.People(t.Context())
	require.NoError(t, err)
	assert.Len(t, stored, 2, "the page read is kept")
	assert.Equal(t, 2, d.Len())
}

type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func TestNameLooksUpAnUnknownIDInTheBackground(t *testing.T) {
	r := newRig(t)
	d := r.directory(t, true)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	assert.Empty(t, d.Name("U0BOB"), "unknown yet: the caller shows the id and does not wait")
	require.Eventually(t, func() bool { return d.Name("U0BOB") != "" }, 10*time.Second, 5*time.Millisecond)
	assert.Equal(t, "Bob Kowalski (@bob)", d.Name("U0BOB"))
	stored, err := r.db.People(t.Context())
	require.NoError(t, err)
	require.Len(t, stored, 1, "what was looked up is kept")

	// An id Slack does not know is asked for once, not on every showing.
	assert.Empty(t, d.Name("U0NOBODY"))
	require.Eventually(t, func() bool {
		for _, c := range r.slack.CallsTo("users.info") {
			if c.Args["user"] == "U0NOBODY" && c.Status != 0 {
				return true
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond)
	for range 5 {
		assert.Empty(t, d.Name("U0NOBODY"))
	}
	// Neither is what is no member ID (a token, Ooda itself).
	assert.Empty(t, d.Name("api:ci"))
	// A later lookup goes through the queue after the misses: once it
	// is served, the misses were not asked again.
	assert.Empty(t, d.Name("U0ALICE"))
	require.Eventually(t, func() bool { return d.Name("U0ALICE") != "" }, 10*time.Second, 5*time.Millisecond)
	asked := 0
	for _, c := range r.slack.CallsTo("users.info") {
		require.NotEqual(t, "api:ci", c.Args["user"])
		if c.Args["user"] == "U0NOBODY" {
			asked++
		}
	}
	assert.Equal(t, 1, asked, "an unknown id is not asked again within MissTTL")

	// After MissTTL it is asked again.
	r.clock.Advance(directory.DefaultMissTTL)
	assert.Empty(t, d.Name("U0NOBODY"))
	require.Eventually(t, func() bool { return len(r.slack.CallsTo("users.info")) == 4 }, 10*time.Second, 5*time.Millisecond)
}

func TestNamesForADraft(t *testing.T) {
	r := newRig(t)
	d := r.directory(t, true)
	names := d.Names(t.Context())
	assert.Equal(t, "Bob Kowalski (@bob)", names("U0BOB"), "looked up while drafting")
	assert.Empty(t, names("U0NOBODY"), "unknown to Slack: the id is shown")
	assert.Empty(t, names("api:ci"))
	assert.Len(t, r.slack.CallsTo("users.info"), 2)

	// Slack down and the name never seen: the id is shown, and the
	// breaker soon stops the asking.
	r.slack.SetDown(true)
	down := r.directory(t, true)
	require.NoError(t, down.Load(t.Context()))
	names = down.Names(t.Context())
	assert.Equal(t, "Bob Kowalski (@bob)", names("U0BOB"), "known from the store")
	assert.Empty(t, names("U0ALICE"))

	// Without Slack configured, only the store answers.
	none := r.directory(t, false)
	require.NoError(t, none.Load(t.Context()))
	assert.Equal(t, "Bob Kowalski (@bob)", none.Names(t.Context())("U0BOB"))
	assert.Empty(t, none.Names(t.Context())("U0ALICE"))
	assert.Empty(t, none.Name("U0ALICE"))
	n, err := none.Refresh(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestNewRefusesAnIncompleteConfig(t *testing.T) {
	_, err := directory.New(directory.Config{})
	require.ErrorContains(t, err, "needs a store")
	r := newRig(t)
	_, err = directory.New(directory.Config{Store: r.db, Slack: r.api})
	require.ErrorContains(t, err, "need a guard")
}

// A workspace larger than a page is read whole, and the store sees it in
// one save.
func TestRefreshLargeWorkspace(t *testing.T) {
	r := newRig(t)
	for i := range 450 {
		r.slack.AddMember(slacktest.Member{ID: fmt.Sprintf("U%06d", i), Handle: fmt.Sprintf("user%d", i)})
	}
	d := r.directory(t, true, func(c *directory.Config) { c.PageSize = 0 })
	n, err := d.Refresh(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 454, n)
	assert.Len(t, r.slack.CallsTo("users.list"), 3, "200 a page")
	assert.Equal(t, "U000449", d.Find("@user449").ID)
}

// The refresh job's timeout ends its context mid-workspace: the pages read
// before are kept.
func TestRefreshCancelledKeepsThePagesItRead(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var calls atomic.Int32
	tr := roundTrip(func(req *http.Request) (*http.Response, error) {
		if strings.HasSuffix(req.URL.Path, "/users.list") && calls.Add(1) > 1 {
			cancel()
			return nil, context.Canceled
		}
		return http.DefaultTransport.RoundTrip(req)
	})
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(r.slack.URL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
	d := r.directory(t, true, func(c *directory.Config) { c.Slack = api })

	_, err := d.Refresh(ctx)
	require.Error(t, err)
	stored, err := r.db.People(t.Context())
	require.NoError(t, err)
	assert.Len(t, stored, 2, "the page read before the timeout is kept")
	assert.Equal(t, 2, d.Len())
}
