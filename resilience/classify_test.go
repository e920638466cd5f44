package resilience

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/stretchr/testify/require"
)

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	_, parseErr := url.Parse("http://[::1")
	require.Error(t, parseErr)
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassNone},
		{"canceled", context.Canceled, ClassCanceled},
		{"canceled inside url.Error", &url.Error{Op: "Post", URL: "https://slack.com/api/chat.postMessage", Err: context.Canceled}, ClassCanceled},
		{"our deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), ClassRetryable},
		{"net timeout", &url.Error{Op: "Get", URL: "http://prom:9090", Err: timeoutError{}}, ClassRetryable},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, ClassRetryable},
		{"connection reset", &url.Error{Op: "Post", Err: &net.OpError{Op: "read", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}}, ClassRetryable},
		{"unexpected EOF", fmt.Errorf("read body: %w", io.ErrUnexpectedEOF), ClassRetryable},
		{"EOF", &url.Error{Op: "Post", Err: io.EOF}, ClassRetryable},
		{"unknown", errors.New("something odd"), ClassRetryable},
		{"bad certificate", &url.Error{Op: "Get", Err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, ClassPermanent},
		{"wrong host certificate", x509.HostnameError{Host: "example.com"}, ClassPermanent},
		{"bad URL", parseErr, ClassPermanent},
		{"http 408", &HTTPStatusError{Code: 408}, ClassRetryable},
		{"http 425", &HTTPStatusError{Code: 425}, ClassRetryable},
		{"http 500", &HTTPStatusError{Code: 500}, ClassRetryable},
		{"http 505", &HTTPStatusError{Code: 505}, ClassPermanent},
		{"http 410", &HTTPStatusError{Code: 410}, ClassPermanent},
		{"http 302 not followed", &HTTPStatusError{Code: 302}, ClassPermanent},
		{"http 429", &RateLimitError{}, ClassRateLimited},
		{"marked permanent", Permanent(errUnavailable), ClassPermanent},
		{"marked permanent rate limit", Permanent(&RateLimitError{}), ClassPermanent},
		{"marked retryable", Retryable(&HTTPStatusError{Code: 404}), ClassRetryable},
		{"marked retryable rate limit keeps its wait", Retryable(&RateLimitError{RetryAfter: time.Second}), ClassRateLimited},
		{"outermost mark wins", Retryable(Permanent(errors.New("x"))), ClassRetryable},
		{"breaker open", &openError{cause: gobreaker.ErrOpenState}, ClassRetryable},
		{"breaker open after a rate limit", &openError{cause: gobreaker.ErrOpenState, last: &RateLimitError{}}, ClassRetryable},
		{"bulkhead full", &BulkheadFullError{Dependency: "slack"}, ClassRetryable},
		{"inside CallError", &CallError{Dependency: "webhook", Err: &HTTPStatusError{Code: 404}}, ClassPermanent},
		{"joined", errors.Join(errors.New("cleanup failed"), &HTTPStatusError{Code: 400}), ClassPermanent},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Classify(tc.err), "Classify(%v)", tc.err)
		})
	}
}

func TestPermanentIs(t *testing.T) {
	require.ErrorIs(t, Permanent(errors.New("x")), ErrPermanent)
	require.NotErrorIs(t, Retryable(errors.New("x")), ErrPermanent)
	require.Nil(t, Permanent(nil))
	require.Nil(t, Retryable(nil))

	inner := &HTTPStatusError{Code: http.StatusNotFound}
	err := &CallError{Dependency: "webhook", Method: "post", Attempts: 1, Err: inner}
	require.ErrorIs(t, err, ErrPermanent)
	var se *HTTPStatusError
	require.ErrorAs(t, err, &se, "the cause stays reachable")
	require.Equal(t, "webhook post: http status 404 Not Found", err.Error())
	require.NotErrorIs(t, &CallError{Err: errUnavailable}, ErrPermanent)
	require.Equal(t, "slack chat.update: after 3 attempts: http status 503 Service Unavailable",
		(&CallError{Dependency: "slack", Method: "chat.update", Attempts: 3, Err: errUnavailable}).Error())
}

func TestStatusError(t *testing.T) {
	date := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		code    int
		headers map[string]string
		want    error
	}{
		{name: "200", code: 200},
		{name: "204", code: 204},
		{name: "304", code: 304, want: &HTTPStatusError{Code: 304}},
		{name: "404", code: 404, want: &HTTPStatusError{Code: 404}},
		{name: "503", code: 503, want: &HTTPStatusError{Code: 503}},
		{name: "429 seconds", code: 429, headers: map[string]string{"Retry-After": "7"}, want: &RateLimitError{RetryAfter: 7 * time.Second}},
		{name: "429 padded seconds", code: 429, headers: map[string]string{"Retry-After": " 120 "}, want: &RateLimitError{RetryAfter: 2 * time.Minute}},
		{name: "429 HTTP-date against Date", code: 429, headers: map[string]string{
			"Date": date.Format(http.TimeFormat), "Retry-After": date.Add(90 * time.Second).Format(http.TimeFormat),
		}, want: &RateLimitError{RetryAfter: 90 * time.Second}},
		{name: "429 date in the past", code: 429, headers: map[string]string{
			"Date": date.Format(http.TimeFormat), "Retry-After": date.Add(-time.Minute).Format(http.TimeFormat),
		}, want: &RateLimitError{}},
		{name: "429 negative", code: 429, headers: map[string]string{"Retry-After": "-3"}, want: &RateLimitError{}},
		{name: "429 garbage", code: 429, headers: map[string]string{"Retry-After": "later"}, want: &RateLimitError{}},
		{name: "429 without header", code: 429, want: &RateLimitError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := &http.Response{StatusCode: tc.code, Header: http.Header{}}
			for k, v := range tc.headers {
				resp.Header.Set(k, v)
			}
			require.Equal(t, tc.want, StatusError(resp))
		})
	}
	require.NoError(t, StatusError(nil))
	require.Equal(t, "rate limited: retry after 7s", (&RateLimitError{RetryAfter: 7 * time.Second}).Error())
	require.Equal(t, "http status 502 Bad Gateway", (&HTTPStatusError{Code: 502}).Error())
}

func TestRetryAfter(t *testing.T) {
	d, ok := RetryAfter(&CallError{Err: &RateLimitError{RetryAfter: 7 * time.Second}})
	require.True(t, ok)
	require.Equal(t, 7*time.Second, d)
	d, ok = RetryAfter(fmt.Errorf("x: %w", &RateLimitError{RetryAfter: time.Second}))
	require.True(t, ok)
	require.Equal(t, time.Second, d)
	_, ok = RetryAfter(&RateLimitError{})
	require.False(t, ok, "no header, no promise")
	_, ok = RetryAfter(errUnavailable)
	require.False(t, ok)
}

func TestRedact(t *testing.T) {
	cases := []struct{ in, want string }{
		{"invalid_auth for xoxb-1234-5678-AbCd", "invalid_auth for xoxb-REDACTED"},
		{"user token xoxp-1-2-3-abc, app token xapp-1-A0B1-123-deadbeef", "user token xoxp-REDACTED, app token xapp-REDACTED"},
		{"refresh xoxe-1-abc and config xoxe.xoxp-1-Mi0y", "refresh xoxe-REDACTED and config xoxe.xoxp-REDACTED"},
		{"Authorization: Bearer eyJhbGciOi.J9.abc-_~+/x==", "Authorization: Bearer REDACTED"},
		{"authorization: bearer some-token", "authorization: bearer REDACTED"},
		{`Post "https://files.slack.com/upload/v1/ABC?X-Amz-Signature=f00&token=t": EOF`, `Post "https://files.slack.com/upload/v1/ABC?REDACTED": EOF`},
		{"GET http://prom:9090/api/v1/query?query=up#frag failed", "GET http://prom:9090/api/v1/query?REDACTED failed"},
		{"dial https://alice:s3cret@example.com/hook", "dial https://REDACTED@example.com/hook"},
		{"post https://hooks.slack.com/services/T000/B000/XXXXXXXX: 404", "post https://hooks.slack.com/services/REDACTED: 404"},
		{"body token=abc123&channel=C1", "body token=REDACTED&channel=C1"},
		{"client_secret=shh", "client_secret=REDACTED"},
		{"channel_not_found", "channel_not_found"},
		{`Get "http://prometheus:9090/api/v1/query": dial tcp: connection refused`, `Get "http://prometheus:9090/api/v1/query": dial tcp: connection refused`},
		{"the xoxbox- is not a token, nor is bearer", "the xoxbox- is not a token, nor is bearer"},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got := Redact(tc.in)
			require.Equal(t, tc.want, got)
			require.Equal(t, got, Redact(got), "redacting twice changes nothing")
		})
	}
}

func TestPolicyValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Policy)
		want   string
	}{
		{"default is valid", func(*Policy) {}, ""},
		{"no dependency", func(p *Policy) { p.Dependency = "" }, "dependency is empty"},
		{"no timeout", func(p *Policy) { p.Timeout = 0 }, "timeout 0s"},
		{"no attempts", func(p *Policy) { p.MaxAttempts = 0 }, "max attempts 0"},
		{"unbounded attempts", func(p *Policy) { p.MaxAttempts = 1000 }, "max attempts 1000"},
		{"no base delay", func(p *Policy) { p.BaseDelay = 0 }, "base delay"},
		{"cap below base", func(p *Policy) { p.MaxDelay = time.Millisecond }, "max delay 1ms"},
		{"shrinking backoff", func(p *Policy) { p.Factor = 0.5 }, "factor 0.5"},
		{"no bulkhead", func(p *Policy) { p.MaxConcurrent = 0 }, "max concurrent 0"},
		{"breaker never trips", func(p *Policy) { p.ConsecutiveFailures = 0 }, "consecutive failures 0"},
		{"ratio above 1", func(p *Policy) { p.FailureRatio = 1.5 }, "failure ratio 1.5"},
		{"ratio 0", func(p *Policy) { p.FailureRatio = 0 }, "failure ratio 0"},
		{"no min requests", func(p *Policy) { p.MinRequests = 0 }, "min requests 0"},
		{"no open timeout", func(p *Policy) { p.OpenTimeout = 0 }, "open timeout"},
		{"counts never reset", func(p *Policy) { p.Interval = 0 }, "interval"},
		{"no default retry-after", func(p *Policy) { p.DefaultRetryAfter = 0 }, "default retry-after"},
		{"default retry-after beyond the cap", func(p *Policy) { p.DefaultRetryAfter = time.Minute }, "default retry-after 1m0s"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := DefaultPolicy(DependencySlack)
			tc.change(&p)
			err := p.Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}

	err := Policy{Dependency: "webhook"}.Validate()
	require.ErrorContains(t, err, "timeout 0s")
	require.ErrorContains(t, err, "default retry-after", "every problem is reported at once")
}

func TestDefaultPolicy(t *testing.T) {
	for dep, timeout := range map[string]time.Duration{
		DependencySlack: 5 * time.Second, DependencyPrometheus: 10 * time.Second, DependencyWebhook: 5 * time.Second, "pagerduty": 5 * time.Second,
	} {
		t.Run(dep, func(t *testing.T) {
			p := DefaultPolicy(dep)
			require.NoError(t, p.Validate())
			require.Equal(t, dep, p.Dependency)
			require.Equal(t, timeout, p.Timeout)
			require.Equal(t, 250*time.Millisecond, p.BaseDelay)
			require.Equal(t, 30*time.Second, p.MaxDelay)
			require.Equal(t, 2.0, p.Factor)
		})
	}
}
