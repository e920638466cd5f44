package resilience

import (
	"errors"
	"fmt"
	"time"
)

// Names of the dependencies Ooda calls. DefaultPolicy knows their timeouts.
const (
	DependencySlack      = "slack"
	DependencyPrometheus = "prometheus"
	DependencyWebhook    = "webhook"
)

// maxAttemptsLimit keeps a misconfigured policy from turning one call into a
// retry storm; the outbox, not the guard, is where long-term retrying lives.
const maxAttemptsLimit = 10

// Policy configures the Guard of one dependency. Build it with DefaultPolicy
// and change what needs changing; Validate says what is wrong with it.
type Policy struct {
	// Dependency names the dependency in errors, logs and metric labels.
	Dependency string
	// Timeout is the deadline of each attempt. A parent context with an
	// earlier deadline still wins.
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included.
	MaxAttempts int
	// BaseDelay, Factor and MaxDelay shape the backoff: before attempt n+1
	// the guard waits a uniformly random duration in
	// [0, min(MaxDelay, BaseDelay*Factor^(n-1))) ("full jitter"). A rate
	// limit asking for a longer wait than MaxDelay ends the call instead of
	// holding a bulkhead slot that long; the caller can reschedule with
	// RetryAfter.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	Factor    float64
	// MaxConcurrent is the bulkhead size: calls in flight at once, waits
	// between attempts included.
	MaxConcurrent int
	// The breaker trips on ConsecutiveFailures failures in a row, or when at
	// least MinRequests requests have been counted and the share of failures
	// among them is FailureRatio or more.
	ConsecutiveFailures uint32
	FailureRatio        float64
	MinRequests         uint32
	// OpenTimeout is how long the breaker stays open before letting one
	// probe through (half-open).
	OpenTimeout time.Duration
	// Interval is how often the closed breaker forgets its counts, so that
	// the failure ratio describes recent traffic, not the process lifetime.
	Interval time.Duration
	// DefaultRetryAfter is the wait after a rate limit that did not say how
	// long to wait (a 429 without Retry-After, Slack's ok:false "ratelimited").
	DefaultRetryAfter time.Duration
}

// DefaultPolicy returns the policy of DESIGN.md section 5 for dependency:
// a 5 s attempt timeout for Slack and webhooks, 10 s for Prometheus (range
// queries are slow), backoff from 250 ms doubling to 30 s. An unknown
// dependency gets the webhook defaults under its own name.
func DefaultPolicy(dependency string) Policy {
	p := Policy{
		Dependency:          dependency,
		Timeout:             5 * time.Second,
		MaxAttempts:         3,
		BaseDelay:           250 * time.Millisecond,
		MaxDelay:            30 * time.Second,
		Factor:              2,
		MaxConcurrent:       4,
		ConsecutiveFailures: 5,
		FailureRatio:        0.5,
		MinRequests:         10,
		OpenTimeout:         30 * time.Second,
		Interval:            time.Minute,
		DefaultRetryAfter:   5 * time.Second,
	}
	switch dependency {
	case DependencySlack:
		// Effects for several incidents drain at once; Slack's rate limits,
		// not our concurrency, should be what slows them.
		p.MaxConcurrent = 8
		p.MaxAttempts = 4
	case DependencyPrometheus:
		p.Timeout = 10 * time.Second
	}
	return p
}

// Validate reports every problem with p at once, so a bad configuration is
// fixed in one go at start-up.
func (p Policy) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if p.Dependency == "" {
		bad("dependency is empty")
	}
	if p.Timeout <= 0 {
		bad("timeout %v: must be positive", p.Timeout)
	}
	if p.MaxAttempts < 1 || p.MaxAttempts > maxAttemptsLimit {
		bad("max attempts %d: must be between 1 and %d", p.MaxAttempts, maxAttemptsLimit)
	}
	if p.BaseDelay <= 0 {
		bad("base delay %v: must be positive", p.BaseDelay)
	}
	if p.MaxDelay < p.BaseDelay {
		bad("max delay %v: must be at least the base delay %v", p.MaxDelay, p.BaseDelay)
	}
	if p.Factor < 1 {
		bad("factor %v: must be at least 1", p.Factor)
	}
	if p.MaxConcurrent < 1 {
		bad("max concurrent %d: must be at least 1", p.MaxConcurrent)
	}
	if p.ConsecutiveFailures < 1 {
		bad("consecutive failures %d: must be at least 1", p.ConsecutiveFailures)
	}
	if !(p.FailureRatio > 0 && p.FailureRatio <= 1) {
		bad("failure ratio %v: must be in (0, 1]", p.FailureRatio)
	}
	if p.MinRequests < 1 {
		bad("min requests %d: must be at least 1", p.MinRequests)
	}
	if p.OpenTimeout <= 0 {
		bad("open timeout %v: must be positive", p.OpenTimeout)
	}
	if p.Interval <= 0 {
		bad("interval %v: must be positive", p.Interval)
	}
	if p.DefaultRetryAfter <= 0 || p.DefaultRetryAfter > p.MaxDelay {
		bad("default retry-after %v: must be positive and at most the max delay %v", p.DefaultRetryAfter, p.MaxDelay)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("resilience policy %q: %w", p.Dependency, err)
	}
	return nil
}
