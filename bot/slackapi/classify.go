package slackapi

import (
	"errors"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/resilience"
)

// Classifier tells a resilience.Guard what slack-go's errors mean. Build
// the Slack guard with resilience.WithClassifier(Classifier{}); its
// StatusCodeError needs no rule here, the guard reads its HTTP status.
type Classifier struct{}

var _ resilience.Classifier = Classifier{}

// Classify places a rate limit (a 429 with Retry-After, or ok:false
// "ratelimited") and the "error" code of Slack's other ok:false answers.
// Slack documents a few codes as transient; every other one
// (channel_not_found, invalid_auth, missing_scope, ...) describes the
// request or the workspace and will be the same next time.
func (Classifier) Classify(err error) (resilience.Class, bool) {
	if _, ok := errors.AsType[*slack.RateLimitedError](err); ok {
		return resilience.ClassRateLimited, true
	}
	se, ok := errors.AsType[slack.SlackErrorResponse](err)
	if !ok {
		return resilience.ClassNone, false
	}
	switch se.Err {
	case "ratelimited", "rate_limited":
		return resilience.ClassRateLimited, true
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return resilience.ClassRetryable, true
	default:
		return resilience.ClassPermanent, true
	}
}

// RetryAfter returns the Retry-After of a 429, which slack-go keeps in
// RateLimitedError. An ok:false "ratelimited" names no wait.
func (Classifier) RetryAfter(err error) (time.Duration, bool) {
	if rl, ok := errors.AsType[*slack.RateLimitedError](err); ok && rl.RetryAfter > 0 {
		return rl.RetryAfter, true
	}
	return 0, false
}
