package resilience

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Class is what an error means for retrying and for the circuit breaker.
type Class int

// The classes Classify returns.
const (
	// ClassNone is the class of a nil error.
	ClassNone Class = iota
	// ClassRetryable errors may succeed on another attempt: timeouts,
	// broken connections, 5xx. They count as breaker failures.
	ClassRetryable
	// ClassPermanent errors will fail the same way again: bad arguments,
	// missing scopes, unknown channels, most 4xx. They are not retried and
	// do not count against the breaker: the dependency answered correctly.
	ClassPermanent
	// ClassRateLimited errors ask us to slow down. They are retried after
	// the wait the dependency asked for and do not count against the
	// breaker: a dependency that says "later" is alive.
	ClassRateLimited
	// ClassCanceled errors come from the caller giving up. They are not
	// retried and say nothing about the dependency's health.
	ClassCanceled
)

// String returns the name used in logs.
func (c Class) String() string {
	switch c {
	case ClassNone:
		return "none"
	case ClassRetryable:
		return "retryable"
	case ClassPermanent:
		return "permanent"
	case ClassRateLimited:
		return "rate_limited"
	case ClassCanceled:
		return "canceled"
	default:
		return "class(" + strconv.Itoa(int(c)) + ")"
	}
}

// Classifier is how an integration tells a Guard what its client library's
// errors mean (Slack's ok:false codes, say), so that the guard itself knows
// no client library. The adapter wrapping one provides its Classifier, and
// the guard it calls through is built WithClassifier.
//
// The guard's own rules keep precedence where they are sure: a nil error, a
// cancellation, a refusal by the breaker or the bulkhead, a Permanent or
// Retryable mark. Then a rate limit, whether the integration or an HTTP 429
// says so; then an HTTP status code (an error with HTTPStatusCode() int);
// then the integration's class; then the transport rules of Classify.
type Classifier interface {
	// Classify returns the class of err, looking through any wrapping,
	// and false when err holds nothing the integration knows. err is
	// never nil. The class is ClassRetryable, ClassPermanent or
	// ClassRateLimited.
	Classify(err error) (Class, bool)
	// RetryAfter returns the wait a rate-limited err asked for, and false
	// when it named none: the guard then waits Policy.DefaultRetryAfter.
	RetryAfter(err error) (time.Duration, bool)
}

// Classify sorts err, looking through any wrapping, by the rules that need
// no integration: marks, HTTP statuses, transport failures. An error
// returned by a Guard's Do carries that guard's Classifier, so Classify
// places it as the guard did; a client library's own error, met outside
// Do, is the guard's to place (Guard.Classify).
//
// An error nothing recognises is retryable: outbound failures we have not
// named are nearly always transport trouble, and retries are bounded
// anyway.
//
// context.DeadlineExceeded is retryable because, inside Do, it is the
// per-attempt deadline expiring; Do itself notices when the deadline was the
// caller's and stops.
func Classify(err error) Class {
	c, _ := classify(err, nil)
	return c
}

// classify sorts err with c, or when c is nil with the classifier err
// carries from Do, if any. It also reports whether a rule recognised err, so
// that Do can fall back to the HTTP status its transport saw when a client
// library's error type has lost it.
func classify(err error, c Classifier) (Class, bool) {
	if err == nil {
		return ClassNone, true
	}
	if errors.Is(err, context.Canceled) {
		return ClassCanceled, true
	}
	// Refused before reaching the dependency: whatever failure is kept
	// inside for context, the call itself may pass later.
	if errors.Is(err, ErrOpen) || errors.Is(err, ErrBulkheadFull) {
		return ClassRetryable, true
	}
	if c == nil {
		c = carriedClassifier(err)
	}
	integration, known := ClassNone, false
	if c != nil {
		integration, known = c.Classify(err)
	}
	rateLimited := known && integration == ClassRateLimited || isRateLimit(err)
	if m, ok := errors.AsType[*markedError](err); ok {
		if m.class == ClassRetryable && rateLimited {
			return ClassRateLimited, true
		}
		return m.class, true
	}
	if rateLimited {
		return ClassRateLimited, true
	}
	if sc, ok := errors.AsType[statusCoder](err); ok {
		return statusClass(sc.HTTPStatusCode()), true
	}
	if known {
		return integration, true
	}
	if errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNABORTED) ||
		errors.Is(err, syscall.EPIPE) {
		return ClassRetryable, true
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return ClassRetryable, true
	}
	if isBadCertificate(err) {
		// A certificate that does not verify will not verify on the next
		// attempt either, and hammering a possibly spoofed endpoint helps
		// nobody.
		return ClassPermanent, true
	}
	if ue, ok := errors.AsType[*url.Error](err); ok && ue.Op == "parse" {
		return ClassPermanent, true
	}
	return ClassRetryable, false
}

// carriedClassifier returns the classifier of the guard whose Do returned
// err, or nil.
func carriedClassifier(err error) Classifier {
	if ce, ok := errors.AsType[*CallError](err); ok {
		return ce.classifier
	}
	return nil
}

// statusCoder is an error carrying an HTTP status: HTTPStatusError,
// RateLimitError, and client libraries' own (slack-go's StatusCodeError).
type statusCoder interface {
	error
	HTTPStatusCode() int
}

func isBadCertificate(err error) bool {
	if _, ok := errors.AsType[*tls.CertificateVerificationError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.UnknownAuthorityError](err); ok {
		return true
	}
	if _, ok := errors.AsType[x509.HostnameError](err); ok {
		return true
	}
	_, ok := errors.AsType[x509.CertificateInvalidError](err)
	return ok
}

// isRateLimit reports the rate limits Classify knows without an
// integration: RateLimitError and any HTTP 429.
func isRateLimit(err error) bool {
	if _, ok := errors.AsType[*RateLimitError](err); ok {
		return true
	}
	sc, ok := errors.AsType[statusCoder](err)
	return ok && sc.HTTPStatusCode() == http.StatusTooManyRequests
}

// statusClass follows RFC 9110: 408 and 425 invite a retry, 501 and 505 say
// the server will never do this, other 5xx are the server's trouble. Other
// non-2xx codes, redirects included (a client only sees one it did not
// follow), will not change by asking again.
func statusClass(code int) Class {
	switch {
	case code == http.StatusTooManyRequests:
		return ClassRateLimited
	case code == http.StatusRequestTimeout, code == http.StatusTooEarly:
		return ClassRetryable
	case code == http.StatusNotImplemented, code == http.StatusHTTPVersionNotSupported:
		return ClassPermanent
	case code >= 500:
		return ClassRetryable
	default:
		return ClassPermanent
	}
}

// markedError carries a classification chosen by an integration.
type markedError struct {
	err   error
	class Class
}

func (e *markedError) Error() string { return e.err.Error() }
func (e *markedError) Unwrap() error { return e.err }
func (e *markedError) Is(target error) bool {
	return target == ErrPermanent && e.class == ClassPermanent
}

// Permanent marks err as permanent whatever it wraps, for integrations that
// know better than Classify and their Classifier (an "ok" body that says the thing is gone, a
// validation failure). It returns nil for nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{err: err, class: ClassPermanent}
}

// Retryable marks err as retryable whatever it wraps. A rate limit inside it
// still waits for its Retry-After. It returns nil for nil.
func Retryable(err error) error {
	if err == nil {
		return nil
	}
	return &markedError{err: err, class: ClassRetryable}
}

// HTTPStatusError is a non-2xx answer from a dependency reached over plain
// HTTP. Build it with StatusError.
type HTTPStatusError struct {
	Code int
}

// Error gives the code and its reason phrase.
func (e *HTTPStatusError) Error() string {
	return fmt.Sprintf("http status %d %s", e.Code, http.StatusText(e.Code))
}

// HTTPStatusCode is the method Classify reads a status from, so that client
// libraries' status errors with the same method (slack-go's
// StatusCodeError) are treated alike.
func (e *HTTPStatusError) HTTPStatusCode() int { return e.Code }

// RateLimitError is a 429 answer. RetryAfter is what the server asked for,
// or zero when it did not say (the Guard then waits DefaultRetryAfter).
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error gives the requested wait, when there was one.
func (e *RateLimitError) Error() string {
	if e.RetryAfter <= 0 {
		return "rate limited"
	}
	return "rate limited: retry after " + e.RetryAfter.String()
}

// HTTPStatusCode returns 429.
func (e *RateLimitError) HTTPStatusCode() int { return http.StatusTooManyRequests }

// StatusError returns nil for a 2xx response, a *RateLimitError for a 429
// (with its Retry-After, in seconds or as an HTTP-date) and an
// *HTTPStatusError otherwise. It does not read or close the body.
func StatusError(resp *http.Response) error {
	if resp == nil || resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return &RateLimitError{RetryAfter: parseRetryAfter(resp.Header)}
	}
	return &HTTPStatusError{Code: resp.StatusCode}
}

// parseRetryAfter reads RFC 9110's Retry-After. An HTTP-date is measured
// against the response's own Date header when there is one, so that clock
// skew between us and the server does not stretch or shrink the wait.
func parseRetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > math.MaxInt64/int64(time.Second) {
			return time.Duration(math.MaxInt64)
		}
		return time.Duration(secs) * time.Second
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	ref := time.Now()
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		ref = d
	}
	if wait := at.Sub(ref); wait > 0 {
		return wait
	}
	return 0
}

// RetryAfter reports the wait a rate-limited dependency asked for, so that a
// caller rescheduling the work (the outbox) can honour it too. Like
// Classify, it reads a RateLimitError, and an error returned by a Guard's
// Do with that guard's Classifier; Guard.RetryAfter reads any error the way
// the guard does.
func RetryAfter(err error) (time.Duration, bool) {
	return retryAfter(err, nil)
}

// retryAfter asks c, or when c is nil the classifier err carries from Do,
// before looking for a RateLimitError.
func retryAfter(err error, c Classifier) (time.Duration, bool) {
	if c == nil {
		c = carriedClassifier(err)
	}
	if c != nil {
		if d, ok := c.RetryAfter(err); ok && d > 0 {
			return d, true
		}
	}
	if rl, ok := errors.AsType[*RateLimitError](err); ok && rl.RetryAfter > 0 {
		return rl.RetryAfter, true
	}
	return 0, false
}
