package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

// Defaults of Config.
const (
	DefaultExecutorWorkers = 4
	DefaultPollInterval    = 5 * time.Second
	DefaultOutboxPage      = 1000
	DefaultBackoffBase     = time.Second
	DefaultBackoffMax      = 5 * time.Minute
)

// loudAfter is the attempt at which a deferred effect is logged as an
// error rather than a warning: by then someone should look, though the
// effect stays queued.
const loudAfter = 10

// Config is what the effects executor needs.
type Config struct {
	Store  incident.Store
	Outbox incident.Outbox
	Slack  slackapi.SlackAPI
	// Guard protects every Slack call. Keep Workers at or below its
	// policy's MaxConcurrent, or the executor's own calls fill the bulkhead.
	Guard *resilience.Guard
	// AnnounceChannel is the channel id announcements go to. Empty: they
	// are completed as skipped (and that is logged once).
	AnnounceChannel string
	// Now is the clock for due times and recorded events; nil is time.Now.
	Now    func() time.Time
	Logger *slog.Logger
	// Registerer receives the executor's metrics; nil registers nothing.
	// Outbound call metrics come from the guard.
	Registerer prometheus.Registerer
	// Workers is how many incidents are worked at once; 0 means
	// DefaultExecutorWorkers. One incident's effects are always performed
	// one after the other, in order.
	Workers int
	// Backoff spaces the passes that retry a deferred effect.
	Backoff Backoff
	// PollInterval is the longest Run waits between passes with nothing
	// to wake it; 0 means DefaultPollInterval.
	PollInterval time.Duration
	// PageSize is how many new outbox entries a pass reads at a time; 0
	// means DefaultOutboxPage.
	PageSize int
	// CatchUpAfter is the age past which queued channel posts are told as
	// one catch-up message; 0 means DefaultCatchUpAfter.
	CatchUpAfter time.Duration
	// Budget finds the error budget an incident spent, for the post-mortem
	// draft it uploads; nil leaves it unknown.
	Budget postmortem.BudgetLookup
	// People names the people of the post-mortem draft it uploads; nil
	// shows their member IDs.
	People People
	// Similar finds the past incidents most like an incident, for its
	// kickoff message, among those may admits; (*search.Index).Similar is
	// one. Nil: the kickoff lists none.
	Similar func(to incident.Incident, events []timeline.Event, may func(incident.Incident) bool, limit int) []search.Hit
	// Tickets performs the ticket effects through each tracker's guard;
	// nil fails them for good, saying no tracker is configured.
	Tickets Tickets
}

// Tickets performs the effects that keep action items' tickets
// (incident.EffectCreateTicket, EffectCloseTicket). They are worked in a
// lane of their own per incident, in order among themselves, so a tracker
// that is down holds back tickets only, never the incident's Slack
// effects; and their failures say nothing about Slack's health.
type Tickets interface {
	// Perform makes one attempt at pe. decide, when not nil, records
	// what it did, with the effect's completion. An error marked
	// resilience.Permanent fails the effect for good; any other defers it.
	Perform(ctx context.Context, pe incident.Pending) (decide incident.Decider, err error)
	// Failed records, with the completion of pe, that it failed for good
	// with err (on the item and in the timeline).
	Failed(pe incident.Pending, err error, m incident.Meta) incident.Decider
	// RetryAfter is the wait a rate-limited err asked for.
	RetryAfter(err error) (time.Duration, bool)
	// Settle is how long after an attempt at pe whose outcome is unknown
	// (the process killed or stopped mid-call, its completion lost) the
	// next may start, so that it finds what this one made; 0 for none.
	// The executor writes it into the outbox before the attempt.
	Settle(ctx context.Context, pe incident.Pending) time.Duration
}

// isTicket reports whether an effect is worked by Tickets.
func isTicket(k incident.EffectKind) bool {
	return k == incident.EffectCreateTicket || k == incident.EffectCloseTicket
}

// lane is one incident's queue of effects of one kind of dependency:
// Slack's, or its trackers'. A lane's effects are performed in order and
// stop at the first that does not complete; lanes do not wait for each
// other.
type lane struct {
	incident uint64
	tickets  bool
}

func laneOf(fx incident.Effect) lane { return lane{fx.Incident, isTicket(fx.Kind)} }

// People names people in a draft: Names looks an unknown member ID up
// within ctx. *directory.Directory is one.
type People interface {
	Names(ctx context.Context) func(id string) string
}

// Backoff is how long a deferred effect waits before its next attempt,
// growing with its attempts. These are waits between passes of the
// executor, on top of the guard's own retries within one call.
type Backoff struct {
	Base time.Duration // 0 means DefaultBackoffBase
	Max  time.Duration // 0 means DefaultBackoffMax
	// Rand returns a number in [0, 1) for the jitter; nil uses
	// math/rand/v2. It is called from several goroutines.
	Rand func() float64
}

// Delay is the wait after the attempts-th failed attempt: Base doubling
// per attempt up to Max, with "equal jitter" (half fixed, half random).
// Unlike the guard's full jitter it never draws a wait near zero, which
// across passes would retry a queue of effects in a hot loop while Slack
// is down.
func (b Backoff) Delay(attempts int) time.Duration {
	b = b.withDefaults()
	ceiling := b.Max
	if attempts < 1 {
		attempts = 1
	}
	if attempts <= 32 {
		if d := b.Base << (attempts - 1); d > 0 && d < b.Max {
			ceiling = d
		}
	}
	half := ceiling / 2
	return half + time.Duration(b.Rand()*float64(ceiling-half))
}

func (b Backoff) withDefaults() Backoff {
	if b.Base <= 0 {
		b.Base = DefaultBackoffBase
	}
	if b.Max <= 0 {
		b.Max = DefaultBackoffMax
	}
	if b.Max < b.Base {
		b.Max = b.Base
	}
	if b.Rand == nil {
		b.Rand = rand.Float64
	}
	return b
}

// Executor performs the effects the domain queues in the outbox: it
// creates incident channels, invites people, sets topics and posts
// messages, in order per incident and concurrently across incidents, each
// call through the Slack guard. Nothing it was asked to do is dropped on a
// failure that may pass (it is deferred and retried, forever), and nothing
// is done twice (results are stored with the completion, and posts are
// reconciled against the channel's history after any doubt).
type Executor struct {
	cfg     Config
	log     *slog.Logger
	metrics executorMetrics
	wake    chan struct{}

	// drainMu makes passes one at a time: two passes at once would
	// perform the same effects twice.
	drainMu          sync.Mutex
	noAnnounceLogged sync.Once

	mu          sync.Mutex
	depth       int       // Slack's effects in the outbox after the last pass (a tracker's are not Slack's backlog)
	nextDue     time.Time // earliest retry time the last pass saw
	outageSince time.Time // first failure of the current Slack outage
	failing     bool      // the last Slack call failed in a way that may pass
	// recovered is set when Slack answers after failing: the next pass
	// tries every deferred effect at once instead of waiting out backoffs
	// that were set while Slack was down.
	recovered bool
}

// The dispatcher asks the executor whether Slack is down.

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Executor, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("no store"))
	}
	if cfg.Outbox == nil {
		errs = append(errs, errors.New("no outbox"))
	}
	if cfg.Slack == nil {
		errs = append(errs, errors.New("no Slack client"))
	}
	if cfg.Guard == nil {
		errs = append(errs, errors.New("no guard for Slack calls"))
	}
	if cfg.Workers < 0 || cfg.PageSize < 0 || cfg.PollInterval < 0 {
		errs = append(errs, errors.New("workers, page size and poll interval must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new executor: %w", err)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultExecutorWorkers
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultOutboxPage
	}
	if cfg.CatchUpAfter <= 0 {
		cfg.CatchUpAfter = DefaultCatchUpAfter
	}
	cfg.Backoff = cfg.Backoff.withDefaults()
	return &Executor{
		cfg:     cfg,
		log:     cfg.Logger.With(slog.String("component", "executor")),
		metrics: newExecutorMetrics(cfg.Registerer),
		wake:    make(chan struct{}, 1),
	}, nil
}

// Notify wakes Run for a pass, without waiting. The dispatcher calls it
// after committing a command that queued effects.
func (e *Executor) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends, then returns nil. After each pass
// it waits for Notify, for the earliest deferred effect to come due, or
// for the poll interval, whichever is first. Every goroutine it starts has
// ended when it returns.
func (e *Executor) Run(ctx context.Context) error {
	timer := time.NewTimer(e.cfg.PollInterval)
	defer timer.Stop()
	for {
		if _, err := e.Drain(ctx); err != nil && ctx.Err() == nil {
			e.log.LogAttrs(ctx, slog.LevelError, "outbox pass failed; trying again", slog.String("error", err.Error()))
		}
		wait := e.cfg.PollInterval
		if due := e.nextDueAt(); !due.IsZero() {
			wait = min(wait, max(due.Sub(e.cfg.Now()), 0))
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-timer.C:
		}
	}
}

// Drain makes one pass over the outbox: every effect that is due is
// performed, in commit order per incident, several incidents at once. An
// incident's effects stop at the first one that is not due yet or is
// deferred, so its later effects never overtake it. done counts the
// effects that left the outbox (performed, failed for good, or skipped).
// err is the first failure of the store or ctx's error; Slack's failures
// are not errors here, they defer effects.
func (e *Executor) Drain(ctx context.Context) (done int, err error) {
	e.drainMu.Lock()
	defer e.drainMu.Unlock()
	p := &pass{stopped: make(map[lane]bool), dueNow: e.takeRecovered()}
	seen := make(map[uint64]bool)
	for ctx.Err() == nil {
		// The outbox hands out its oldest entries first, and the ones
		// this pass left there (deferred, not due, held behind one) are
		// the oldest: ask for those again plus a page of new ones.
		limit := len(seen) - p.removedCount() + e.cfg.PageSize
		page, err := e.cfg.Outbox.Pending(ctx, limit)
		if err != nil {
			p.fail(fmt.Errorf("read outbox: %w", err))
			break
		}
		var order []lane
		chains := make(map[lane][]incident.Pending)
		fresh := 0
		for _, pe := range page {
			if seen[pe.OutboxSeq] {
				continue
			}
			seen[pe.OutboxSeq] = true
			fresh++
			if isTicket(pe.Effect.Kind) {
				p.mu.Lock()
				p.ticketsLeft++
				p.mu.Unlock()
			}
			n := laneOf(pe.Effect)
			if p.isStopped(n) {
				continue
			}
			if _, ok := chains[n]; !ok {
				order = append(order, n)
			}
			chains[n] = append(chains[n], pe)
		}
		e.runChains(ctx, p, order, chains)
		if len(page) < limit || fresh == 0 {
			break
		}
	}
	if ctx.Err() != nil {
		p.fail(ctx.Err())
	}
	e.afterPass(ctx, p)
	return p.removedCount(), p.firstErr()
}

// runChains works the incidents' chains with a bounded pool of workers
// and returns when all of them are done.
func (e *Executor) runChains(ctx context.Context, p *pass, order []lane, chains map[lane][]incident.Pending) {
	if len(order) == 0 {
		return
	}
	work := make(chan []incident.Pending)
	var wg sync.WaitGroup
	for range min(e.cfg.Workers, len(order)) {
		wg.Go(func() {
			for chain := range work {
				e.runChain(ctx, p, chain)
			}
		})
	}
	for _, n := range order {
		select {
		case work <- chains[n]:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
}

// runChain performs one incident's effects in order, stopping at the first
// that does not complete.
func (e *Executor) runChain(ctx context.Context, p *pass, chain []incident.Pending) {
	chain = e.catchUp(ctx, p, chain)
	for i, pe := range chain {
		if ctx.Err() != nil {
			return
		}
		// Slack's return makes Slack's effects due at once, not a
		// tracker's, whose own Retry-After and backoff still hold.
		if !(p.dueNow && !isTicket(pe.Effect.Kind)) && pe.NextAt.After(e.cfg.Now()) {
			p.stop(laneOf(pe.Effect), pe.NextAt)
			return
		}
		if superseded(pe, chain[i+1:]) {
			if !e.skipSuperseded(ctx, p, pe) {
				p.stop(laneOf(pe.Effect), time.Time{})
				return
			}
			continue
		}
		if !e.performOne(ctx, p, pe) {
			// Whatever held it back (a deferral, a failing store), the
			// incident's later effects wait behind it, on later pages too.
			p.stop(laneOf(pe.Effect), time.Time{})
			return
		}
	}
}

// superseded reports whether a later effect in the incident's queue will do
// all that pe would: the topic and the kickoff are rendered from the
// incident's state when performed, so after a backlog (an outage, a busy
// minute) only the last of each needs to reach Slack.
func superseded(pe incident.Pending, later []incident.Pending) bool {
	k := pe.Effect.Kind
	if k != incident.EffectSetTopic && k != incident.EffectRefreshKickoff {
		return false
	}
	return slices.ContainsFunc(later, func(l incident.Pending) bool { return l.Effect.Kind == k })
}

// skipSuperseded completes pe without calling Slack.
func (e *Executor) skipSuperseded(ctx context.Context, p *pass, pe incident.Pending) bool {
	if _, err := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
		Result: map[string]string{"skipped": "superseded by a later one"}, At: e.cfg.Now(),
	}); err != nil {
		p.fail(fmt.Errorf("complete superseded effect %s: %w", pe.Effect.Key, err))
		return false
	}
	e.metrics.effects.WithLabelValues(string(pe.Effect.Kind), effectSkipped).Inc()
	p.removedOne(pe.Effect.Kind)
	return true
}

// afterPass refreshes what SlackDown and the gauges report, so neither
// reads the database on its own.
func (e *Executor) afterPass(ctx context.Context, p *pass) {
	now := e.cfg.Now()
	p.mu.Lock()
	nextDue := p.nextDue
	p.mu.Unlock()
	e.mu.Lock()
	e.nextDue = nextDue
	e.mu.Unlock()
	if ctx.Err() != nil {
		return
	}
	depth, oldest, err := e.cfg.Outbox.OutboxStats(ctx)
	if err != nil {
		p.fail(fmt.Errorf("read outbox stats: %w", err))
		return
	}
	age := 0.0
	if !oldest.IsZero() {
		age = max(now.Sub(oldest).Seconds(), 0)
	}
	e.metrics.depth.Set(float64(depth))
	e.metrics.oldestAge.Set(age)
	p.mu.Lock()
	slack := max(depth-p.ticketsLeft, 0)
	p.mu.Unlock()
	e.mu.Lock()
	e.depth = slack
	e.mu.Unlock()
}

func (e *Executor) nextDueAt() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nextDue
}

// SlackDown reports whether Slack is unreachable as far as the executor
// knows: the guard's breaker is open, or the last call failed in a way
// that may pass while effects wait. since is the first failure of the
// outage and queued the outbox depth after the last pass. It reads no
// database and makes no call, so replies can ask on every command.
func (e *Executor) SlackDown() (since time.Time, queued int, down bool) {
	open := e.cfg.Guard.State() == "open"
	e.mu.Lock()
	defer e.mu.Unlock()
	if !open && !(e.failing && e.depth > 0) {
		return time.Time{}, e.depth, false
	}
	since = e.outageSince
	if since.IsZero() {
		since = e.cfg.Now()
	}
	return since, e.depth, true
}

// slackAnswered records that Slack answered a call, whatever it said.
func (e *Executor) slackAnswered() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.failing {
		e.recovered = true
		// Wake Run for the pass that delivers the backlog.
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
	e.failing = false
	e.outageSince = time.Time{}
}

// takeRecovered reports, once, that Slack answered again after failing.
func (e *Executor) takeRecovered() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	r := e.recovered
	e.recovered = false
	return r
}

// slackFailed records a call that did not reach Slack or got no answer.
func (e *Executor) slackFailed(at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failing = true
	if e.outageSince.IsZero() {
		e.outageSince = at
	}
}

// pass is the state of one Drain, shared by its workers.
type pass struct {
	mu      sync.Mutex
	stopped map[lane]bool // lanes whose chain stopped this pass
	removed int           // effects that left the outbox
	nextDue time.Time     // earliest time a stopped chain comes due
	err     error
	dueNow  bool // Slack just came back: deferred effects are due now
	// ticketsLeft counts the ticket effects read this pass that are
	// still queued: the Slack backlog SlackDown tells is the rest.
	ticketsLeft int
}

func (p *pass) stop(n lane, due time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped[n] = true
	if !due.IsZero() && (p.nextDue.IsZero() || due.Before(p.nextDue)) {
		p.nextDue = due
	}
}

func (p *pass) isStopped(n lane) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped[n]
}

func (p *pass) removedOne(k incident.EffectKind) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.removed++
	if isTicket(k) {
		p.ticketsLeft--
	}
}

func (p *pass) removedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.removed
}

func (p *pass) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		p.err = err
	}
}

func (p *pass) firstErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// Outcomes of an effect, the values of ooda_effects_total's outcome label.
const (
	effectDone       = "done"
	effectFailed     = "failed"     // failed for good, recorded in the timeline
	effectDeferred   = "deferred"   // an attempt failed; it will be tried again
	effectSkipped    = "skipped"    // nothing to do: no announcement channel configured
	effectSummarized = "summarized" // told as a line of a catch-up message
)

type executorMetrics struct {
	depth     prometheus.Gauge
	oldestAge prometheus.Gauge
	effects   *prometheus.CounterVec
}

func newExecutorMetrics(reg prometheus.Registerer) executorMetrics {
	m := executorMetrics{
		depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ooda_outbox_depth",
			Help: "Effects waiting in the outbox after the executor's last pass.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ooda_outbox_oldest_age_seconds",
			Help: "Age of the oldest effect waiting in the outbox after the executor's last pass; 0 when none waits.",
		}),
		effects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_effects_total",
			Help: "Effect attempts by kind and outcome: done, failed (for good, recorded in the timeline), deferred (to be retried), skipped.",
		}, []string{"kind", "outcome"}),
	}
	if reg != nil {
		m.depth = resilience.RegisterOrReuse(reg, m.depth)
		m.oldestAge = resilience.RegisterOrReuse(reg, m.oldestAge)
		m.effects = resilience.RegisterOrReuse(reg, m.effects)
	}
	return m
}
