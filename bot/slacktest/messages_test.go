package slacktest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestPostMessageMetadataRoundTrip(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-7", false)
	meta := slack.SlackMetadata{
		EventType:    "ooda_effect",
		EventPayload: map[string]any{"key": "inc-7/post/3", "attempt": 2},
	}
	blocks := slack.MsgOptionBlocks(slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "*Declared*", false, false), nil, nil))

	gotCh, ts, err := api.PostMessageContext(t.Context(), "#inc-7",
		slack.MsgOptionText("Incident declared", false), blocks, slack.MsgOptionMetadata(meta))
	require.NoError(t, err)
	require.Equal(t, ch, gotCh, "a channel name resolves to its id")

	msgs := s.Messages(ch)
	require.Len(t, msgs, 1)
	require.Equal(t, ts, msgs[0].TS)
	require.Equal(t, "Incident declared", msgs[0].Text)
	require.Equal(t, "U0BOT000001", msgs[0].User)
	require.Equal(t, "ooda_effect", msgs[0].MetadataType)
	require.Equal(t, map[string]any{"key": "inc-7/post/3", "attempt": 2.0}, msgs[0].MetadataPayload)
	var b []map[string]any
	require.NoError(t, json.Unmarshal(msgs[0].Blocks, &b))
	require.Equal(t, "section", b[0]["type"])

	t.Run("history with include_all_metadata returns it", func(t *testing.T) {
		hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{
			ChannelID: ch, IncludeAllMetadata: true,
		})
		require.NoError(t, err)
		require.Len(t, hist.Messages, 1)
		m := hist.Messages[0]
		require.Equal(t, ts, m.Timestamp)
		require.Equal(t, "ooda_effect", m.Metadata.EventType)
		require.Equal(t, "inc-7/post/3", m.Metadata.EventPayload["key"])
		require.Equal(t, "B0BOT000001", m.BotID)
		require.Len(t, m.Blocks.BlockSet, 1)
	})
	t.Run("history without it leaves metadata out", func(t *testing.T) {
		hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: ch})
		require.NoError(t, err)
		require.Empty(t, hist.Messages[0].Metadata.EventType)
	})
}

func TestPostMessageErrors(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)

	tests := []struct {
		name    string
		channel string
		opts    []slack.MsgOption
		want    string
	}{
		{"unknown channel", "C404", []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"unknown name", "#nope", []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"nothing to say", ch, nil, "no_text"},
		{"metadata without type", ch, []slack.MsgOption{slack.MsgOptionText("x", false), slack.MsgOptionMetadata(slack.SlackMetadata{})}, "invalid_metadata_format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := api.PostMessageContext(t.Context(), tt.channel, tt.opts...)
			require.Equal(t, tt.want, slackError(t, err))
		})
	}
	require.Empty(t, s.Messages(ch))
}

func TestHistoryPagesNewestFirst(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	var posted []string
	for _, text := range []string{"one", "two", "three", "four", "five"} {
		_, ts, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText(text, false))
		require.NoError(t, err)
		posted = append(posted, ts)
	}
	// A thread reply stays out of channel history.
	_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("reply", false), slack.MsgOptionTS(posted[0]))
	require.NoError(t, err)

	var got []string
	params := slack.GetConversationHistoryParameters{ChannelID: ch, Limit: 2}
	for {
		hist, err := api.GetConversationHistoryContext(t.Context(), &params)
		require.NoError(t, err)
		require.LessOrEqual(t, len(hist.Messages), 2)
		for _, m := range hist.Messages {
			got = append(got, m.Timestamp)
		}
		if !hist.HasMore {
			require.Empty(t, hist.ResponseMetaData.NextCursor)
			break
		}
		params.Cursor = hist.ResponseMetaData.NextCursor
	}
	require.Equal(t, []string{posted[4], posted[3], posted[2], posted[1], posted[0]}, got)

	t.Run("oldest and latest are exclusive", func(t *testing.T) {
		hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{
			ChannelID: ch, Oldest: posted[1], Latest: posted[3],
		})
		require.NoError(t, err)
		require.Len(t, hist.Messages, 1)
		require.Equal(t, posted[2], hist.Messages[0].Timestamp)
	})
}

func TestThreads(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	_, parent, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("handover", false))
	require.NoError(t, err)
	_, reply, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("brief", false), slack.MsgOptionTS(parent))
	require.NoError(t, err)
	// Slack posts a reply to a missing parent as an ordinary message.
	_, orphan, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("orphan", false), slack.MsgOptionTS("1.000001"))
	require.NoError(t, err)

	msgs := s.Messages(ch)
	require.Len(t, msgs, 3)
	require.Equal(t, parent, msgs[1].Thread)
	require.Equal(t, reply, msgs[1].TS)
	require.Empty(t, msgs[2].Thread, "orphan %s", orphan)

	replies, _, _, err := api.GetConversationRepliesContext(t.Context(), &slack.GetConversationRepliesParameters{ChannelID: ch, Timestamp: parent})
	require.NoError(t, err)
	require.Len(t, replies, 2)
	require.Equal(t, 1, replies[0].ReplyCount)
	require.Equal(t, reply, replies[1].Timestamp)
}

func TestChatUpdate(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	_, ts, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("Status: investigating", false),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: "ooda_effect", EventPayload: map[string]any{"key": "k"}}))
	require.NoError(t, err)

	gotCh, gotTS, text, err := api.UpdateMessageContext(t.Context(), ch, ts, slack.MsgOptionText("Status: mitigated", false))
	require.NoError(t, err)
	require.Equal(t, ch, gotCh)
	require.Equal(t, ts, gotTS, "an update keeps the message's ts")
	require.Equal(t, "Status: mitigated", text)

	msgs := s.Messages(ch)
	require.Len(t, msgs, 1)
	require.Equal(t, "Status: mitigated", msgs[0].Text)
	require.True(t, msgs[0].Edited)
	require.Equal(t, "ooda_effect", msgs[0].MetadataType, "metadata survives an update that does not resend it")

	_, _, _, err = api.UpdateMessageContext(t.Context(), ch, "1.000001", slack.MsgOptionText("x", false))
	require.Equal(t, "message_not_found", slackError(t, err))
	_, _, _, err = api.UpdateMessageContext(t.Context(), "C404", ts, slack.MsgOptionText("x", false))
	require.Equal(t, "channel_not_found", slackError(t, err))
}

func TestPostEphemeral(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	s.AddUser("U1", "alice")

	_, err := api.PostEphemeralContext(t.Context(), ch, "U1", slack.MsgOptionText("only you", false))
	require.Equal(t, "user_not_in_channel", slackError(t, err), "Slack only shows ephemerals to members")
	_, err = api.PostEphemeralContext(t.Context(), ch, "U404", slack.MsgOptionText("x", false))
	require.Equal(t, "user_not_found", slackError(t, err))

	_, err = api.InviteUsersToConversationContext(t.Context(), ch, "U1")
	require.NoError(t, err)
	ts, err := api.PostEphemeralContext(t.Context(), ch, "U1", slack.MsgOptionText("only you", false))
	require.NoError(t, err)
	require.NotEmpty(t, ts, "slack-go reads message_ts")

	eph := s.Ephemerals()
	require.Len(t, eph, 1)
	require.Equal(t, ts, eph[0].TS)
	require.Equal(t, "U1", eph[0].User, "an ephemeral's User is its recipient")
	require.Equal(t, "only you", eph[0].Text)
	require.Empty(t, s.Messages(ch), "ephemerals are not channel messages")
}

func TestReactions(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	_, ts, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("ack?", false))
	require.NoError(t, err)

	require.NoError(t, api.AddReactionContext(t.Context(), "eyes", slack.NewRefToMessage(ch, ts)))
	err = api.AddReactionContext(t.Context(), "eyes", slack.NewRefToMessage(ch, ts))
	require.Equal(t, "already_reacted", slackError(t, err))
	err = api.AddReactionContext(t.Context(), "eyes", slack.NewRefToMessage(ch, "1.000001"))
	require.Equal(t, "message_not_found", slackError(t, err))

	require.Equal(t, []string{"eyes"}, s.Messages(ch)[0].Reactions)
	hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: ch})
	require.NoError(t, err)
	require.Equal(t, "eyes", hist.Messages[0].Reactions[0].Name)
}

func TestUsersInfo(t *testing.T) {
	s, api := start(t)
	s.AddUser("U1", "alice")

	u, err := api.GetUserInfoContext(t.Context(), "U1")
	require.NoError(t, err)
	require.Equal(t, "U1", u.ID)
	require.Equal(t, "alice", u.Name)
	require.Equal(t, "alice", u.Profile.RealName)
	require.Equal(t, "alice", u.Profile.DisplayName)
	require.False(t, u.IsBot)

	bot, err := api.GetUserInfoContext(t.Context(), "U0BOT000001")
	require.NoError(t, err)
	require.True(t, bot.IsBot)

	_, err = api.GetUserInfoContext(t.Context(), "U404")
	require.Equal(t, "user_not_found", slackError(t, err))
}

func TestPostAsAndRepliesToAPersonsMessage(t *testing.T) {
	s, api := start(t)
	s.AddUser("U0ALICE0001", "alice")
	pub := s.CreateChannel("general", false)
	ts := s.PostAs(pub, "U0ALICE0001", "checkout is 500ing")
	require.NotEmpty(t, ts)
	require.Empty(t, s.PostAs("C0NOPE", "U0ALICE0001", "x"), "no such channel")

	link, err := api.GetPermalinkContext(t.Context(), &slack.PermalinkParameters{Channel: pub, Ts: ts})
	require.NoError(t, err)
	require.Equal(t, "https://ooda-test.slack.com/archives/"+pub+"/p"+strings.Replace(ts, ".", "", 1), link)

	// The bot replies in the thread, in a public channel it is not in
	// (chat:write.public).
	require.True(t, s.Leave(pub, "U0BOT000001"))
	_, reply, err := api.PostMessageContext(t.Context(), pub, slack.MsgOptionText("Declared as INC-7", false), slack.MsgOptionTS(ts))
	require.NoError(t, err)
	msgs := s.Messages(pub)
	require.Len(t, msgs, 2)
	require.Equal(t, "U0ALICE0001", msgs[0].User)
	require.Equal(t, ts, msgs[1].Thread)
	require.Equal(t, reply, msgs[1].TS)

	// A private channel the bot was not invited to is closed to it.
	priv := s.CreateChannel("secret", true)
	ts = s.PostAs(priv, "U0ALICE0001", "payroll leak")
	require.True(t, s.Leave(priv, "U0BOT000001"))
	_, _, err = api.PostMessageContext(t.Context(), priv, slack.MsgOptionText("x", false), slack.MsgOptionTS(ts))
	require.Equal(t, "not_in_channel", slackError(t, err))
}
