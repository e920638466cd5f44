package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// The Slack side of these tests: a signing secret for HTTP mode, the
// tokens for Socket Mode, and the user every command comes from.
const (
	slackTestSecret   = "ooda-test-signing-secret"
	slackTestBotToken = "xoxb-test-token"
	slackTestAppToken = "xapp-1-test"
	slackTestUser     = "U0ALICE"
)

// slackFixtures holds Slack's documented payloads, which bot's tests
// share.
var slackFixtures = filepath.Join("..", "bot", "testdata", "slack")

// slackRig is Ooda built by app.New on a fresh database, reached the way
// Slack reaches it: signed requests to its HTTP handler (HTTP mode), or
// envelopes over a Socket Mode connection that app.Run opened (Socket
// Mode).
type slackRig struct {
	t  testing.TB
	db *storage.DB
	a  *app.App
	// socket and link are Slack's side of Socket Mode and the connection
	// app.Run opened; nil in HTTP mode.
	socket *slacktest.SocketServer
	link   *slacktest.SocketLink
}

// newSlackRig builds Ooda in HTTP mode, its Web API calls going to a fake
// Slack. Nothing runs: a request is answered by the handler alone, and
// the effects it queues stay queued.
func newSlackRig(t testing.TB) *slackRig {
	t.Helper()
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackSigningSecret = slackTestSecret
	cfg.SlackAPIURL = fake.URL()
	db := storagetest.Open(t)
	return &slackRig{t: t, db: db, a: newApp(t, cfg, db, app.Options{})}
}

// newSocketRig builds Ooda in Socket Mode and runs it (app.Run) against a
// fake Slack until the test ends. The process is a standby: the executor
// and the scheduler, which only the leader runs, never start, so the
// timeline holds what the commands recorded and nothing the effects
// would add.
func newSocketRig(t testing.TB) *slackRig {
	t.Helper()
	fake := slacktest.NewSocketServer(slackTestAppToken)
	// Registered first, so it runs last: after app.Run has stopped, which
	// closes its side of every connection.
	t.Cleanup(fake.Close)
	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackAppToken = slackTestAppToken
	cfg.SlackAPIURL = fake.URL()
	db := storagetest.Open(t)
	a := newApp(t, cfg, db, app.Options{Leadership: standby{}})
	runApp(t, a)
	link, err := fake.Link(0, 10*time.Second)
	require.NoError(t, err, "app.Run connects over Socket Mode")
	return &slackRig{t: t, db: db, a: a, socket: fake, link: link}
}

// newApp builds Ooda on db and closes it when the test ends.
func newApp(t testing.TB, cfg app.Config, db *storage.DB, opts app.Options) *app.App {
	t.Helper()
	a, err := app.New(t.Context(), cfg, db, opts)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

// runApp runs a on a loopback port until the test ends, then checks that
// it stopped cleanly. It stops before the App is closed.
func runApp(t testing.TB, a *app.App) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Run stops cleanly when its context ends")
		case <-time.After(30 * time.Second):
			t.Error("Run did not stop")
		}
	})
}

// standby is a Leadership never granted: the process serves Slack and
// the API while another one would run the executor and the scheduler.
type standby struct{}

func (standby) Lead(ctx context.Context) (context.Context, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

var _ app.Leadership = standby{}

// command sends a slash command typed in channel, by slackTestUser, with
// its own trigger id, and returns what answered it: the HTTP response in
// HTTP mode, the envelope's acknowledgement in Socket Mode.
func (r *slackRig) command(text, channel, trigger string) *httptest.ResponseRecorder {
	r.t.Helper()
	form := slackForm(r.t, "slash_command.form", map[string]string{
		"text": text, "channel_id": channel, "trigger_id": trigger, "user_id": slackTestUser,
	})
	if r.link != nil {
		return r.socketCommand(form, "env-"+trigger)
	}
	req := httptest.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	bot.SignRequest(req.Header, slackTestSecret, time.Now(), form)
	rec := httptest.NewRecorder()
	r.a.Handler().ServeHTTP(rec, req)
	return rec
}

// slashReply decodes a command's answer.
func slashReply(t testing.TB, rec *httptest.ResponseRecorder) bot.SlashReply {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var reply bot.SlashReply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply), rec.Body.String())
	require.Equal(t, "ephemeral", reply.ResponseType)
	return reply
}

// slackForm reads a form fixture and sets fields in it.
func slackForm(t testing.TB, name string, set map[string]string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(slackFixtures, name))
	require.NoError(t, err)
	form, err := url.ParseQuery(string(b))
	require.NoError(t, err)
	for k, v := range set {
		form.Set(k, v)
	}
	return []byte(form.Encode())
}

// newAPIApp builds Ooda without Slack on db, serving the API to token,
// the admin's.
func newAPIApp(t testing.TB, db *storage.DB, token string) *app.App {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.APIToken = token
	return newApp(t, cfg, db, app.Options{})
}

// apiCommand sends one /incident command through POST /api/v1/commands
// and requires it to succeed.
func apiCommand(t testing.TB, baseURL, token, text string) api.CommandReply {
	t.Helper()
	body, err := json.Marshal(api.CommandRequest{Text: text})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, baseURL+"/api/v1/commands", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var rep api.CommandReply
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&rep))
	require.True(t, rep.OK, "%s: %d %s", text, resp.StatusCode, rep.Text)
	return rep
}

// socketCommand sends a slash command form as Socket Mode carries it (the
// form's fields, as JSON) and returns its acknowledgement's payload as
// the answer an HTTP request would have had.
func (r *slackRig) socketCommand(form []byte, envelopeID string) *httptest.ResponseRecorder {
	r.t.Helper()
	vals, err := url.ParseQuery(string(form))
	require.NoError(r.t, err)
	fields := map[string]string{}
	for k := range vals {
		fields[k] = vals.Get(k)
	}
	payload, err := json.Marshal(fields)
	require.NoError(r.t, err)
	r.socket.Send(r.link, envelopeID, "slash_commands", payload)
	ack, err := r.socket.Ack(envelopeID, 10*time.Second)
	require.NoError(r.t, err, "envelope %s is acknowledged", envelopeID)
	rec := httptest.NewRecorder()
	_, _ = rec.Write(ack)
	return rec
}
