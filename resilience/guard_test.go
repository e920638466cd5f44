package resilience

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/internal/testlog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/require"
)

var errUnavailable = &HTTPStatusError{Code: http.StatusServiceUnavailable}

// failN returns a fn failing with err on its first n calls and succeeding
// after, and a pointer to its call count.
func failN(n int, err error) (func(context.Context) error, *atomic.Int32) {
	var calls atomic.Int32
	return func(context.Context) error {
		if int(calls.Add(1)) <= n {
			return err
		}
		return nil
	}, &calls
}

func TestRateLimitWaitsRetryAfter(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{name: "http Retry-After 7", headers: map[string]string{"Retry-After": "7"}, want: 7 * time.Second},
		{name: "http Retry-After as HTTP-date", headers: map[string]string{
			"Date":        date.Format(http.TimeFormat),
			"Retry-After": date.Add(9 * time.Second).Format(http.TimeFormat),
		}, want: 9 * time.Second},
		{name: "http 429 without Retry-After", want: 3 * time.Second},
		{name: "http unparseable Retry-After", headers: map[string]string{"Retry-After": "soon"}, want: 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if n.Add(1) == 1 {
					for k, v := range tc.headers {
						w.Header().Set(k, v)
					}
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				fmt.Fprint(w, `{"ok":true,"channel":{"id":"C1"}}`)
			})
			p := DefaultPolicy(DependencySlack)
			p.DefaultRetryAfter = 3 * time.Second
			g, clock := newTestGuard(t, p)
			op := Op{Method: "conversations.info", Idempotent: true}
			err := g.Do(ctxWithTimeout(t), op, func(ctx context.Context) error {
				return plainHTTPCall(http.MethodGet, "/")(ctx, g, srv.URL)
			})
			require.NoError(t, err)
			require.Equal(t, []time.Duration{tc.want}, clock.Sleeps())
			require.EqualValues(t, 2, n.Load())
		})
	}
}

func TestRateLimitGivesUpRatherThanWaitTooLong(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		deadline time.Duration
	}{
		{name: "Retry-After past the caller's deadline", err: &RateLimitError{RetryAfter: 7 * time.Second}, deadline: 3 * time.Second},
		{name: "Retry-After beyond MaxDelay", err: &RateLimitError{RetryAfter: 45 * time.Second}, deadline: time.Hour},
		{name: "default wait past the deadline", err: &RateLimitError{}, deadline: time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, clock := newTestGuard(t, DefaultPolicy(DependencySlack))
			ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
			defer cancel()
			fn, calls := failN(10, tc.err)
			err := g.Do(ctx, Op{Method: "chat.update", Idempotent: true}, fn)

			require.Error(t, err)
			require.EqualValues(t, 1, calls.Load())
			require.Empty(t, clock.Sleeps(), "must not start a wait it cannot finish")
			require.Equal(t, ClassRateLimited, Classify(err))
			if want, ok := RetryAfter(tc.err); ok {
				got, ok := RetryAfter(err)
				require.True(t, ok, "the caller can reschedule with the server's wait")
				require.Equal(t, want, got)
			}
		})
	}
}

func TestBackoffFullJitter(t *testing.T) {
	p := DefaultPolicy(DependencyWebhook)
	p.MaxAttempts = 6
	p.BaseDelay = 250 * time.Millisecond
	p.Factor = 2
	p.MaxDelay = time.Second
	p.DefaultRetryAfter = time.Second
	p.ConsecutiveFailures = 100

	t.Run("half of a doubling ceiling, capped", func(t *testing.T) {
		g, clock := newTestGuard(t, p)
		fn, calls := failN(10, errUnavailable)
		err := g.Do(ctxWithTimeout(t), Op{Method: "post", Idempotent: true}, fn)
		require.Error(t, err)
		require.EqualValues(t, 6, calls.Load())
		ms := time.Millisecond
		require.Equal(t, []time.Duration{125 * ms, 250 * ms, 500 * ms, 500 * ms, 500 * ms}, clock.Sleeps())
	})

	t.Run("waits stay below the ceiling", func(t *testing.T) {
		g, err := New(p)
		require.NoError(t, err)
		for attempt := 1; attempt <= 8; attempt++ {
			ceiling := min(p.MaxDelay, p.BaseDelay<<(attempt-1))
			for range 200 {
				d := g.backoff(attempt)
				require.GreaterOrEqual(t, d, time.Duration(0))
				require.Less(t, d, ceiling)
			}
		}
	})

	t.Run("a wait past the deadline ends the call", func(t *testing.T) {
		g, clock := newTestGuard(t, p, WithRand(func() float64 { return 0.99 }))
		ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
		defer cancel()
		fn, calls := failN(10, errUnavailable)
		err := g.Do(ctx, Op{Method: "post", Idempotent: true}, fn)
		require.Error(t, err)
		// 247.5 ms then 495 ms: the second wait would cross the deadline.
		require.Len(t, clock.Sleeps(), 1)
		require.EqualValues(t, 2, calls.Load())
	})
}

func TestNonIdempotentIsNotRetried(t *testing.T) {
	for _, err := range []error{errUnavailable, context.DeadlineExceeded, &RateLimitError{RetryAfter: time.Second}, errors.New("connection reset")} {
		t.Run(err.Error(), func(t *testing.T) {
			g, clock := newTestGuard(t, DefaultPolicy(DependencySlack))
			fn, calls := failN(10, err)
			got := g.Do(ctxWithTimeout(t), Op{Method: "chat.postMessage"}, fn)
			require.ErrorIs(t, got, err)
			require.EqualValues(t, 1, calls.Load())
			require.Empty(t, clock.Sleeps())
		})
	}
}

func TestAttemptNumbers(t *testing.T) {
	g, _ := newTestGuard(t, DefaultPolicy(DependencySlack))
	var seen []int
	err := g.Do(ctxWithTimeout(t), Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		seen = append(seen, Attempt(ctx))
		if len(seen) < 3 {
			return errUnavailable
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, []int{1, 2, 3}, seen)
	require.Zero(t, Attempt(t.Context()), "outside Do")
}

func TestPerAttemptDeadline(t *testing.T) {
	t.Run("every attempt gets the policy timeout", func(t *testing.T) {
		g, _ := newTestGuard(t, DefaultPolicy(DependencyPrometheus))
		before := time.Now()
		err := g.Do(t.Context(), Op{Method: "query"}, func(ctx context.Context) error {
			deadline, ok := ctx.Deadline()
			require.True(t, ok, "fn must never run without a deadline")
			require.WithinRange(t, deadline, before.Add(10*time.Second), time.Now().Add(10*time.Second))
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("an earlier caller deadline wins", func(t *testing.T) {
		g, _ := newTestGuard(t, DefaultPolicy(DependencyPrometheus))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		want, _ := ctx.Deadline()
		err := g.Do(ctx, Op{Method: "query"}, func(ctx context.Context) error {
			got, _ := ctx.Deadline()
			require.Equal(t, want, got)
			return nil
		})
		require.NoError(t, err)
	})

	t.Run("a hanging attempt is cut off and retried", func(t *testing.T) {
		p := DefaultPolicy(DependencyWebhook)
		p.Timeout = 5 * time.Millisecond
		g, _ := newTestGuard(t, p)
		var calls atomic.Int32
		err := g.Do(ctxWithTimeout(t), Op{Method: "post", Idempotent: true}, func(ctx context.Context) error {
			calls.Add(1)
			<-ctx.Done()
			return ctx.Err()
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, ClassRetryable, Classify(err))
		require.EqualValues(t, p.MaxAttempts, calls.Load())
	})
}

func TestCallerCancellation(t *testing.T) {
	t.Run("during the wait between attempts", func(t *testing.T) {
		waiting := make(chan struct{})
		sleep := func(ctx context.Context, _ time.Duration) error {
			close(waiting)
			<-ctx.Done()
			return ctx.Err()
		}
		g, _ := newTestGuard(t, DefaultPolicy(DependencySlack), WithSleep(sleep))
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-waiting
			cancel()
		}()
		fn, calls := failN(10, errUnavailable)
		err := g.Do(ctx, Op{Method: "chat.update", Idempotent: true}, fn)
		require.ErrorIs(t, err, context.Canceled)
		require.ErrorIs(t, err, errUnavailable, "the last failure is kept")
		require.EqualValues(t, 1, calls.Load())
	})

	t.Run("before the first attempt", func(t *testing.T) {
		g, _ := newTestGuard(t, DefaultPolicy(DependencySlack))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		fn, calls := failN(0, nil)
		err := g.Do(ctx, Op{Method: "chat.update", Idempotent: true}, fn)
		require.ErrorIs(t, err, context.Canceled)
		require.Zero(t, calls.Load())
	})

	t.Run("while the attempt runs, not counted by the breaker", func(t *testing.T) {
		p := DefaultPolicy(DependencySlack)
		p.ConsecutiveFailures = 1
		g, clock := newTestGuard(t, p)
		for range 5 {
			ctx, cancel := context.WithCancel(t.Context())
			err := g.Do(ctx, Op{Method: "chat.update", Idempotent: true}, func(ctx context.Context) error {
				cancel()
				<-ctx.Done()
				// What a client library returns: its own error wrapping
				// the context's.
				return fmt.Errorf("post: %w", ctx.Err())
			})
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, ClassCanceled, Classify(err))
		}
		require.Equal(t, "closed", g.State())
		require.Zero(t, g.breaker.Counts().TotalFailures)
		require.Empty(t, clock.Sleeps())
	})
}

func TestBreakerExclusions(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		counted bool
	}{
		{name: "http 404", err: &HTTPStatusError{Code: http.StatusNotFound}},
		{name: "marked permanent", err: Permanent(errors.New("bad template"))},
		{name: "http 429", err: &RateLimitError{RetryAfter: time.Second}},
		{name: "http 503", err: errUnavailable, counted: true},
		{name: "per-attempt deadline", err: context.DeadlineExceeded, counted: true},
		{name: "unknown", err: errors.New("EOF-ish"), counted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy(DependencySlack)
			p.ConsecutiveFailures = 3
			g, _ := newTestGuard(t, p)
			fn, calls := failN(100, tc.err)
			for range 3 {
				// Not idempotent, so one attempt per call.
				require.Error(t, g.Do(ctxWithTimeout(t), Op{Method: "chat.postMessage"}, fn))
			}
			counts := g.breaker.Counts()
			if tc.counted {
				require.Equal(t, "open", g.State())
				require.ErrorIs(t, g.Do(ctxWithTimeout(t), Op{Method: "chat.postMessage"}, fn), ErrOpen)
				require.EqualValues(t, 3, calls.Load())
				return
			}
			require.Equal(t, "closed", g.State())
			require.Zero(t, counts.TotalFailures)
			require.EqualValues(t, 3, counts.TotalExclusions)
		})
	}
}

func TestBreakerTripsFailsFastAndRecovers(t *testing.T) {
	var healthy atomic.Bool
	srv, hits := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		if !healthy.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	p := DefaultPolicy(DependencyWebhook)
	p.ConsecutiveFailures = 3
	// Long enough that the breaker is surely still open for the
	// fail-fast assertions, even under -race on a loaded machine; short
	// enough to poll for.
	p.OpenTimeout = 250 * time.Millisecond
	reg := prometheus.NewRegistry()
	log, logs := testlog.New()
	g, clock := newTestGuard(t, p, WithMetrics(NewMetrics(reg)), WithLogger(log))
	gauge := func() float64 {
		return metricValue(t, reg, "ooda_breaker_state", map[string]string{"dependency": "webhook"})
	}
	call := func() error {
		return g.Do(ctxWithTimeout(t), Op{Method: "post"}, func(ctx context.Context) error {
			return plainHTTPCall(http.MethodPost, "/hook")(ctx, g, srv.URL)
		})
	}

	for range 3 {
		requireStatus(t, call(), http.StatusBadGateway)
	}
	require.Equal(t, "open", g.State())
	require.Equal(t, 2.0, gauge())

	err := call()
	require.ErrorIs(t, err, ErrOpen)
	require.ErrorIs(t, err, gobreaker.ErrOpenState)
	var ce *CallError
	require.ErrorAs(t, err, &ce)
	require.Zero(t, ce.Attempts)
	require.Equal(t, 3, hits.count("/"), "an open breaker must not reach the server")
	require.Empty(t, clock.Sleeps())

	// A failed probe opens it again.
	waitState(t, g, "half-open")
	require.Equal(t, 1.0, gauge())
	requireStatus(t, call(), http.StatusBadGateway)
	require.Equal(t, "open", g.State())
	require.Equal(t, 4, hits.count("/"))

	// A successful probe closes it.
	healthy.Store(true)
	waitState(t, g, "half-open")
	require.NoError(t, call())
	require.Equal(t, "closed", g.State())
	require.Equal(t, 0.0, gauge())
	require.Equal(t, 5, hits.count("/"))

	out := logs.String()
	for _, s := range []string{"from=closed to=open", "from=open to=half-open", "from=half-open to=open", "from=half-open to=closed"} {
		require.Contains(t, out, s)
	}
	require.Contains(t, out, "level=WARN msg=\"circuit breaker state changed\" dependency=webhook from=closed to=open")
}

func requireStatus(t *testing.T, err error, code int) {
	t.Helper()
	var se *HTTPStatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, code, se.Code)
}

func TestBreakerFailureRatio(t *testing.T) {
	p := DefaultPolicy(DependencyPrometheus)
	p.ConsecutiveFailures = 100
	p.MinRequests = 6
	p.FailureRatio = 0.5
	g, _ := newTestGuard(t, p)
	op := Op{Method: "query"}
	ok := func(context.Context) error { return nil }
	fail := func(context.Context) error { return errUnavailable }
	// Permanent errors are excluded: they must not count towards
	// MinRequests either.
	permanent := func(context.Context) error { return &HTTPStatusError{Code: http.StatusBadRequest} }

	for _, fn := range []func(context.Context) error{ok, fail, permanent, ok, permanent, fail, ok, permanent} {
		_ = g.Do(ctxWithTimeout(t), op, fn)
	}
	require.Equal(t, "closed", g.State(), "2 of 5 counted failed")
	_ = g.Do(ctxWithTimeout(t), op, fail)
	require.Equal(t, "open", g.State(), "3 of 6 counted failed")
}

func TestBreakerOpeningStopsRetries(t *testing.T) {
	p := DefaultPolicy(DependencySlack)
	p.MaxAttempts = 5
	p.ConsecutiveFailures = 2
	g, clock := newTestGuard(t, p)
	fn, calls := failN(10, errUnavailable)
	err := g.Do(ctxWithTimeout(t), Op{Method: "conversations.info", Idempotent: true}, fn)
	require.ErrorIs(t, err, ErrOpen)
	require.ErrorIs(t, err, errUnavailable, "the failure that tripped it is kept")
	require.EqualValues(t, 2, calls.Load())
	require.Len(t, clock.Sleeps(), 1, "no wait for an attempt the breaker would refuse")
	var ce *CallError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, 2, ce.Attempts)
}

func TestBulkheadIsolatesDependencies(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"channel":{"id":"C1"}}`)
	})
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	pp := DefaultPolicy(DependencyPrometheus)
	pp.MaxConcurrent = 2
	prom, _ := newTestGuard(t, pp, WithMetrics(m))
	slk, _ := newTestGuard(t, DefaultPolicy(DependencySlack), WithMetrics(m))

	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Go(func() {
			errs[i] = prom.Do(t.Context(), Op{Method: "query_range", Idempotent: true}, func(ctx context.Context) error {
				started <- struct{}{}
				select {
				case <-release:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		})
	}
	defer func() {
		close(release)
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
	}()
	<-started
	<-started

	called := false
	err := prom.Do(t.Context(), Op{Method: "query", Idempotent: true}, func(context.Context) error {
		called = true
		return nil
	})
	require.ErrorIs(t, err, ErrBulkheadFull)
	var be *BulkheadFullError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "prometheus", be.Dependency)
	require.False(t, called)
	require.Equal(t, 1.0, metricValue(t, reg, "ooda_outbound_calls_total",
		map[string]string{"dependency": "prometheus", "method": "query", "outcome": OutcomeBulkheadFull}))

	err = slk.Do(t.Context(), Op{Method: "conversations.info", Idempotent: true}, func(ctx context.Context) error {
		return plainHTTPCall(http.MethodGet, "/api/conversations.info")(ctx, slk, srv.URL)
	})
	require.NoError(t, err, "a saturated Prometheus must not hold up Slack")
}

func TestPanicReleasesBulkheadSlot(t *testing.T) {
	p := DefaultPolicy(DependencyWebhook)
	p.MaxConcurrent = 1
	g, _ := newTestGuard(t, p)
	require.Panics(t, func() {
		_ = g.Do(t.Context(), Op{Method: "post"}, func(context.Context) error { panic("boom") })
	})
	require.NoError(t, g.Do(t.Context(), Op{Method: "post"}, func(context.Context) error { return nil }))
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	require.Same(t, m.calls, NewMetrics(reg).calls, "registering again reuses the collectors")

	slk, _ := newTestGuard(t, DefaultPolicy(DependencySlack), WithMetrics(m))
	hook, _ := newTestGuard(t, DefaultPolicy(DependencyWebhook), WithMetrics(m))
	ctx := ctxWithTimeout(t)
	op := Op{Method: "chat.update", Idempotent: true}

	fn, _ := failN(1, errUnavailable)
	require.NoError(t, slk.Do(ctx, op, fn))
	require.Error(t, slk.Do(ctx, op, func(context.Context) error { return &HTTPStatusError{Code: http.StatusNotFound} }))
	require.Error(t, slk.Do(ctx, op, func(context.Context) error { return errUnavailable }))
	require.Error(t, hook.Do(ctx, Op{Method: "post"}, func(context.Context) error { return &RateLimitError{RetryAfter: time.Second} }))
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, hook.Do(canceled, Op{}, func(context.Context) error { return nil }))

	calls := func(dep, method, outcome string) float64 {
		return metricValue(t, reg, "ooda_outbound_calls_total", map[string]string{"dependency": dep, "method": method, "outcome": outcome})
	}
	require.Equal(t, 1.0, calls("slack", "chat.update", OutcomeOK))
	require.Equal(t, 1.0, calls("slack", "chat.update", OutcomePermanentError))
	require.Equal(t, 1.0, calls("slack", "chat.update", OutcomeRetryableError))
	require.Equal(t, 1.0, calls("webhook", "post", OutcomeRateLimited))
	require.Equal(t, 1.0, calls("webhook", "unknown", OutcomeCanceled))
	// 1 retry for the first call, 3 for the one that gave up.
	require.Equal(t, 4.0, metricValue(t, reg, "ooda_outbound_retries_total", map[string]string{"dependency": "slack"}))
	require.Equal(t, 0.0, metricValue(t, reg, "ooda_outbound_retries_total", map[string]string{"dependency": "webhook"}))
	require.Equal(t, 7.0, metricValue(t, reg, "ooda_outbound_call_duration_seconds", map[string]string{"dependency": "slack", "method": "chat.update"}),
		"one observation per attempt")
	require.Equal(t, 0.0, metricValue(t, reg, "ooda_breaker_state", map[string]string{"dependency": "webhook"}))

	t.Run("nil metrics record nothing", func(t *testing.T) {
		g, _ := newTestGuard(t, DefaultPolicy(DependencySlack), WithMetrics(nil))
		require.NoError(t, g.Do(ctx, op, func(context.Context) error { return nil }))
	})
}

func TestCallErrorRedactsSecrets(t *testing.T) {
	const (
		token = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
		sig   = "a1b2c3d4e5f6deadbeef"
	)
	// A server that is gone, so the client's *url.Error quotes the URL.
	srv, _ := newServer(t, func(http.ResponseWriter, *http.Request) {})
	srv.Close()
	log, logs := testlog.New()
	g, _ := newTestGuard(t, DefaultPolicy(DependencySlack), WithLogger(log))

	err := g.Do(ctxWithTimeout(t), Op{Method: "files.upload", Idempotent: true}, func(ctx context.Context) error {
		u := srv.URL + "/upload/v1/ABC?X-Amz-Signature=" + sig + "&token=" + token
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if err != nil {
			return err
		}
		resp, err := g.HTTPClient().Do(req)
		if err != nil {
			return fmt.Errorf("upload as %s with Authorization: Bearer %s: %w", token, token, err)
		}
		return resp.Body.Close()
	})
	require.Error(t, err)
	var ue interface{ Unwrap() error }
	require.ErrorAs(t, err, &ue)

	msg := err.Error()
	for _, secret := range []string{token, sig, "1234567890", "X-Amz-Signature"} {
		require.NotContains(t, msg, secret)
		require.NotContains(t, logs.String(), secret)
	}
	require.Contains(t, msg, "/upload/v1/ABC", "enough is kept to debug with")
	require.Contains(t, msg, "upload as xoxb-REDACTED with Authorization: Bearer REDACTED")
	require.Contains(t, logs.String(), "retrying outbound call", "the retries were logged")
}

func TestHTTPClientTimeouts(t *testing.T) {
	for _, dep := range []string{DependencySlack, DependencyPrometheus, DependencyWebhook} {
		t.Run(dep, func(t *testing.T) {
			p := DefaultPolicy(dep)
			g, _ := newTestGuard(t, p)
			c := g.HTTPClient()
			require.Same(t, c, g.HTTPClient(), "one connection pool per dependency")
			require.Equal(t, p.Timeout+time.Second, c.Timeout)
			tr := c.Transport.(*statusRecorder).next
			require.NotNil(t, tr.DialContext)
			require.Positive(t, tr.TLSHandshakeTimeout)
			require.LessOrEqual(t, tr.TLSHandshakeTimeout, p.Timeout)
			require.Equal(t, p.Timeout, tr.ResponseHeaderTimeout)
			require.Positive(t, tr.IdleConnTimeout)
			require.Equal(t, p.MaxConcurrent, tr.MaxIdleConnsPerHost)
		})
	}
}

func TestNewRejectsBadPolicy(t *testing.T) {
	p := DefaultPolicy(DependencySlack)
	p.MaxAttempts = 0
	_, err := New(p)
	require.ErrorContains(t, err, "max attempts 0")

	_, err = NewGuards(DefaultPolicy(DependencySlack), Policy{Dependency: DependencyPrometheus}, DefaultPolicy(DependencyWebhook), nil)
	require.ErrorContains(t, err, `"prometheus"`)
}

func TestDefaultGuards(t *testing.T) {
	gs, err := DefaultGuards(nil)
	require.NoError(t, err)
	for dep, g := range map[string]*Guard{"slack": gs.Slack, "prometheus": gs.Prometheus, "webhook": gs.Webhook} {
		require.Equal(t, dep, g.Dependency())
		require.Equal(t, "closed", g.State())
	}
}

func TestStateNames(t *testing.T) {
	// State() promises these strings; gobreaker owns them, so pin them.
	require.Equal(t, "closed", gobreaker.StateClosed.String())
	require.Equal(t, "half-open", gobreaker.StateHalfOpen.String())
	require.Equal(t, "open", gobreaker.StateOpen.String())
	require.True(t, strings.HasPrefix(fmt.Sprint(gobreaker.State(9)), "unknown"))
}
