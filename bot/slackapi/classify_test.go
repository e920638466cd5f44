package slackapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
)

// These are resilience's tests of Slack's errors, moved here with the rules
// they test: a Slack guard built with slackapi.Classifier must decide as the
// guard did when it knew slack-go itself.

// newClassifiedGuard builds a Slack guard with slackapi.Classifier whose
// waits are recorded, not slept, on a fake clock that starts now (context
// deadlines are real), and whose backoff jitter is always one half.
func newClassifiedGuard(t testing.TB, p resilience.Policy) (*resilience.Guard, *resiliencetest.Clock) {
	t.Helper()
	clock := resiliencetest.NewClock(time.Now())
	g, err := resilience.New(p,
		resilience.WithClassifier(slackapi.Classifier{}),
		resilience.WithClock(clock.Now),
		resilience.WithSleep(clock.Sleep),
		resilience.WithRand(func() float64 { return 0.5 }))
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g, clock
}

// pathHits counts requests per URL path.
type pathHits struct {
	mu   sync.Mutex
	hits map[string]int
}

func (h *pathHits) hit(path string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hits[path]++
}

// count sums the hits of the paths starting with prefix.
func (h *pathHits) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.hits {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// newCountingServer starts an httptest server counting its hits per path
// and stops it with the test.
func newCountingServer(t testing.TB, h http.HandlerFunc) (*httptest.Server, *pathHits) {
	t.Helper()
	hits := &pathHits{hits: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.hit(r.URL.Path)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

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

// ctxWithTimeout bounds a test's calls so a bug hangs nothing for long.
func ctxWithTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// getConversation is one guarded conversations.info call to the Slack API
// at base, through the guard's HTTP client.
func getConversation(ctx context.Context, g *resilience.Guard, base string) error {
	api := slack.New("xoxb-test", slack.OptionAPIURL(base+"/"), slack.OptionHTTPClient(g.HTTPClient()))
	return g.Do(ctx, resilience.Op{Method: "conversations.info", Idempotent: true}, func(ctx context.Context) error {
		_, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
		return err
	})
}

func TestClassify(t *testing.T) {
	g, _ := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
	cases := []struct {
		name string
		err  error
		want resilience.Class
		// without is what resilience.Classify, which knows no slack-go
		// error of its own, makes of err.
		without resilience.Class
	}{
		{"slack 503", slack.StatusCodeError{Code: 503, Status: "503 Service Unavailable"}, resilience.ClassRetryable, resilience.ClassRetryable},
		{"slack 404", slack.StatusCodeError{Code: 404, Status: "404 Not Found"}, resilience.ClassPermanent, resilience.ClassPermanent},
		{"slack 429 without header", slack.StatusCodeError{Code: 429}, resilience.ClassRateLimited, resilience.ClassRateLimited},
		{"slack 501", fmt.Errorf("post: %w", slack.StatusCodeError{Code: 501}), resilience.ClassPermanent, resilience.ClassPermanent},
		{"slack rate limited", &slack.RateLimitedError{RetryAfter: time.Second}, resilience.ClassRateLimited, resilience.ClassRetryable},
		{"slack ok:false ratelimited", slack.SlackErrorResponse{Err: "ratelimited"}, resilience.ClassRateLimited, resilience.ClassRetryable},
		{"slack ok:false rate_limited", slack.SlackErrorResponse{Err: "rate_limited"}, resilience.ClassRateLimited, resilience.ClassRetryable},
		{"slack ok:false fatal_error", fmt.Errorf("x: %w", slack.SlackErrorResponse{Err: "fatal_error"}), resilience.ClassRetryable, resilience.ClassRetryable},
		{"slack ok:false is_archived", slack.SlackErrorResponse{Err: "is_archived"}, resilience.ClassPermanent, resilience.ClassRetryable},
		{"inside CallError", &resilience.CallError{Dependency: "slack", Err: slack.SlackErrorResponse{Err: "not_in_channel"}}, resilience.ClassPermanent, resilience.ClassRetryable},
		{"marked permanent rate limit", resilience.Permanent(&slack.RateLimitedError{RetryAfter: time.Second}), resilience.ClassPermanent, resilience.ClassPermanent},
		{"marked retryable rate limit keeps its wait", resilience.Retryable(slack.SlackErrorResponse{Err: "ratelimited"}), resilience.ClassRateLimited, resilience.ClassRetryable},
		{"a status beats the ok:false code", errors.Join(slack.SlackErrorResponse{Err: "channel_not_found"}, slack.StatusCodeError{Code: 502}), resilience.ClassRetryable, resilience.ClassRetryable},
		{"canceled", fmt.Errorf("post: %w: %w", slack.SlackErrorResponse{Err: "channel_not_found"}, context.Canceled), resilience.ClassCanceled, resilience.ClassCanceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, g.Classify(tc.err), "Classify(%v)", tc.err)
			require.Equal(t, tc.without, resilience.Classify(tc.err), "resilience.Classify(%v) without the classifier", tc.err)
		})
	}
}

func TestPermanentIs(t *testing.T) {
	g, _ := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
	inner := slack.SlackErrorResponse{Err: "channel_not_found"}
	err := g.Do(ctxWithTimeout(t), resilience.Op{Method: "chat.postMessage"}, func(context.Context) error { return inner })
	require.ErrorIs(t, err, resilience.ErrPermanent)
	var se slack.SlackErrorResponse
	require.ErrorAs(t, err, &se, "the Slack error stays reachable")
	require.Equal(t, "slack chat.postMessage: channel_not_found", err.Error())
	require.Equal(t, resilience.ClassPermanent, resilience.Classify(err), "an error from Do carries its guard's classifier")

	err = g.Do(ctxWithTimeout(t), resilience.Op{Method: "chat.postMessage"}, func(context.Context) error {
		return slack.SlackErrorResponse{Err: "internal_error"}
	})
	require.NotErrorIs(t, err, resilience.ErrPermanent)
}

func TestRetryAfter(t *testing.T) {
	g, _ := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
	d, ok := g.RetryAfter(&resilience.CallError{Err: &slack.RateLimitedError{RetryAfter: 7 * time.Second}})
	require.True(t, ok)
	require.Equal(t, 7*time.Second, d)
	_, ok = g.RetryAfter(slack.SlackErrorResponse{Err: "ratelimited"})
	require.False(t, ok, "an ok:false rate limit names no wait")
	_, ok = g.RetryAfter(&slack.RateLimitedError{})
	require.False(t, ok, "no header, no promise")
	_, ok = resilience.RetryAfter(&slack.RateLimitedError{RetryAfter: 7 * time.Second})
	require.False(t, ok, "resilience.RetryAfter knows no slack-go error of its own")
}

func TestRateLimitWaitsRetryAfter(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		body    string // a 200 with this body instead of a 429
		want    time.Duration
	}{
		{name: "slack Retry-After 7", headers: map[string]string{"Retry-After": "7"}, want: 7 * time.Second},
		{name: "slack 429 without Retry-After", want: 3 * time.Second},
		{name: "slack ok:false ratelimited", body: `{"ok":false,"error":"ratelimited"}`, want: 3 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			srv, _ := newCountingServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if n.Add(1) == 1 {
					for k, v := range tc.headers {
						w.Header().Set(k, v)
					}
					if tc.body != "" {
						fmt.Fprint(w, tc.body)
						return
					}
					w.WriteHeader(http.StatusTooManyRequests)
					return
				}
				fmt.Fprint(w, `{"ok":true,"channel":{"id":"C1"}}`)
			})
			p := resilience.DefaultPolicy(resilience.DependencySlack)
			p.DefaultRetryAfter = 3 * time.Second
			g, clock := newClassifiedGuard(t, p)
			err := getConversation(ctxWithTimeout(t), g, srv.URL)
			require.NoError(t, err)
			require.Equal(t, []time.Duration{tc.want}, clock.Sleeps())
			require.EqualValues(t, 2, n.Load())
		})
	}
}

// slackRateLimited is the error slack-go returns for a 429 with Retry-After.
func slackRateLimited(d time.Duration) error { return &slack.RateLimitedError{RetryAfter: d} }

func TestRateLimitGivesUpRatherThanWaitTooLong(t *testing.T) {
	cases := []struct {
		name     string
		err      error
		deadline time.Duration
	}{
		{name: "Retry-After past the caller's deadline", err: slackRateLimited(7 * time.Second), deadline: 3 * time.Second},
		{name: "Retry-After beyond MaxDelay", err: slackRateLimited(45 * time.Second), deadline: time.Hour},
		{name: "default wait past the deadline", err: slack.SlackErrorResponse{Err: "ratelimited"}, deadline: time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g, clock := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
			ctx, cancel := context.WithTimeout(t.Context(), tc.deadline)
			defer cancel()
			fn, calls := failN(10, tc.err)
			err := g.Do(ctx, resilience.Op{Method: "chat.update", Idempotent: true}, fn)

			require.Error(t, err)
			require.EqualValues(t, 1, calls.Load())
			require.Empty(t, clock.Sleeps(), "must not start a wait it cannot finish")
			require.Equal(t, resilience.ClassRateLimited, resilience.Classify(err))
			if want, ok := g.RetryAfter(tc.err); ok {
				got, ok := resilience.RetryAfter(err)
				require.True(t, ok, "the caller can reschedule with the server's wait")
				require.Equal(t, want, got)
			}
		})
	}
}

func TestNonIdempotentIsNotRetried(t *testing.T) {
	for _, err := range []error{slackRateLimited(time.Second), slack.StatusCodeError{Code: http.StatusBadGateway}} {
		t.Run(err.Error(), func(t *testing.T) {
			g, clock := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
			fn, calls := failN(10, err)
			got := g.Do(ctxWithTimeout(t), resilience.Op{Method: "chat.postMessage"}, fn)
			require.ErrorIs(t, got, err)
			require.EqualValues(t, 1, calls.Load())
			require.Empty(t, clock.Sleeps())
		})
	}
}

func TestBreakerExclusions(t *testing.T) {
	cases := []struct {
		name    string
		err     error
		counted bool
	}{
		{name: "slack channel_not_found", err: slack.SlackErrorResponse{Err: "channel_not_found"}},
		{name: "slack rate limit", err: slackRateLimited(time.Second)},
		{name: "slack ok:false ratelimited", err: slack.SlackErrorResponse{Err: "ratelimited"}},
		{name: "slack internal_error", err: slack.SlackErrorResponse{Err: "internal_error"}, counted: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := resilience.DefaultPolicy(resilience.DependencySlack)
			p.ConsecutiveFailures = 3
			g, _ := newClassifiedGuard(t, p)
			fn, calls := failN(100, tc.err)
			for range 3 {
				// Not idempotent, so one attempt per call.
				require.Error(t, g.Do(ctxWithTimeout(t), resilience.Op{Method: "chat.postMessage"}, fn))
			}
			if tc.counted {
				require.Equal(t, "open", g.State())
				require.ErrorIs(t, g.Do(ctxWithTimeout(t), resilience.Op{Method: "chat.postMessage"}, fn), resilience.ErrOpen)
				require.EqualValues(t, 3, calls.Load())
				return
			}
			// The breaker counts every error it does not exclude, so three
			// in a row that left it closed were all excluded.
			require.Equal(t, "closed", g.State())
		})
	}
}

// shouldRetry is the policy under test, written out independently of the
// guard: RFC 9110's "try again" codes and the 5xx that are not "never".
func shouldRetry(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500
}

// slackErrors are the ok:false answers Ooda can meet, and whether each is
// worth another attempt.
var slackErrors = []struct {
	code  string
	retry bool
}{
	{"ratelimited", true},
	{"rate_limited", true},
	{"internal_error", true},
	{"fatal_error", true},
	{"service_unavailable", true},
	{"request_timeout", true},
	{"channel_not_found", false},
	{"not_in_channel", false},
	{"invalid_auth", false},
	{"not_authed", false},
	{"name_taken", false},
	{"is_archived", false},
	{"missing_scope", false},
	{"token_revoked", false},
	{"account_inactive", false},
	{"invalid_arguments", false},
	{"msg_too_long", false},
	{"already_in_channel", false},
	{"user_not_found", false},
	{"cant_invite_self", false},
	{"restricted_action", false},
	{"invalid_blocks", false},
	{"no_text", false},
}

// TestRetryTable is Slack's row of resilience's shared table (DESIGN.md
// section 5): every status code and every ok:false answer, through
// slack-go, counting what reached the server to see whether the guard
// retried. Paths are /{kind}/{value}/conversations.info, so one server
// answers every case and counts each case's hits apart.
func TestRetryTable(t *testing.T) {
	srv, hits := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
		require.GreaterOrEqual(t, len(parts), 2, "path %q", r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		switch parts[0] {
		case "slack-error":
			fmt.Fprintf(w, `{"ok":false,"error":%q}`, parts[1])
		default:
			code, err := strconv.Atoi(parts[1])
			require.NoError(t, err)
			w.WriteHeader(code)
			fmt.Fprint(w, `{"ok":true,"channel":{"id":"C1"}}`)
		}
	})
	base := srv.URL
	maxAttempts := resilience.DefaultPolicy(resilience.DependencySlack).MaxAttempts
	require.Greater(t, maxAttempts, 1, "a policy without retries cannot show them")

	check := func(t *testing.T, prefix string, wantRetry, wantOK bool) {
		// A fresh guard per case: the breaker must not carry failures
		// from one case into the next.
		g, clock := newClassifiedGuard(t, resilience.DefaultPolicy(resilience.DependencySlack))
		err := getConversation(ctxWithTimeout(t), g, base+prefix)

		wantHits := 1
		if wantRetry {
			wantHits = maxAttempts
		}
		require.Equal(t, wantHits, hits.count(prefix+"/"), "server hits")
		require.Len(t, clock.Sleeps(), wantHits-1, "waits between attempts")
		if wantOK {
			require.NoError(t, err)
			return
		}
		require.Error(t, err)
		var ce *resilience.CallError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, wantHits, ce.Attempts)
		require.Equal(t, resilience.DependencySlack, ce.Dependency)
		require.Equal(t, !wantRetry, errors.Is(err, resilience.ErrPermanent), "errors.Is(err, ErrPermanent) for %v", err)
		require.Equal(t, "closed", g.State(), "%d failures must not trip a %d-failure breaker", wantHits, resilience.DefaultPolicy(resilience.DependencySlack).ConsecutiveFailures)
	}

	for code := 200; code <= 599; code++ {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			// Slack's client accepts only 200.
			check(t, "/status/"+strconv.Itoa(code), shouldRetry(code), code == http.StatusOK)
		})
	}
	for _, se := range slackErrors {
		t.Run(se.code, func(t *testing.T) {
			check(t, "/slack-error/"+se.code, se.retry, false)
		})
	}
}
