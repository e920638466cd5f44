// Package slackapitest builds, for tests, the Slack guard the app builds:
// slack-go's errors read through slackapi's classifier, with backoff
// waits that return at once. It is for tests only.
package slackapitest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/resilience"
)

// Policy is the Slack policy with a breaker that opens after a few
// failures and half-opens quickly, since gobreaker's clock is real.
func Policy() resilience.Policy {
	p := resilience.DefaultPolicy(resilience.DependencySlack)
	p.OpenTimeout = 20 * time.Millisecond
	return p
}

// NewGuard builds a Slack guard on p reporting to reg. Its clock is the
// real one (context deadlines are real); its backoff waits return at once
// and its jitter is fixed. The guard's idle connections close with t.
func NewGuard(t testing.TB, p resilience.Policy, reg prometheus.Registerer) *resilience.Guard {
	t.Helper()
	g, err := resilience.New(p,
		resilience.WithClassifier(slackapi.Classifier{}),
		resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		resilience.WithRand(func() float64 { return 0.5 }),
		resilience.WithMetrics(resilience.NewMetrics(reg)))
	if err != nil {
		t.Fatalf("slack guard: %v", err)
	}
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g
}
