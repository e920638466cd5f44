package executor

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/internal/metrictest"
	"github.com/ooda-sre/ooda/internal/testlog"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// fakeSlackToken is the token the fake Slack accepts by default.
const fakeSlackToken = "xoxb-test-token"

// The people of the fake workspace.
const (
	alice = "U0ALICE0001"
	bob   = "U0BOB000001"
	carol = "U0CAROL0001"
)

// harness is an executor wired to a test database and a fake Slack, on a
// fake clock.
type harness struct {
	t        testing.TB
	ctx      context.Context
	db       *storage.DB
	slack    *slacktest.Server
	api      slackapi.SlackAPI
	guard    *resilience.Guard
	clock    *resiliencetest.Clock
	reg      *prometheus.Registry
	logs     *testlog.Buffer
	announce string
	exec     *Executor
	keys     atomic.Int64
}

type harnessOption func(*harnessConfig)

type harnessConfig struct {
	noAnnounce bool
	workers    int
	wrap       func(slackapi.SlackAPI) slackapi.SlackAPI
	pageSize   int
	// storeOnClock: the store queues effects at the harness's clock, not
	// the wall clock, so how late a message is can be asserted.
	storeOnClock bool
}

func withoutAnnounce() harnessOption  { return func(c *harnessConfig) { c.noAnnounce = true } }
func withWorkers(n int) harnessOption { return func(c *harnessConfig) { c.workers = n } }
func withPageSize(n int) harnessOption {
	return func(c *harnessConfig) { c.pageSize = n }
}
func withStoreOnClock() harnessOption { return func(c *harnessConfig) { c.storeOnClock = true } }
func withSlackWrapper(w func(slackapi.SlackAPI) slackapi.SlackAPI) harnessOption {
	return func(c *harnessConfig) { c.wrap = w }
}

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	var cfg harnessConfig
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	h := &harness{
		t:     t,
		ctx:   ctx,
		slack: slacktest.New(),
		clock: resiliencetest.NewClock(time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)),
		reg:   prometheus.NewRegistry(),
	}
	var storeOpts []storage.Options
	if cfg.storeOnClock {
		storeOpts = append(storeOpts, storage.Options{Now: h.clock.Now})
	}
	h.db = storagetest.Open(t, storeOpts...)
	t.Cleanup(h.slack.Close)
	for _, u := range []struct{ id, name string }{{alice, "alice"}, {bob, "bob"}, {carol, "carol"}} {
		h.slack.AddUser(u.id, u.name)
	}
	if !cfg.noAnnounce {
		h.announce = h.slack.CreateChannel("incidents", false)
	}
	h.guard = newExecutorGuard(t, executorTestPolicy(), h.reg)
	h.api = slackapi.NewSlackClient(fakeSlackToken, h.slack.URL(), h.guard)
	if cfg.wrap != nil {
		h.api = cfg.wrap(h.api)
	}
	h.exec = h.newExecutor(h.db, cfg)
	return h
}

// newExecutor builds an executor on db, as a restarted process would.
func (h *harness) newExecutor(db *storage.DB, cfg harnessConfig) *Executor {
	h.t.Helper()
	var logger *slog.Logger
	logger, h.logs = testlog.New()
	e, err := New(Config{
		Store: db, Outbox: db, Slack: h.api, Guard: h.guard,
		AnnounceChannel: h.announce,
		Now:             h.clock.Now,
		Logger:          logger,
		Registerer:      h.reg,
		Workers:         cfg.workers,
		PageSize:        cfg.pageSize,
		Backoff:         Backoff{Rand: func() float64 { return 0.5 }},
	})
	require.NoError(h.t, err)
	return e
}

func (h *harness) key() string { return fmt.Sprintf("test-%d", h.keys.Add(1)) }

func (h *harness) meta(actor string) incident.Meta {
	return incident.Meta{At: h.clock.Now(), Actor: actor, Source: timeline.SourceCommand, Key: h.key()}
}

// declare declares an incident as alice.
func (h *harness) declare(title string, private bool) incident.Incident {
	h.t.Helper()
	return declareIn(h.t, h.db, h.meta(alice), title, private)
}

func declareIn(t testing.TB, db incident.Store, m incident.Meta, title string, private bool) incident.Incident {
	t.Helper()
	res, err := db.Declare(context.Background(), m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2, Private: private, Service: "checkout"}, m)
	})
	require.NoError(t, err)
	return res.Incident
}

// apply runs a command on incident n as actor.
func (h *harness) apply(n uint64, actor string, cmd func(inc *incident.Incident, m incident.Meta) (incident.Change, error)) incident.Result {
	h.t.Helper()
	m := h.meta(actor)
	res, err := h.db.Apply(h.ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
	require.NoError(h.t, err)
	return res
}

func (h *harness) note(n uint64, text string) {
	h.t.Helper()
	h.apply(n, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseNone, text, false, m)
	})
}

func (h *harness) assign(n uint64, r roles.Role, user string) {
	h.t.Helper()
	h.apply(n, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AssignRole(r, user, m)
	})
}

func (h *harness) incident(n uint64) incident.Incident {
	h.t.Helper()
	inc, err := h.db.Incident(h.ctx, n)
	require.NoError(h.t, err)
	return inc
}

func (h *harness) events(n uint64) []timeline.Event {
	h.t.Helper()
	evs, err := h.db.Events(h.ctx, n, 1)
	require.NoError(h.t, err)
	return evs
}

func (h *harness) depth() int {
	h.t.Helper()
	d, _, err := h.db.OutboxStats(h.ctx)
	require.NoError(h.t, err)
	return d
}

func (h *harness) drain() int {
	h.t.Helper()
	done, err := h.exec.Drain(h.ctx)
	require.NoError(h.t, err)
	return done
}

// drainAll drains e until the outbox is empty, moving the executor's clock
// past every backoff and waiting (polling, with a deadline) for an open
// breaker to let a probe through.
func (h *harness) drainAll(e *Executor) {
	h.t.Helper()
	drainUntilEmpty(h.t, h.ctx, e, h.db, h.clock, h.guard)
}

func drainUntilEmpty(t testing.TB, ctx context.Context, e *Executor, ob incident.Outbox, clock *resiliencetest.Clock, g *resilience.Guard) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := e.Drain(ctx)
		require.NoError(t, err)
		depth, _, err := ob.OutboxStats(ctx)
		require.NoError(t, err)
		if depth == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "outbox still holds %d effects", depth)
		clock.Advance(DefaultBackoffMax)
		// gobreaker keeps its own real clock: wait for the open breaker
		// to let a probe through.
		require.Eventually(t, func() bool { return g.State() != "open" }, time.Minute, time.Millisecond)
	}
}

// keyedMessages returns, for every channel of the fake, its messages'
// effect keys in channel order.
func keyedMessages(s *slacktest.Server) map[string][]string {
	out := map[string][]string{}
	for _, ch := range s.Channels() {
		for _, m := range s.Messages(ch.ID) {
			out[ch.ID] = append(out[ch.ID], messageKey(m))
		}
	}
	return out
}

// channelsFor returns the fake's channels of incident n.
func channelsFor(s *slacktest.Server, n uint64) []slacktest.Channel {
	var out []slacktest.Channel
	prefix := fmt.Sprintf("inc-%d-", n)
	for _, ch := range s.Channels() {
		if strings.HasPrefix(ch.Name, prefix) || ch.Name == strings.TrimSuffix(prefix, "-") {
			out = append(out, ch)
		}
	}
	return out
}

// Effect keys as the domain builds them for a declaration (sequence 1).
func kickoffKey(n uint64) string  { return incident.ID(n) + "/1/post/incident" }
func announceKey(n uint64) string { return incident.ID(n) + "/1/post/announce" }

// executorMetric reads one sample of the executor's metrics; 0 when absent.
var executorMetric = metrictest.Value

// messageKey is the effect key a message carries in its metadata, or "".
func messageKey(m slacktest.Message) string { return m.MetadataKey(slackapi.MetadataEventType) }

// duplicateKeys counts messages beyond the first carrying the same
// effect key, across the whole fake workspace.
func duplicateKeys(s *slacktest.Server) (int, map[string]int) {
	return s.DuplicateKeys(slackapi.MetadataEventType)
}

// The Slack guard the tests build, as the app does.
var (
	executorTestPolicy = slackapitest.Policy
	newExecutorGuard   = slackapitest.NewGuard
)
