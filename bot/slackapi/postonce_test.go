package slackapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/resilience"
)

// fakeSlackToken is the token the fake Slack accepts by default.
const fakeSlackToken = "xoxb-test-token"

// newPostGuard builds a Slack guard, with slackapi's classifier, whose
// backoff waits return at once.
func newPostGuard(t testing.TB, reg prometheus.Registerer) *resilience.Guard {
	t.Helper()
	g, err := resilience.New(resilience.DefaultPolicy(resilience.DependencySlack),
		resilience.WithClassifier(slackapi.Classifier{}),
		resilience.WithSleep(func(ctx context.Context, _ time.Duration) error { return ctx.Err() }),
		resilience.WithRand(func() float64 { return 0.5 }),
		resilience.WithMetrics(resilience.NewMetrics(reg)))
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g
}

// A reply lives in its thread, not in the channel's history: a second
// attempt must find it there rather than post it again.
func TestPostOnceFindsAReplyInItsThread(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	ch := fake.CreateChannel("alerts", false)
	guard := newPostGuard(t, prometheus.NewRegistry())
	api := slackapi.NewSlackClient(fakeSlackToken, fake.URL(), guard)

	root, posted, err := slackapi.PostOnce(t.Context(), guard, api, ch, "firing-key", time.Time{}, "firing", nil, "")
	require.NoError(t, err)
	require.True(t, posted)
	for i := range 2 {
		_, posted, err := slackapi.PostOnce(t.Context(), guard, api, ch, "resolved-key", time.Time{}, "resolved", nil, root)
		require.NoError(t, err)
		require.Equal(t, i == 0, posted, "attempt %d", i+1)
	}
	require.Len(t, fake.Messages(ch), 2, "the firing post and one reply in its thread")
}
