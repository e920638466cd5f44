package resilience

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Op describes the call being guarded.
type Op struct {
	// Method names the call in metrics and logs, e.g. "chat.postMessage".
	// Keep it to a fixed set: it is a metric label.
	Method string
	// Idempotent says the call may be sent again after a failure without
	// doing its work twice. Only idempotent calls are retried. A call that
	// reconciles before re-sending (see Attempt) may declare itself
	// idempotent.
	Idempotent bool
}

// Guard protects the calls to one dependency with a bulkhead, a retry loop,
// a circuit breaker and per-attempt timeouts. It is safe for concurrent use;
// build one per dependency and share it.
type Guard struct {
	policy  Policy
	breaker *gobreaker.CircuitBreaker[struct{}]
	slots   chan struct{}
	client  *http.Client

	classifier Classifier

	now     func() time.Time
	sleep   func(context.Context, time.Duration) error
	rand    func() float64
	log     *slog.Logger
	metrics *Metrics
}

// Option changes how New builds a Guard, mostly so tests can control time.
type Option func(*Guard)

// WithClock sets the clock used to decide whether a wait still fits before
// the caller's deadline and to time attempts. Context deadlines come from the
// real clock, so a fake clock should start at time.Now and move with the
// fake sleep.
func WithClock(now func() time.Time) Option {
	return func(g *Guard) {
		if now != nil {
			g.now = now
		}
	}
}

// WithSleep sets how the guard waits between attempts. It must return early
// with ctx.Err() when ctx ends. Tests pass one that records the durations and
// returns at once.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(g *Guard) {
		if sleep != nil {
			g.sleep = sleep
		}
	}
}

// WithRand sets the source of backoff jitter: a function returning a number
// in [0, 1), such as math/rand/v2's Float64. Do calls it from many
// goroutines, so a *rand.Rand needs a lock around it.
func WithRand(rand func() float64) Option {
	return func(g *Guard) {
		if rand != nil {
			g.rand = rand
		}
	}
}

// WithLogger sets where breaker state changes and retries are logged.
// Without it the guard logs nothing.
func WithLogger(l *slog.Logger) Option {
	return func(g *Guard) {
		if l != nil {
			g.log = l
		}
	}
}

// WithClassifier sets the classifier of the integration the guard serves.
// The guard consults it wherever it classifies (retries, breaker counts,
// outcome labels, Retry-After waits) and Do's errors carry it, so Classify,
// RetryAfter and errors.Is(err, ErrPermanent) place them the same way.
// Without it, or with nil, the guard knows only the errors Classify knows.
func WithClassifier(c Classifier) Option {
	return func(g *Guard) { g.classifier = c }
}

// WithMetrics sets the collectors the guard reports to. Without it the guard
// records no metrics.
func WithMetrics(m *Metrics) Option {
	return func(g *Guard) { g.metrics = m }
}

// New validates p and builds its Guard.
func New(p Policy, opts ...Option) (*Guard, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	g := &Guard{
		policy: p,
		slots:  make(chan struct{}, p.MaxConcurrent),
		client: newHTTPClient(p),
		now:    time.Now,
		sleep:  sleepContext,
		rand:   rand.Float64,
		log:    slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(g)
	}
	g.log = g.log.With(slog.String("dependency", p.Dependency))
	g.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name: p.Dependency,
		// One probe at a time while half-open: a dependency that is just
		// coming back should not meet the whole backlog at once.
		MaxRequests:   1,
		Interval:      p.Interval,
		Timeout:       p.OpenTimeout,
		ReadyToTrip:   g.readyToTrip,
		OnStateChange: g.onStateChange,
		IsExcluded:    g.excludedFromBreaker,
	})
	g.metrics.breakerState(p.Dependency, gobreaker.StateClosed)
	return g, nil
}

// Dependency returns the name of the guarded dependency.
func (g *Guard) Dependency() string { return g.policy.Dependency }

// State returns the breaker's state: "closed", "open" or "half-open". An open
// breaker whose OpenTimeout has passed reports (and becomes) half-open.
func (g *Guard) State() string { return g.breaker.State().String() }

// Classify sorts err as the guard does: by the package's rules, with the
// guard's Classifier taking its place among them. Callers deciding what to
// do with a failure (reschedule, give up) use it on errors that may not
// have come through Do; errors from Do classify the same way with the
// package's Classify.
func (g *Guard) Classify(err error) Class {
	c, _ := classify(err, g.classifier)
	return c
}

// RetryAfter reports the wait a rate-limited err asked for, read as the
// guard reads it before a retry: through its Classifier, then from a
// RateLimitError.
func (g *Guard) RetryAfter(err error) (time.Duration, bool) {
	return retryAfter(err, g.classifier)
}

// HTTPClient returns the client to reach the dependency with, shared by
// all callers of this guard. Its transport bounds dialing, the TLS handshake
// and the wait for response headers, and its Timeout is a backstop for code
// that forgets to pass a context: calls made inside Do already carry the
// per-attempt deadline. Its transport also tells Do the HTTP status of a
// failed request when the client library's own error does not (the
// Prometheus API client's, for one), so that classification stays exact.
func (g *Guard) HTTPClient() *http.Client { return g.client }

// Do calls fn under the guard's policy and returns nil or the error of the
// last attempt, as a *CallError (or a *BulkheadFullError when no attempt was
// made). fn receives a context carrying the per-attempt deadline and the
// attempt number (Attempt); it must honour the context.
//
// Do never sleeps past ctx's deadline and returns as soon as ctx ends. It
// fails fast, without calling fn or waiting, when the breaker is open.
func (g *Guard) Do(ctx context.Context, op Op, fn func(ctx context.Context) error) error {
	dep := g.policy.Dependency
	method := op.Method
	if method == "" {
		method = "unknown"
	}
	select {
	case g.slots <- struct{}{}:
	default:
		g.metrics.call(dep, method, OutcomeBulkheadFull)
		return &BulkheadFullError{Dependency: dep}
	}
	defer func() { <-g.slots }()

	fail := func(attempts int, outcome string, err error) error {
		g.metrics.call(dep, method, outcome)
		return &CallError{Dependency: dep, Method: op.Method, Attempts: attempts, Err: err, classifier: g.classifier}
	}
	var last error
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return fail(attempt-1, g.callerOutcome(ctx, last), withContextErr(ctx, last))
		}
		called, err := g.attempt(ctx, attempt, method, fn)
		switch {
		case err == nil:
			g.metrics.call(dep, method, OutcomeOK)
			return nil
		case !called:
			return fail(attempt-1, OutcomeBreakerOpen, &openError{cause: err, last: last})
		case ctx.Err() != nil:
			return fail(attempt, g.callerOutcome(ctx, err), withContextErr(ctx, err))
		}
		last = err
		class := g.Classify(err)
		wait, ok := g.nextWait(ctx, op, class, attempt, err)
		if !ok {
			return fail(attempt, classOutcome(class), err)
		}
		if g.breaker.State() == gobreaker.StateOpen {
			// This failure (or a concurrent one) tripped the breaker: the
			// next attempt would be refused, so do not wait for it.
			return fail(attempt, OutcomeBreakerOpen, &openError{cause: gobreaker.ErrOpenState, last: err})
		}
		g.metrics.retry(dep)
		g.log.LogAttrs(ctx, slog.LevelDebug, "retrying outbound call",
			slog.String("method", method),
			slog.Int("attempt", attempt),
			slog.Duration("wait", wait),
			slog.String("class", class.String()),
			slog.String("error", Redact(err.Error())))
		if serr := g.sleep(ctx, wait); serr != nil {
			if ctx.Err() == nil {
				return fail(attempt, OutcomeCanceled, fmt.Errorf("%w: wait for retry: %w", err, serr))
			}
			return fail(attempt, g.callerOutcome(ctx, err), withContextErr(ctx, err))
		}
	}
}

// attempt runs fn once through the breaker. called is false when the breaker
// refused it.
func (g *Guard) attempt(ctx context.Context, n int, method string, fn func(context.Context) error) (called bool, err error) {
	st := &attemptState{n: n}
	_, err = g.breaker.Execute(func() (struct{}, error) {
		called = true
		actx, cancel := context.WithTimeout(context.WithValue(ctx, attemptKey{}, st), g.policy.Timeout)
		defer cancel()
		start := g.now()
		ferr := fn(actx)
		g.metrics.attempt(g.policy.Dependency, method, g.now().Sub(start))
		if ferr == nil {
			return struct{}{}, nil
		}
		ferr = st.hint(ferr, g.classifier)
		if errors.Is(ctx.Err(), context.Canceled) {
			// Whatever fn saw, the caller walked away: that says
			// nothing about the dependency's health.
			return struct{}{}, &callerCanceledError{err: ferr}
		}
		return struct{}{}, ferr
	})
	if cc, ok := err.(*callerCanceledError); ok {
		err = cc.err
	}
	return called, err
}

// nextWait decides whether another attempt is allowed and how long to wait
// before it.
func (g *Guard) nextWait(ctx context.Context, op Op, class Class, attempt int, err error) (time.Duration, bool) {
	if class != ClassRetryable && class != ClassRateLimited {
		return 0, false
	}
	if !op.Idempotent || attempt >= g.policy.MaxAttempts {
		return 0, false
	}
	var wait time.Duration
	if class == ClassRateLimited {
		wait = g.policy.DefaultRetryAfter
		if d, ok := g.RetryAfter(err); ok {
			wait = d
		}
		// A wait beyond MaxDelay would hold a bulkhead slot for that long;
		// the caller can reschedule with RetryAfter instead.
		if wait > g.policy.MaxDelay {
			return 0, false
		}
	} else {
		wait = g.backoff(attempt)
	}
	if deadline, ok := ctx.Deadline(); ok && !g.now().Add(wait).Before(deadline) {
		return 0, false
	}
	return wait, true
}

// backoff is "full jitter" (AWS Architecture Blog, Exponential Backoff And
// Jitter): a uniform wait below the exponential ceiling, which spreads
// clients that failed together instead of having them retry in lockstep.
func (g *Guard) backoff(attempt int) time.Duration {
	p := g.policy
	ceiling := float64(p.BaseDelay) * math.Pow(p.Factor, float64(attempt-1))
	if ceiling > float64(p.MaxDelay) || math.IsNaN(ceiling) {
		ceiling = float64(p.MaxDelay)
	}
	return time.Duration(g.rand() * ceiling)
}

// readyToTrip computes the failure ratio over the requests that were counted,
// so excluded ones (permanent errors, rate limits, cancellations) neither
// dilute nor inflate it.
func (g *Guard) readyToTrip(c gobreaker.Counts) bool {
	if c.ConsecutiveFailures >= g.policy.ConsecutiveFailures {
		return true
	}
	counted := c.TotalSuccesses + c.TotalFailures
	return counted >= g.policy.MinRequests &&
		float64(c.TotalFailures)/float64(counted) >= g.policy.FailureRatio
}

// onStateChange runs under the breaker's lock: it must not call back into it.
func (g *Guard) onStateChange(_ string, from, to gobreaker.State) {
	g.metrics.breakerState(g.policy.Dependency, to)
	level := slog.LevelInfo
	if to == gobreaker.StateOpen {
		level = slog.LevelWarn
	}
	g.log.LogAttrs(context.Background(), level, "circuit breaker state changed",
		slog.String("from", from.String()),
		slog.String("to", to.String()))
}

// excludedFromBreaker keeps out of the breaker's counts everything that does
// not show the dependency failing. Permanent errors are the dependency
// answering correctly to a bad request. Rate limits are the dependency alive
// and asking us to slow down: tripping on them would turn "wait 7 s" into
// "fail everything for OpenTimeout" and, worse, half-open probes would keep
// hitting the limit. Cancellations are the caller's doing. A timeout of our
// own per-attempt deadline is a failure and is counted.
func (g *Guard) excludedFromBreaker(err error) bool {
	if _, ok := err.(*callerCanceledError); ok {
		return true
	}
	switch g.Classify(err) {
	case ClassPermanent, ClassRateLimited, ClassCanceled:
		return true
	}
	return false
}

// callerCanceledError marks, for the breaker only, an attempt whose caller
// canceled while it ran. Do unwraps it before anyone else sees it.
type callerCanceledError struct{ err error }

func (e *callerCanceledError) Error() string { return e.err.Error() }
func (e *callerCanceledError) Unwrap() error { return e.err }

func classOutcome(c Class) string {
	switch c {
	case ClassPermanent:
		return OutcomePermanentError
	case ClassRateLimited:
		return OutcomeRateLimited
	case ClassCanceled:
		return OutcomeCanceled
	default:
		return OutcomeRetryableError
	}
}

// callerOutcome labels a call the caller's context ended. A deadline that
// ran out while the dependency was working is the dependency being too slow,
// which is how the breaker counts it too; a cancellation is not.
func (g *Guard) callerOutcome(ctx context.Context, err error) string {
	if errors.Is(ctx.Err(), context.Canceled) || err == nil {
		return OutcomeCanceled
	}
	return classOutcome(g.Classify(err))
}

// withContextErr makes sure the caller can tell (errors.Is) that its own
// context ended the call, whatever fn returned.
func withContextErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	switch {
	case err == nil:
		return cerr
	case errors.Is(err, cerr):
		return err
	default:
		return fmt.Errorf("%w: %w", err, cerr)
	}
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type attemptKey struct{}

// attemptState travels in the context of one attempt: its number, and the
// last HTTP status the guard's transport saw while it ran.
type attemptState struct {
	n int

	mu     sync.Mutex
	status error
}

// Attempt returns the number, from 1, of the attempt whose context ctx is or
// derives from, and 0 outside Do. An operation whose first attempt may have
// landed despite failing (a timeout after the request was sent) checks it to
// reconcile before sending again.
func Attempt(ctx context.Context) int {
	if st, ok := ctx.Value(attemptKey{}).(*attemptState); ok {
		return st.n
	}
	return 0
}

func (st *attemptState) recordStatus(resp *http.Response) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.status = StatusError(resp)
}

// hint adds the HTTP status seen during the attempt to an error neither c
// nor Classify can place, so a client library that reduces a 400 to a
// string does not get it retried and counted against the breaker as if it
// were an outage.
func (st *attemptState) hint(err error, c Classifier) error {
	if _, known := classify(err, c); known {
		return err
	}
	st.mu.Lock()
	status := st.status
	st.mu.Unlock()
	if status == nil {
		return err
	}
	return &statusHintError{err: err, status: status}
}

// statusHintError is an error together with the HTTP status behind it.
type statusHintError struct {
	err    error
	status error
}

func (e *statusHintError) Error() string   { return e.err.Error() + " (" + e.status.Error() + ")" }
func (e *statusHintError) Unwrap() []error { return []error{e.err, e.status} }
