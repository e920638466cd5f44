package slacktest_test

import (
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

// TestDirectMessages: chat.postMessage to a member's id posts in the
// bot's im with them, which chat.update then edits; an id nobody has is
// channel_not_found; ims are not channels.
func TestDirectMessages(t *testing.T) {
	s, api := start(t)
	s.AddUser("U0BOB", "bob")
	ch, ts, err := api.PostMessageContext(t.Context(), "U0BOB", slack.MsgOptionText("You own 2 overdue action items", false))
	require.NoError(t, err)
	require.Regexp(t, "^D", ch, "the answer names the im")
	_, ts2, err := api.PostMessageContext(t.Context(), "U0BOB", slack.MsgOptionText("again", false))
	require.NoError(t, err)
	_, _, _, err = api.UpdateMessageContext(t.Context(), ch, ts2, slack.MsgOptionText("again, edited", false))
	require.NoError(t, err)
	msgs := s.DirectMessages("U0BOB")
	require.Len(t, msgs, 2, "one im per member")
	require.Equal(t, ts, msgs[0].TS)
	require.Equal(t, "You own 2 overdue action items", msgs[0].Text)
	require.Equal(t, "again, edited", msgs[1].Text)

	_, _, err = api.PostMessageContext(t.Context(), "U0NOBODY", slack.MsgOptionText("hello", false))
	require.ErrorContains(t, err, "channel_not_found")
	require.Empty(t, s.DirectMessages("U0NOBODY"))
	for _, c := range s.Channels() {
		require.NotEqual(t, ch, c.ID, "an im is not a channel")
	}
}
