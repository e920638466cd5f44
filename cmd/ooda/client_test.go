package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
)

// serveInProcess runs `ooda serve` in-process with cfg on a free port and
// returns its base URL and a stop that shuts it down and checks it shut
// down cleanly; the test's cleanup stops it too. Every in-process server
// of these tests starts here.
func serveInProcess(t testing.TB, cfg app.Config) (string, func()) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, app.Options{}, func(a net.Addr) { addrc <- a }) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return "http://" + addr.String(), stop
}

// startServer is serveInProcess for a test that lets the server stop
// with it.
func startServer(t *testing.T, cfg app.Config) string {
	t.Helper()
	base, _ := serveInProcess(t, cfg)
	return base
}

func TestCLIRunsAnIncidentThroughTheAPI(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("ci-bot: 0123456789abcdef0123\n"), 0o600))
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.APITokensFile = tokens
	base := startServer(t, cfg)
	t.Setenv("OODA_URL", base)
	t.Setenv("OODA_API_TOKEN", "0123456789abcdef0123")

	out, _, err := runCmd(t, "incident", "declare", "sev1", "Checkout down")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1 declared: SEV1")

	_, _, err = runCmd(t, "incident", "note", "INC-1", "failover started")
	require.NoError(t, err)
	out, _, err = runCmd(t, "incident", "status", "INC-1", "monitoring")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1 is monitoring")

	_, _, err = runCmd(t, "incident", "status", "INC-1", "investigating")
	require.Error(t, err)
	require.Equal(t, 1, exitCode(err))
	require.Contains(t, err.Error(), "only moves forward")
	require.Contains(t, err.Error(), "HTTP 409")

	_, _, err = runCmd(t, "incident", "frobnicate")
	require.Equal(t, 2, exitCode(err), "the CLI parses before it sends")

	out, _, err = runCmd(t, "incident", "timeline", "INC-1")
	require.NoError(t, err)
	require.Contains(t, out, "failover started")
	require.Contains(t, out, "api:ci-bot", "the named token is the actor")
	require.NotContains(t, out, "\x1b[", "no colour when piped")

	out, _, err = runCmd(t, "incident", "list")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1")

	out, _, err = runCmd(t, "status")
	require.NoError(t, err)
	require.Contains(t, out, "slack       not configured")
	require.Contains(t, out, "outbox      8 effects", "without Slack the effects wait for it")

	t.Setenv("OODA_API_TOKEN", "wrong-token-wrong-token")
	_, _, err = runCmd(t, "incident", "note", "INC-1", "x")
	require.Error(t, err)
	require.Contains(t, err.Error(), "bearer token")

	// The events were recorded with the API as their source.
	// (Closed by the cleanup above; read it through the API instead.)
	var inc api.IncidentWithEvents
	t.Setenv("OODA_API_TOKEN", "admin-token-0123456789")
	c, err := newAPIClient(base, defaultCLITimeout)
	require.NoError(t, err)
	code, err := c.do(context.Background(), http.MethodGet, "/api/v1/incidents/1", nil, &inc)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	for _, e := range inc.Events {
		require.Equal(t, "api", string(e.Source))
	}
}

func TestCLIServerDownOrHanging(t *testing.T) {
	t.Setenv("OODA_API_TOKEN", "some-token-123456")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String()
	require.NoError(t, ln.Close())
	_, _, err = runCmd(t, "incident", "--url", closed, "note", "INC-1", "hello")
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot reach the ooda server")

	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	_, _, err = runCmd(t, "incident", "--url", hang.URL, "--timeout", "200ms", "note", "INC-1", "hello")
	require.Error(t, err)
	require.Contains(t, err.Error(), "did not answer within 200ms")

	t.Setenv("OODA_API_TOKEN", "")
	_, _, err = runCmd(t, "incident", "--url", closed, "list")
	require.Equal(t, 2, exitCode(err))
}

func TestServeWithSlackCreatesTheChannel(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	announce := fake.CreateChannel("incidents", false)
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.SlackBotToken = "xoxb-test-token"
	cfg.SlackSigningSecret = "signing-secret"
	cfg.SlackAPIURL = fake.URL()
	cfg.AnnounceChannel = announce
	base := startServer(t, cfg)
	t.Setenv("OODA_URL", base)
	t.Setenv("OODA_API_TOKEN", cfg.APIToken)

	out, _, err := runCmd(t, "incident", "declare", "sev2", "Search is slow")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1 declared")

	deadline := time.Now().Add(10 * time.Second)
	for {
		if ch, ok := fake.ChannelByName("inc-1-search-is-slow"); ok && len(fake.Messages(ch.ID)) > 0 && len(fake.Messages(announce)) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the executor did not create the channel and post the kickoff; calls: %v", fake.Calls())
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPlainTurnsSlackMarkupIntoText(t *testing.T) {
	tests := map[string]string{
		"<@U0ALICE|alice> is Commander":       "@alice is Commander",
		"<@U0ALICE> is Ops":                   "@U0ALICE is Ops",
		"see <#C0123ABCD> and <#C1|incident>": "see #C0123ABCD and #incident",
		"p99 &gt; 2s, A -&gt; B &amp; C":      "p99 > 2s, A -> B & C",
		"&lt;!channel&gt; stays text":         "<!channel> stays text",
		"<https://x.example|the runbook>":     "the runbook (https://x.example)",
	}
	for in, want := range tests {
		require.Equal(t, want, plain(in), in)
	}
}

func TestSocketLineSaysWhetherSlackReachesOoda(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   api.SocketModeStatus
		want string
	}{
		{"healthy", api.SocketModeStatus{Connected: true, Since: now.Add(-2 * time.Hour), LastFrame: now.Add(-3 * time.Second), LastFrameAgeSeconds: 3},
			"connected for 2h0m0s (last frame 3s ago)"},
		{"silent", api.SocketModeStatus{Since: now.Add(-time.Minute), LastFrame: now.Add(-70 * time.Second), LastFrameAgeSeconds: 70},
			"NOT CONNECTED for 1m0s: Slack's commands and events are not reaching Ooda (last frame 1m10s ago)"},
		{"never connected", api.SocketModeStatus{}, "NOT CONNECTED: Slack's commands and events are not reaching Ooda (nothing heard yet)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, socketLine(tt.in, now))
		})
	}
}
