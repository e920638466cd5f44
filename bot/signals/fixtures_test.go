package signals

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/internal/metrictest"
	"github.com/ooda-sre/ooda/resilience"
)

// fakeSlackToken is the token the fake Slack accepts by default.
const fakeSlackToken = "xoxb-test-token"

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

// signalBlockPrefix starts the block id of the "Declare incident" button
// (blockkit.DeclareSignalBlock). Slack sends the block id back with a
// click, so it is a wire format: buttons already posted carry it.
const signalBlockPrefix = "ooda_signal:"

// executorTestPolicy is the Slack policy with a breaker that opens after
// a few failures and half-opens quickly, since gobreaker's clock is real.
func executorTestPolicy() resilience.Policy {
	p := resilience.DefaultPolicy(resilience.DependencySlack)
	p.OpenTimeout = 20 * time.Millisecond
	return p
}

// newExecutorGuard builds a Slack guard, reading slack-go's errors
// through slackapi's classifier, whose backoff waits return at once.
func newExecutorGuard(t testing.TB, p resilience.Policy, reg prometheus.Registerer) *resilience.Guard {
	t.Helper()
	g, err := resilience.New(p,
		resilience.WithClassifier(slackapi.Classifier{}),
		resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		resilience.WithRand(func() float64 { return 0.5 }),
		resilience.WithMetrics(resilience.NewMetrics(reg)))
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g
}

// executorMetric reads one sample of the registry's metrics; 0 when absent.
var executorMetric = metrictest.Value

// messageKey is the effect key a message carries in its metadata, or "".
func messageKey(m slacktest.Message) string { return m.MetadataKey(slackapi.MetadataEventType) }

// duplicateKeys counts messages beyond the first carrying the same
// effect key, across the whole fake workspace.
func duplicateKeys(s *slacktest.Server) (int, map[string]int) {
	return s.DuplicateKeys(slackapi.MetadataEventType)
}
