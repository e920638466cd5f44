package slackapi_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
)

// endlessHistory is a channel whose history always has another page.
type endlessHistory struct{ pages int }

func (h *endlessHistory) GetConversationHistoryContext(_ context.Context, _ *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error) {
	h.pages++
	resp := &slack.GetConversationHistoryResponse{HasMore: true}
	resp.ResponseMetaData.NextCursor = "page-" + strconv.Itoa(h.pages)
	resp.Messages = []slack.Message{{Msg: slack.Msg{Timestamp: strconv.Itoa(h.pages) + ".000100"}}}
	return resp, nil
}

func TestScanHistoryPageLimit(t *testing.T) {
	tests := []struct {
		name    string
		oldest  time.Time
		wantErr error
	}{
		// Not found is not an answer while messages since oldest are unread.
		{name: "limit hit before oldest", oldest: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), wantErr: slackapi.ErrHistoryIncomplete},
		{name: "no oldest: as far as the limit goes", oldest: time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := &endlessHistory{}
			found, err := slackapi.ScanHistory(t.Context(), h, "C1", tt.oldest, true, func(slack.Message) bool { return false })
			require.False(t, found)
			require.ErrorIs(t, err, tt.wantErr)
			require.Equal(t, slackapi.HistoryMaxPages, h.pages)
		})
	}
}

// A channel busier since oldest than the page limit reads: PostOnce
// cannot tell whether its message is there, and posts nothing.
func TestPostOnceDoesNotPostOnAnIncompleteSearch(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	ch := fake.CreateChannel("alerts", false)
	guard := newPostGuard(t, prometheus.NewRegistry())
	api := slackapi.NewSlackClient(fakeSlackToken, fake.URL(), guard)

	oldest := time.Now().Add(-time.Hour)
	for i := range slackapi.HistoryPage*slackapi.HistoryMaxPages + 1 {
		_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("chatter "+strconv.Itoa(i), false))
		require.NoError(t, err)
	}
	before := len(fake.Messages(ch))
	_, posted, err := slackapi.PostOnce(t.Context(), guard, api, ch, "signal-key", oldest, "signal", nil, "")
	require.ErrorIs(t, err, slackapi.ErrHistoryIncomplete)
	require.False(t, posted)
	require.Len(t, fake.Messages(ch), before, "nothing posted")
}
