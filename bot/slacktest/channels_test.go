package slacktest_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"
)

func TestConversationsCreate(t *testing.T) {
	s, api := start(t)

	ch, err := api.CreateConversationContext(t.Context(), slack.CreateConversationParams{ChannelName: "inc-42-db-down", IsPrivate: true})
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(ch.ID, "C"), "new private channels get C ids too: %s", ch.ID)
	require.Equal(t, "inc-42-db-down", ch.Name)
	require.True(t, ch.IsPrivate)
	require.True(t, ch.IsMember)

	got, ok := s.ChannelByName("#inc-42-db-down")
	require.True(t, ok)
	require.Equal(t, ch.ID, got.ID)
	require.True(t, got.Private)
	require.Equal(t, []string{"U0BOT000001"}, got.Members, "the creator is the only member")

	tests := []struct {
		name, channel, want string
	}{
		{"taken", "inc-42-db-down", "name_taken"},
		{"upper case", "Inc-42", "invalid_name_specials"},
		{"space", "inc 42", "invalid_name_specials"},
		{"dot", "inc.42", "invalid_name_specials"},
		{"too long", strings.Repeat("a", 81), "invalid_name_maxlength"},
		{"only punctuation", "--_", "invalid_name_punctuation"},
		{"empty", "", "invalid_name_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.CreateConversationContext(t.Context(), slack.CreateConversationParams{ChannelName: tt.channel})
			require.Equal(t, tt.want, slackError(t, err))
		})
	}

	_, err = api.CreateConversationContext(t.Context(), slack.CreateConversationParams{ChannelName: strings.Repeat("a", 80)})
	require.NoError(t, err, "80 characters is the limit, not over it")
	require.Len(t, s.Channels(), 2)
}

func TestCreateChannelSeedsIdempotently(t *testing.T) {
	s, api := start(t)
	id := s.CreateChannel("announcements", false)
	require.Equal(t, id, s.CreateChannel("announcements", false))

	info, err := api.GetConversationInfoContext(t.Context(), &slack.GetConversationInfoInput{ChannelID: id, IncludeNumMembers: true})
	require.NoError(t, err)
	require.Equal(t, "announcements", info.Name)
	require.False(t, info.IsPrivate)
	require.Equal(t, 1, info.NumMembers)

	_, err = api.GetConversationInfoContext(t.Context(), &slack.GetConversationInfoInput{ChannelID: "C404"})
	require.Equal(t, "channel_not_found", slackError(t, err))

	require.Panics(t, func() { s.CreateChannel("Bad Name", false) })
}

func TestConversationsInvite(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", true)
	s.AddUser("U1", "alice")
	s.AddUser("U2", "bob")
	s.AddUser("U3", "carol")

	got, err := api.InviteUsersToConversationContext(t.Context(), ch, "U1", "U2")
	require.NoError(t, err)
	require.Equal(t, ch, got.ID)

	tests := []struct {
		name    string
		channel string
		users   []string
		want    string
	}{
		{"already there", ch, []string{"U1"}, "already_in_channel"},
		// Without force, one bad id fails the whole call and adds nobody.
		{"one already there", ch, []string{"U3", "U1"}, "already_in_channel"},
		{"unknown user", ch, []string{"U404"}, "user_not_found"},
		{"the bot itself", ch, []string{"U0BOT000001"}, "cant_invite_self"},
		{"unknown channel", "C404", []string{"U3"}, "channel_not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := api.InviteUsersToConversationContext(t.Context(), tt.channel, tt.users...)
			require.Equal(t, tt.want, slackError(t, err))
		})
	}
	c, _ := s.Channel(ch)
	require.Equal(t, []string{"U0BOT000001", "U1", "U2"}, c.Members)

	t.Run("per-user errors", func(t *testing.T) {
		_, err := api.InviteUsersToConversationContext(t.Context(), ch, "U3", "U1")
		var e slack.SlackErrorResponse
		require.ErrorAs(t, err, &e)
		require.Len(t, e.Errors, 1)
		require.NotNil(t, e.Errors[0].ConversationsInviteResponseError)
		require.Equal(t, "U1", e.Errors[0].ConversationsInviteResponseError.User)
	})
	t.Run("force adds the valid ones", func(t *testing.T) {
		_, err := api.ForceInviteUsersToConversationContext(t.Context(), ch, "U3", "U1")
		require.NoError(t, err)
		c, _ := s.Channel(ch)
		require.Equal(t, []string{"U0BOT000001", "U1", "U2", "U3"}, c.Members)
	})
}

func TestConversationsSetTopic(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)

	topic := strings.Repeat("t", 250)
	got, err := api.SetTopicOfConversationContext(t.Context(), ch, topic)
	require.NoError(t, err)
	require.Equal(t, topic, got.Topic.Value)
	c, _ := s.Channel(ch)
	require.Equal(t, topic, c.Topic)

	_, err = api.SetTopicOfConversationContext(t.Context(), ch, topic+"!")
	require.Equal(t, "too_long", slackError(t, err))
	_, err = api.SetTopicOfConversationContext(t.Context(), "C404", "x")
	require.Equal(t, "channel_not_found", slackError(t, err))
}

func TestConversationsListHidesPrivateByDefault(t *testing.T) {
	s, api := start(t)
	pub := s.CreateChannel("announcements", false)
	priv := s.CreateChannel("inc-1", true)

	ids := func(params slack.GetConversationsParameters) []string {
		var out []string
		for {
			chans, next, err := api.GetConversationsContext(t.Context(), &params)
			require.NoError(t, err)
			for _, c := range chans {
				out = append(out, c.ID)
			}
			if next == "" {
				return out
			}
			params.Cursor = next
		}
	}
	require.Equal(t, []string{pub}, ids(slack.GetConversationsParameters{}))
	require.Equal(t, []string{priv}, ids(slack.GetConversationsParameters{Types: []string{"private_channel"}}))
	require.Equal(t, []string{pub, priv}, ids(slack.GetConversationsParameters{
		Types: []string{"public_channel", "private_channel"}, Limit: 1,
	}), "pages of one, joined by cursors")
}

func TestPins(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)
	_, ts, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("status", false))
	require.NoError(t, err)

	require.NoError(t, api.AddPinContext(t.Context(), ch, slack.NewRefToMessage(ch, ts)))
	c, _ := s.Channel(ch)
	require.Equal(t, []string{ts}, c.Pins)

	err = api.AddPinContext(t.Context(), ch, slack.NewRefToMessage(ch, ts))
	require.Equal(t, "already_pinned", slackError(t, err))
	err = api.AddPinContext(t.Context(), ch, slack.NewRefToMessage(ch, "1.000001"))
	require.Equal(t, "message_not_found", slackError(t, err))
	err = api.AddPinContext(t.Context(), "C404", slack.NewRefToMessage("C404", ts))
	require.Equal(t, "channel_not_found", slackError(t, err))

	hist, err := api.GetConversationHistoryContext(t.Context(), &slack.GetConversationHistoryParameters{ChannelID: ch})
	require.NoError(t, err)
	require.Equal(t, 1, hist.PinCount)
	require.Equal(t, []string{ch}, hist.Messages[0].PinnedTo)
}

func TestBookmarks(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("inc-1", false)

	b, err := api.AddBookmarkContext(t.Context(), ch, slack.AddBookmarkParameters{
		Title: "Runbook", Type: "link", Link: "https://runbooks.example.com/db", Emoji: ":book:",
	})
	require.NoError(t, err)
	require.NotEmpty(t, b.ID)
	require.Equal(t, ch, b.ChannelID)
	require.Equal(t, "Runbook", b.Title)
	require.Equal(t, "https://runbooks.example.com/db", b.Link)

	c, _ := s.Channel(ch)
	require.Len(t, c.Bookmarks, 1)
	require.Equal(t, b.ID, c.Bookmarks[0].ID)
	require.Equal(t, "link", c.Bookmarks[0].Type)

	_, err = api.AddBookmarkContext(t.Context(), "C404", slack.AddBookmarkParameters{Title: "x", Type: "link", Link: "https://x"})
	require.Equal(t, "channel_not_found", slackError(t, err))
	_, err = api.AddBookmarkContext(t.Context(), ch, slack.AddBookmarkParameters{Title: "x", Type: "link"})
	require.Equal(t, "invalid_arguments", slackError(t, err), "a link bookmark needs a link")
}

func TestJoinAndLeave(t *testing.T) {
	s, _ := start(t)
	id := s.CreateChannel("inc-1-breach", true)
	require.True(t, s.Join(id, "U0BOB"))
	require.True(t, s.Join(id, "U0BOB"), "joining twice is one membership")
	ch, _ := s.Channel(id)
	require.Equal(t, 1, slices.Index(ch.Members, "U0BOB"))
	require.Len(t, ch.Members, 2, "the bot and Bob")
	require.True(t, s.Leave(id, "U0BOB"))
	ch, _ = s.Channel(id)
	require.NotContains(t, ch.Members, "U0BOB")
	require.False(t, s.Join("C0NOPE", "U0BOB"))
}
