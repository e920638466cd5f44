package slacktest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

func TestUsersInfoDescribesAMember(t *testing.T) {
	// A summer day: New York is on daylight time, UTC−4.
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	s, api := start(t, slacktest.WithClock(func() time.Time { return summer }))
	s.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice", TZ: "America/New_York"})
	s.AddUser("U0BOB", "bob")

	u, err := api.GetUserInfoContext(t.Context(), "U0ALICE")
	require.NoError(t, err)
	assert.Equal(t, "alice.chen", u.Name)
	assert.Equal(t, "Alice Chen", u.RealName)
	assert.Equal(t, "Alice Chen", u.Profile.RealName)
	assert.Equal(t, "alice", u.Profile.DisplayName)
	assert.Equal(t, "America/New_York", u.TZ)
	assert.Equal(t, -4*3600, u.TZOffset, "the zone's offset on the server's day")
	assert.False(t, u.Deleted)
	assert.False(t, u.IsBot)

	u, err = api.GetUserInfoContext(t.Context(), "U0BOB")
	require.NoError(t, err)
	assert.Equal(t, "bob", u.Profile.DisplayName, "AddUser's one name is every name")
	assert.Equal(t, "Etc/UTC", u.TZ)

	bot, err := api.GetUserInfoContext(t.Context(), "U0BOT000001")
	require.NoError(t, err)
	assert.True(t, bot.IsBot)

	// A rename, then a deactivation, replace the member.
	s.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Wong", Deleted: true})
	u, err = api.GetUserInfoContext(t.Context(), "U0ALICE")
	require.NoError(t, err)
	assert.Equal(t, "Alice Wong", u.RealName)
	assert.True(t, u.Deleted)

	_, err = api.GetUserInfoContext(t.Context(), "U0NOBODY")
	require.Equal(t, "user_not_found", slackError(t, err))
}

func TestUsersListPages(t *testing.T) {
	s, api := start(t)
	for i := range 25 {
		s.AddMember(slacktest.Member{ID: fmt.Sprintf("U%03d", i), Handle: fmt.Sprintf("user%d", i), Deleted: i == 3})
	}
	var got []slack.User
	p := api.GetUsersPaginated(slack.GetUsersOptionLimit(10))
	pages := 0
	var err error
	for {
		p, err = p.Next(t.Context())
		if p.Done(err) {
			break
		}
		require.NoError(t, err)
		pages++
		got = append(got, p.Users...)
	}
	require.Equal(t, 3, pages, "26 members, 10 a page")
	require.Len(t, got, 26, "everyone once: the bot and a deactivated member included")
	seen := map[string]bool{}
	for _, u := range got {
		require.False(t, seen[u.ID], "%s listed twice", u.ID)
		seen[u.ID] = true
	}
	assert.True(t, got[3].Deleted, "deactivated members are listed, marked")
	assert.Len(t, s.CallsTo("users.list"), 3)

	all, err := api.GetUsersContext(t.Context())
	require.NoError(t, err)
	require.Len(t, all, 26)

	_, err = api.GetUsersPaginated(slack.GetUsersOptionCursor("bm90LWEtY3Vyc29y")).Next(t.Context())
	require.Equal(t, "invalid_cursor", slackError(t, err))
}
