package resilience

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sony/gobreaker/v2"
)

var (
	// ErrOpen is matched (errors.Is) by errors from Do when the dependency's
	// circuit breaker refused the call: open, or half-open with its probe
	// already in flight. The function was not called.
	ErrOpen = errors.New("circuit breaker open")
	// ErrBulkheadFull is matched by errors from Do when the dependency
	// already had as many calls in flight as its policy allows.
	ErrBulkheadFull = errors.New("bulkhead full")
	// ErrPermanent is matched by errors from Do whose cause is permanent
	// (the guard's Classify returns ClassPermanent): retrying later will
	// fail the same way, so the caller should surface it instead of
	// rescheduling it.
	ErrPermanent = errors.New("permanent error")
)

// CallError is the error Do returns once it has entered its retry loop. It
// says which dependency and method failed and after how many attempts.
type CallError struct {
	Dependency string
	Method     string
	// Attempts is how many times the function was called; 0 when the
	// breaker refused the first attempt.
	Attempts int
	Err      error

	// classifier is the guard's, so that Is, Classify and RetryAfter
	// place Err as the guard did.
	classifier Classifier
}

// Error passes the whole message through Redact: the cause often quotes a
// URL or a request, and this string is what ends up in logs and replies.
func (e *CallError) Error() string {
	var b strings.Builder
	b.WriteString(e.Dependency)
	if e.Method != "" {
		b.WriteByte(' ')
		b.WriteString(e.Method)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, ": after %d attempts", e.Attempts)
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return Redact(b.String())
}

// Unwrap gives errors.Is and errors.As access to the cause.
func (e *CallError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrPermanent) true when the cause is permanent to
// the guard that returned e, whatever made it so: its Classifier, an HTTP
// status or a Permanent wrapper.
func (e *CallError) Is(target error) bool {
	if target != ErrPermanent {
		return false
	}
	c, _ := classify(e.Err, e.classifier)
	return c == ClassPermanent
}

// BulkheadFullError is returned by Do, before any attempt, when the
// dependency's bulkhead is full. It matches ErrBulkheadFull.
type BulkheadFullError struct {
	Dependency string
}

// Error says which dependency is saturated.
func (e *BulkheadFullError) Error() string {
	return e.Dependency + ": bulkhead full: too many calls in flight"
}

// Is makes errors.Is(err, ErrBulkheadFull) true.
func (e *BulkheadFullError) Is(target error) bool { return target == ErrBulkheadFull }

// openError is what a refusal by the breaker becomes. It keeps gobreaker's
// own error reachable (errors.Is(err, gobreaker.ErrOpenState)) and, when
// earlier attempts of the same call failed, the last real failure, which is
// what a person reading the log wants to know.
type openError struct {
	cause error
	last  error
}

func (e *openError) Error() string {
	msg := "circuit breaker open"
	if errors.Is(e.cause, gobreaker.ErrTooManyRequests) {
		msg = "circuit breaker half-open: probe already in flight"
	}
	if e.last != nil {
		msg += "; last error: " + e.last.Error()
	}
	return msg
}

func (e *openError) Is(target error) bool { return target == ErrOpen }

func (e *openError) Unwrap() []error {
	if e.last == nil {
		return []error{e.cause}
	}
	return []error{e.cause, e.last}
}
