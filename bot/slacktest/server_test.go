package slacktest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
)

func TestAuth(t *testing.T) {
	s, api := start(t, slacktest.WithTeam("T0ACME0001", "Acme Corp"), slacktest.WithBotUserID("U0OODA0001"))

	resp, err := api.AuthTestContext(t.Context())
	require.NoError(t, err)
	require.Equal(t, "T0ACME0001", resp.TeamID)
	require.Equal(t, "Acme Corp", resp.Team)
	require.Equal(t, "U0OODA0001", resp.UserID)
	require.Equal(t, "https://acme-corp.slack.com/", resp.URL)
	require.NotEmpty(t, resp.BotID)

	tests := []struct {
		name, token, want string
	}{
		{"wrong token", "xoxb-wrong", "invalid_auth"},
		// Slack distinguishes a missing token from a wrong one.
		{"no token", "", "not_authed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client(t, s, tt.token).AuthTestContext(t.Context())
			require.Equal(t, tt.want, slackError(t, err))
		})
	}
	t.Run("wrong bearer on a JSON method", func(t *testing.T) {
		_, err := client(t, s, "xoxb-wrong").OpenViewContext(t.Context(), "trigger", modal("x"))
		require.Equal(t, "invalid_auth", slackError(t, err))
	})
}

func TestUnknownMethodAnswers200(t *testing.T) {
	s, api := start(t)

	// users.getPresence is a real Slack method this fake does not implement.
	_, err := api.GetUserPresenceContext(t.Context(), "U1")
	require.Equal(t, "unknown_method", slackError(t, err))

	calls := s.CallsTo("users.getPresence")
	require.Len(t, calls, 1)
	require.Equal(t, http.StatusOK, calls[0].Status, "Slack answers unknown methods with HTTP 200")
	require.Equal(t, "unknown_method", calls[0].Err)
}

func TestCallsRecordArgumentsWithoutToken(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("incidents", false)

	_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("hello", false))
	require.NoError(t, err)
	_, err = api.OpenViewContext(t.Context(), "trigger-1", modal("declare"))
	require.NoError(t, err)

	calls := s.Calls()
	require.Len(t, calls, 2)

	post := calls[0]
	require.Equal(t, "chat.postMessage", post.Method)
	require.Equal(t, ch, post.Args["channel"])
	require.Equal(t, "hello", post.Args["text"])
	require.NotContains(t, post.Args, "token", "a recorded call must not carry the credential")
	require.Equal(t, http.StatusOK, post.Status)
	require.Empty(t, post.Err)

	open := calls[1]
	require.Equal(t, "views.open", open.Method, "JSON bodies are recorded too")
	require.Equal(t, "trigger-1", open.Args["trigger_id"], "JSON strings are unquoted")
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(open.Args["view"]), &v), "JSON objects are kept as raw JSON")
	require.Equal(t, "declare", v["callback_id"])
}

func TestGETWithQueryAndBearer(t *testing.T) {
	s, api := start(t)
	ch := s.CreateChannel("incidents", false)
	_, ts, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("hello", false))
	require.NoError(t, err)

	// chat.getPermalink is one of the few methods slack-go sends as a GET with
	// the token in the Authorization header.
	link, err := api.GetPermalinkContext(t.Context(), &slack.PermalinkParameters{Channel: ch, Ts: ts})
	require.NoError(t, err)
	require.Equal(t, "https://ooda-test.slack.com/archives/"+ch+"/p"+strings.Replace(ts, ".", "", 1), link)
}

func TestClockAndTimestamps(t *testing.T) {
	// A clock that never moves: ts must still increase, one microsecond apart.
	at := time.Unix(1732641234, 100_000)
	s, api := start(t, slacktest.WithClock(func() time.Time { return at }))
	ch := s.CreateChannel("incidents", false)

	const workers, posts = 8, 10
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range posts {
				_, _, err := api.PostMessageContext(t.Context(), ch, slack.MsgOptionText("tick", false))
				require.NoError(t, err)
			}
		})
	}
	wg.Wait()

	msgs := s.Messages(ch)
	require.Len(t, msgs, workers*posts)
	require.Equal(t, "1732641234.000100", msgs[0].TS, "100µs past the second")
	for i := 1; i < len(msgs); i++ {
		require.Less(t, msgs[i-1].TS, msgs[i].TS, "ts must increase in post order")
	}
	require.Equal(t, at, s.Calls()[0].At)
}

func TestRawWireFormat(t *testing.T) {
	s, _ := start(t)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	hc := &http.Client{Transport: tr}

	tests := []struct {
		name   string
		req    func() *http.Request
		wantOK bool
		want   string
	}{
		{
			name: "form with token field",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, s.URL()+"auth.test",
					strings.NewReader(url.Values{"token": {token}}.Encode()))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				return r
			},
			wantOK: true,
		},
		{
			name: "JSON with bearer",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, s.URL()+"auth.test", strings.NewReader(`{}`))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+token)
				return r
			},
			wantOK: true,
		},
		{
			name: "malformed JSON",
			req: func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, s.URL()+"auth.test", strings.NewReader(`{`))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Authorization", "Bearer "+token)
				return r
			},
			want: "invalid_json",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := hc.Do(tt.req())
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			var got struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(body, &got), string(body))
			require.Equal(t, tt.wantOK, got.OK, string(body))
			require.Equal(t, tt.want, got.Error)
		})
	}
}

func TestCloseTwice(t *testing.T) {
	s := slacktest.New()
	s.Close()
	s.Close()
	_, ok := s.Channel("C1")
	require.False(t, ok, "inspecting a closed server still works")
}
