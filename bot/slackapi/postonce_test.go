package slackapi

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

// A reply lives in its thread, not in the channel's history: a second
// attempt must find it there rather than post it again.
func TestPostOnceFindsAReplyInItsThread(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	ch := fake.CreateChannel("alerts", false)
	guard := newExecutorGuard(t, executorTestPolicy(), prometheus.NewRegistry())
	api := NewSlackClient(fakeSlackToken, fake.URL(), guard)

	root, posted, err := postOnce(t.Context(), guard, api, ch, "firing-key", time.Time{}, Message{Text: "firing"}, "")
	require.NoError(t, err)
	require.True(t, posted)
	for i := range 2 {
		_, posted, err := postOnce(t.Context(), guard, api, ch, "resolved-key", time.Time{}, Message{Text: "resolved"}, root)
		require.NoError(t, err)
		require.Equal(t, i == 0, posted, "attempt %d", i+1)
	}
	require.Len(t, fake.Messages(ch), 2, "the firing post and one reply in its thread")
}
