// Package resilience guards every outbound call Ooda makes: to Slack, to
// Prometheus and to webhooks.
//
// An incident tool is needed most while the systems around it are failing, so
// no dependency may hang Ooda or drag the others down with it. Each dependency
// gets one Guard, and every call to that dependency goes through Guard.Do,
// which applies, outermost first:
//
//   - a bulkhead: a bounded number of calls in flight per dependency, so a slow
//     Prometheus cannot take the goroutines and connections Slack effects need.
//     A full bulkhead fails at once rather than queueing;
//   - a bounded retry loop with exponential backoff and full jitter, for
//     idempotent operations only, honouring Retry-After on rate limits;
//   - a circuit breaker (sony/gobreaker) around each attempt, so a dependency
//     that is down is failed fast instead of being hammered;
//   - a per-attempt context deadline that the callee cannot escape.
//
// Errors are classified (Classify) as retryable, permanent, rate limited or
// canceled. The package knows no client library: the adapter wrapping one
// (bot/slackapi for Slack) gives its Guard a Classifier for that library's
// errors (WithClassifier), and integrations can override any classification
// with Permanent and Retryable. Errors returned by Do are *CallError values
// whose message is passed through Redact, so tokens and signed URLs do not
// reach logs.
//
// Client libraries with a retry loop of their own (slack-go's OptionRetry)
// must be built without it when they are used through a Guard, or attempts
// multiply: the Guard's retry owns that job.
//
// resilience must never import a dependency's client library (slack-go,
// Prometheus's API client) nor any other package of the module: every
// adapter imports it, so it can import none of them.
package resilience
