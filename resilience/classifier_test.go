package resilience

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

// pagerError is what a made-up pager client returns: a code and, with
// "slow_down", the wait it asked for. Only pagerClassifier knows it, the way
// only bot/slackapi knows slack-go's errors.
type pagerError struct {
	code string
	wait time.Duration
}

func (e *pagerError) Error() string { return "pager: " + e.code }

// pagerClassifier is the pager integration's Classifier.
type pagerClassifier struct{}

var _ Classifier = pagerClassifier{}

func (pagerClassifier) Classify(err error) (Class, bool) {
	pe, ok := errors.AsType[*pagerError](err)
	if !ok {
		return ClassNone, false
	}
	switch pe.code {
	case "slow_down":
		return ClassRateLimited, true
	case "busy":
		return ClassRetryable, true
	default:
		return ClassPermanent, true
	}
}

func (pagerClassifier) RetryAfter(err error) (time.Duration, bool) {
	if pe, ok := errors.AsType[*pagerError](err); ok && pe.wait > 0 {
		return pe.wait, true
	}
	return 0, false
}

func TestGuardHonoursClassifier(t *testing.T) {
	ms := time.Millisecond
	cases := []struct {
		name string
		err  error
		// without builds the guard without the classifier.
		without    bool
		want       Class
		sleeps     []time.Duration
		retryAfter time.Duration
		// counted says the breaker counted the attempts as failures
		// rather than leaving them out.
		counted bool
	}{
		{name: "permanent code", err: &pagerError{code: "gone"}, want: ClassPermanent},
		{name: "retryable code", err: &pagerError{code: "busy"}, want: ClassRetryable, sleeps: []time.Duration{125 * ms, 250 * ms}, counted: true},
		{name: "rate limit with a wait", err: &pagerError{code: "slow_down", wait: 7 * time.Second}, want: ClassRateLimited,
			sleeps: []time.Duration{7 * time.Second, 7 * time.Second}, retryAfter: 7 * time.Second},
		{name: "rate limit without a wait", err: &pagerError{code: "slow_down"}, want: ClassRateLimited,
			sleeps: []time.Duration{3 * time.Second, 3 * time.Second}},
		{name: "unknown to a guard without the classifier", err: &pagerError{code: "gone"}, without: true, want: ClassRetryable,
			sleeps: []time.Duration{125 * ms, 250 * ms}, counted: true},
		{name: "a mark beats the code", err: Retryable(&pagerError{code: "gone"}), want: ClassRetryable,
			sleeps: []time.Duration{125 * ms, 250 * ms}, counted: true},
		{name: "a retryable mark keeps the rate limit", err: Retryable(&pagerError{code: "slow_down", wait: time.Second}), want: ClassRateLimited,
			sleeps: []time.Duration{time.Second, time.Second}, retryAfter: time.Second},
		{name: "a status code beats the code", err: errors.Join(&pagerError{code: "gone"}, errUnavailable), want: ClassRetryable,
			sleeps: []time.Duration{125 * ms, 250 * ms}, counted: true},
		{name: "the code's rate limit beats a status code", err: errors.Join(&pagerError{code: "slow_down"}, &HTTPStatusError{Code: http.StatusNotFound}),
			want: ClassRateLimited, sleeps: []time.Duration{3 * time.Second, 3 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy("pager")
			p.DefaultRetryAfter = 3 * time.Second
			reg := prometheus.NewRegistry()
			opts := []Option{WithMetrics(NewMetrics(reg))}
			if !tc.without {
				opts = append(opts, WithClassifier(pagerClassifier{}))
			}
			g, clock := newTestGuard(t, p, opts...)
			fn, calls := failN(100, tc.err)
			err := g.Do(ctxWithTimeout(t), Op{Method: "page", Idempotent: true}, fn)

			require.ErrorIs(t, err, tc.err)
			attempts := len(tc.sleeps) + 1
			require.EqualValues(t, attempts, calls.Load(), "attempts")
			require.Equal(t, tc.sleeps, clock.Sleeps(), "waits between attempts")
			require.Equal(t, tc.want, g.Classify(tc.err), "the guard's Classify")
			require.Equal(t, tc.want, Classify(err), "Classify of what Do returned")
			require.Equal(t, tc.want == ClassPermanent, errors.Is(err, ErrPermanent), "errors.Is(err, ErrPermanent)")
			d, ok := g.RetryAfter(tc.err)
			require.Equal(t, tc.retryAfter, d, "the guard's RetryAfter")
			require.Equal(t, tc.retryAfter > 0, ok)
			d, ok = RetryAfter(err)
			require.Equal(t, tc.retryAfter, d, "RetryAfter of what Do returned")
			require.Equal(t, tc.retryAfter > 0, ok)
			require.Equal(t, 1.0, metricValue(t, reg, "ooda_outbound_calls_total",
				map[string]string{"dependency": "pager", "outcome": classOutcome(tc.want)}), "outcome label")

			counts := g.breaker.Counts()
			if tc.counted {
				require.EqualValues(t, attempts, counts.TotalFailures)
				require.Zero(t, counts.TotalExclusions)
				return
			}
			require.Zero(t, counts.TotalFailures)
			require.EqualValues(t, attempts, counts.TotalExclusions)
		})
	}

	t.Run("outcome of a call the caller's deadline ended", func(t *testing.T) {
		reg := prometheus.NewRegistry()
		g, _ := newTestGuard(t, DefaultPolicy("pager"), WithClassifier(pagerClassifier{}), WithMetrics(NewMetrics(reg)))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
		defer cancel()
		err := g.Do(ctx, Op{Method: "page", Idempotent: true}, func(ctx context.Context) error {
			<-ctx.Done()
			return &pagerError{code: "gone"}
		})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 1.0, metricValue(t, reg, "ooda_outbound_calls_total",
			map[string]string{"dependency": "pager", "outcome": OutcomePermanentError}))
	})

	t.Run("package Classify knows only generic errors", func(t *testing.T) {
		g, _ := newTestGuard(t, DefaultPolicy("pager"), WithClassifier(pagerClassifier{}))
		gone := &pagerError{code: "gone"}
		require.Equal(t, ClassPermanent, g.Classify(gone))
		require.Equal(t, ClassRetryable, Classify(gone))
		_, ok := RetryAfter(&pagerError{code: "slow_down", wait: time.Second})
		require.False(t, ok)
		require.NotErrorIs(t, &CallError{Err: gone}, ErrPermanent, "a CallError not made by Do has no classifier")
	})
}

// The guard's transport adds the HTTP status it saw to an error nothing can
// place; an error the classifier places keeps its class.
func TestClassifierBeatsTransportStatus(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	for _, tc := range []struct {
		name     string
		path     string
		opts     []Option
		attempts int
	}{
		{name: "with the classifier", path: "/classified", opts: []Option{WithClassifier(pagerClassifier{})}, attempts: 1},
		{name: "without", path: "/unclassified", attempts: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, _ := newTestGuard(t, DefaultPolicy("pager"), tc.opts...)
			err := g.Do(ctxWithTimeout(t), Op{Method: "page", Idempotent: true}, func(ctx context.Context) error {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+tc.path, nil)
				if err != nil {
					return err
				}
				resp, err := g.HTTPClient().Do(req)
				if err != nil {
					return err
				}
				_ = resp.Body.Close()
				// The client library reads its own error from the body and
				// drops the status, as slack-go and Prometheus's do.
				return &pagerError{code: "gone"}
			})
			require.Error(t, err)
			require.Equal(t, tc.attempts, hits.count(tc.path))
		})
	}
}
