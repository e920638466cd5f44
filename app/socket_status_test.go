package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// TestStatusTellsWhetherSlackReachesOoda: while the Socket Mode connection
// is silent and being replaced, GET /api/v1/status says it is not
// connected, and /readyz stays ready (the API does not depend on Slack);
// once a new connection is open, the status says so.
func TestStatusTellsWhetherSlackReachesOoda(t *testing.T) {
	fake := slacktest.NewSocketServer(slackTestAppToken)
	t.Cleanup(fake.Close)
	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackAppToken = slackTestAppToken
	cfg.SlackAPIURL = fake.URL()
	cfg.APIToken = "admin-token-0123456789"
	cfg.SocketSilence = "1s"
	a := newApp(t, cfg, storagetest.Open(t), app.Options{Leadership: standby{}})
	runApp(t, a)

	get := func(path string) (int, []byte) {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+cfg.APIToken)
		rec := httptest.NewRecorder()
		a.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.Bytes()
	}
	connected := func() bool {
		code, body := get("/api/v1/status")
		require.Equal(t, http.StatusOK, code)
		var rep api.StatusReport
		require.NoError(t, json.Unmarshal(body, &rep))
		require.NotNil(t, rep.Slack.SocketMode, "Socket Mode reports its connection")
		return rep.Slack.SocketMode.Connected
	}
	ready := func() int { code, _ := get("/readyz"); return code }

	link, err := fake.Link(0, 10*time.Second)
	require.NoError(t, err)
	require.Eventually(t, connected, 20*time.Second, 10*time.Millisecond, "connected once Slack says hello")

	release := fake.Hold()
	link.Silence()
	require.Eventually(t, func() bool { return !connected() }, 20*time.Second, 10*time.Millisecond, "silent: not connected")
	require.Equal(t, http.StatusOK, ready(), "/readyz does not depend on Slack")

	release()
	_, err = fake.Link(1, 20*time.Second)
	require.NoError(t, err, "a new connection")
	require.Eventually(t, connected, 20*time.Second, 10*time.Millisecond, "and the status recovers")
	require.Equal(t, http.StatusOK, ready())
}
