package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// The inbound tests sign Slack's documented payloads (testdata/slack) at
// test time with this secret and the current time.
const (
	slackTestSecret = "ooda-test-signing-secret"
	slackTestBot    = "U0BOT000001"
)

// slackRig is a SlackHandler on a fresh database, its routes on a mux.
type slackRig struct {
	t   testing.TB
	db  *storage.DB
	h   *SlackHandler
	mux *http.ServeMux
	reg *prometheus.Registry
	now func() time.Time
}

func newSlackRig(t testing.TB, tweaks ...func(*SlackConfig)) *slackRig {
	t.Helper()
	db := storagetest.Open(t)
	reg := prometheus.NewRegistry()
	cfg := SlackConfig{
		SigningSecret: slackTestSecret,
		Dispatcher:    &command.Dispatcher{Store: db},
		Store:         db,
		Transcript:    db,
		BotUserID:     slackTestBot,
		Registerer:    reg,
	}
	for _, tw := range tweaks {
		tw(&cfg)
	}
	h, err := NewSlackHandler(cfg)
	require.NoError(t, err)
	t.Cleanup(h.Close)
	mux := http.NewServeMux()
	h.Register(mux)
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &slackRig{t: t, db: db, h: h, mux: mux, reg: reg, now: now}
}

// withFakeSlack points the handler's Slack calls at a fake Slack Web API.
func withFakeSlack(t testing.TB, fake *slacktest.Server) func(*SlackConfig) {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(fake.URL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
	return func(c *SlackConfig) {
		c.Slack = api
		c.HTTPClient = &http.Client{Transport: tr}
	}
}

// post sends a request signed now (or as edit leaves it) to path.
func (r *slackRig) post(path string, body []byte, edit ...func(*http.Request)) *httptest.ResponseRecorder {
	r.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if path == "/slack/events" {
		req.Header.Set("Content-Type", "application/json")
	}
	SignRequest(req.Header, slackTestSecret, r.now(), body)
	for _, e := range edit {
		e(req)
	}
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec
}

// command posts a signed slash command typed in channel.
func (r *slackRig) command(text, channel, trigger string) *httptest.ResponseRecorder {
	r.t.Helper()
	return r.post("/slack/commands", slackForm(r.t, "slash_command.form", map[string]string{
		"text": text, "channel_id": channel, "trigger_id": trigger, "user_id": "U0ALICE",
	}))
}

// slashReply decodes a command's answer.
func slashReply(t testing.TB, rec *httptest.ResponseRecorder) SlashReply {
	t.Helper()
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var reply SlashReply
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &reply), rec.Body.String())
	require.Equal(t, "ephemeral", reply.ResponseType)
	return reply
}

// declare opens an incident whose channel is channel, as the executor
// would have left it, and returns its number.
func (r *slackRig) declare(title, channel string) uint64 {
	r.t.Helper()
	ctx := r.t.Context()
	m := incident.Meta{At: r.now().UTC(), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "test:declare:" + title}
	res, err := r.db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2}, m)
	})
	require.NoError(r.t, err)
	n := res.Incident.Number
	m.Key, m.Actor, m.Source = "test:channel:"+channel, incident.Bot, timeline.SourceSystem
	_, err = r.db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.ChannelCreated(channel, m)
	})
	require.NoError(r.t, err)
	return n
}

// events returns incident n's events of kind.
func (r *slackRig) events(n uint64, kind timeline.Kind) []timeline.Event {
	r.t.Helper()
	all, err := r.db.Events(r.t.Context(), n, 1)
	require.NoError(r.t, err)
	var out []timeline.Event
	for _, e := range all {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// recorded summarises everything the store holds, so a test can show
// that a request recorded nothing.
func (r *slackRig) recorded() string {
	r.t.Helper()
	ctx := r.t.Context()
	incs, err := r.db.Incidents(ctx, true)
	require.NoError(r.t, err)
	var b strings.Builder
	for _, inc := range incs {
		tr, err := r.db.Transcript(ctx, inc.Number)
		require.NoError(r.t, err)
		fmt.Fprintf(&b, "%s: %d events, %d messages; ", inc.ID, inc.LastSeq, len(tr))
	}
	pending, err := r.db.Pending(ctx, 0)
	require.NoError(r.t, err)
	fmt.Fprintf(&b, "%d effects queued", len(pending))
	return b.String()
}

// slackFixture reads a payload from testdata/slack.
func slackFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "slack", name))
	require.NoError(t, err)
	return b
}

// slackForm reads a form fixture and sets fields in it.
func slackForm(t testing.TB, name string, set map[string]string) []byte {
	t.Helper()
	form, err := url.ParseQuery(string(slackFixture(t, name)))
	require.NoError(t, err)
	for k, v := range set {
		form.Set(k, v)
	}
	return []byte(form.Encode())
}

// slackJSON reads a JSON fixture and sets the fields named by dotted
// paths ("event.channel") in it.
func slackJSON(t testing.TB, name string, set map[string]any) []byte {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(slackFixture(t, name), &doc))
	for path, v := range set {
		keys := strings.Split(path, ".")
		m := doc
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			require.True(t, ok, "%s: no object at %q in %s", name, k, path)
			m = next
		}
		m[keys[len(keys)-1]] = v
	}
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return out
}

// interactionBody wraps an interaction payload as Slack posts it.
func interactionBody(payload []byte) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

// responseURLs is a stand-in for Slack's response_url endpoint: it
// records what the handler followed up with.
type responseURLs struct {
	srv  *httptest.Server
	msgs chan slack.WebhookMessage
}

func newResponseURLs(t testing.TB) *responseURLs {
	t.Helper()
	ru := &responseURLs{msgs: make(chan slack.WebhookMessage, 16)}
	ru.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m slack.WebhookMessage
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ru.msgs <- m
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(ru.srv.Close)
	return ru
}

// next waits for the next follow-up.
func (ru *responseURLs) next(t testing.TB) slack.WebhookMessage {
	t.Helper()
	select {
	case m := <-ru.msgs:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no follow-up was posted to the response_url")
		return slack.WebhookMessage{}
	}
}
