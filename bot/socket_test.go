package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/timeline"
)

// fakeSocketMode plays Slack's side of Socket Mode: apps.connections.open
// hands out the URL of its WebSocket endpoint, and the test gets each
// connection to send envelopes on and read acknowledgements from.
type fakeSocketMode struct {
	srv   *httptest.Server
	conns chan *websocket.Conn
}

func newFakeSocketMode(t testing.TB) *fakeSocketMode {
	t.Helper()
	f := &fakeSocketMode{conns: make(chan *websocket.Conn, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer xapp-1-test" {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(f.srv.URL, "http") + "/link"})
	})
	// slack-go dials with Origin: https://api.slack.com, as Slack expects.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		f.conns <- conn
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// writeJSON answers a fake Slack Web API call with v.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// socketLink is one Socket Mode connection, seen from Slack's side.
type socketLink struct {
	t    testing.TB
	conn *websocket.Conn
}

func (f *fakeSocketMode) accept(t testing.TB) *socketLink {
	t.Helper()
	select {
	case conn := <-f.conns:
		t.Cleanup(func() { _ = conn.Close() })
		l := &socketLink{t: t, conn: conn}
		l.send(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0APP000001"}})
		return l
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not connect")
		return nil
	}
}

func (l *socketLink) send(v any) {
	l.t.Helper()
	require.NoError(l.t, l.conn.SetWriteDeadline(time.Now().Add(10*time.Second)))
	require.NoError(l.t, l.conn.WriteJSON(v))
}

// envelope sends a request and returns its acknowledgement.
func (l *socketLink) envelope(id, typ string, payload json.RawMessage) socketmode.Response {
	l.t.Helper()
	l.send(map[string]any{"envelope_id": id, "type": typ, "payload": payload, "accepts_response_payload": typ != "events_api"})
	require.NoError(l.t, l.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	var ack struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	require.NoError(l.t, l.conn.ReadJSON(&ack), "envelope %s is acknowledged", id)
	require.Equal(l.t, id, ack.EnvelopeID)
	return socketmode.Response{EnvelopeID: ack.EnvelopeID, Payload: ack.Payload}
}

// startSocketMode runs Socket Mode against the fake until the test ends.
func startSocketMode(t testing.TB, slackURL string, h *SlackHandler, tweaks ...func(*SocketConfig)) *SocketMode {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	api := slack.New("xoxb-test-token",
		slack.OptionAppLevelToken("xapp-1-test"),
		slack.OptionAPIURL(slackURL+"/api/"),
		slack.OptionHTTPClient(&http.Client{Transport: tr}))
	cfg := SocketConfig{API: api, Handler: h}
	for _, tweak := range tweaks {
		tweak(&cfg)
	}
	sm, err := NewSocketMode(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sm.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Socket Mode stops cleanly when its context ends")
		case <-time.After(10 * time.Second):
			t.Error("Socket Mode did not stop")
		}
	})
	return sm
}

// socketCommandPayload is a slash command as Socket Mode carries it: the
// HTTP form's fields, as JSON.
func socketCommandPayload(t testing.TB, form []byte) json.RawMessage {
	t.Helper()
	vals, err := url.ParseQuery(string(form))
	require.NoError(t, err)
	fields := map[string]string{}
	for k := range vals {
		fields[k] = vals.Get(k)
	}
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return b
}

func TestSocketModeMatchesHTTP(t *testing.T) {
	clock := resiliencetest.NewClock(time.Now().UTC().Truncate(time.Second))
	rig := func() *slackRig { return newSlackRig(t, func(c *SlackConfig) { c.Now = clock.Now }) }
	overHTTP, overSocket := rig(), rig()
	fake := newFakeSocketMode(t)
	startSocketMode(t, fake.srv.URL, overSocket.h)
	link := fake.accept(t)

	commands := []string{
		"declare sev2 --service checkout Checkout is down for <!channel>",
		"note INC-1 rolled back 4512",
		"status INC-1 identified",
		"frobnicate",
	}
	for i, text := range commands {
		form := slackForm(t, "slash_command.form", map[string]string{"text": text, "trigger_id": "trigger-" + string(rune('a'+i))})
		want := slashReply(t, overHTTP.post("/slack/commands", form))
		ack := link.envelope("env-command-"+string(rune('a'+i)), "slash_commands", socketCommandPayload(t, form))
		var got SlashReply
		require.NoError(t, json.Unmarshal(ack.Payload.(json.RawMessage), &got), "the ack carries the reply")
		require.Equal(t, want, got, "%q answers the same over both transports", text)
	}
	wantEvents, err := overHTTP.db.Events(t.Context(), 1, 1)
	require.NoError(t, err)
	gotEvents, err := overSocket.db.Events(t.Context(), 1, 1)
	require.NoError(t, err)
	require.Equal(t, wantEvents, gotEvents, "and records the same events")
	require.Equal(t, uint64(len(commands)), ackCount(t, overSocket, kindCommand, command.TransportSocket))

	// An event is acknowledged once recorded, with nothing in the ack.
	overSocket.declare("Payments down", "C123ABC456")
	ack := link.envelope("env-event", "events_api", slackFixture(t, "event_message.json"))
	require.Nil(t, ack.Payload)
	tr, err := overSocket.db.Transcript(t.Context(), 2)
	require.NoError(t, err)
	require.Len(t, tr, 1)

	// An event slack-go cannot read is acknowledged all the same.
	link.envelope("env-unknown", "events_api", slackJSON(t, "event_message.json", map[string]any{"event.type": "ooda_unheard_of"}))

	// A form submission is answered in the ack: inline errors.
	ack = link.envelope("env-view", "interactive", slackJSON(t, "view_submission.json", map[string]any{"view.state.values.title.title.value": ""}))
	var resp slack.ViewSubmissionResponse
	require.NoError(t, json.Unmarshal(ack.Payload.(json.RawMessage), &resp))
	require.Equal(t, slack.RAErrors, resp.ResponseAction)
	require.Contains(t, resp.Errors, declareTitle)

	// A click is acknowledged empty; what it changed shows in the store.
	ack = link.envelope("env-click", "interactive", slackJSON(t, "block_actions_button.json", map[string]any{}))
	require.Nil(t, ack.Payload)
	inc, err := overSocket.db.Incident(t.Context(), 1)
	require.NoError(t, err)
	require.Equal(t, "UA8RXUSPL", inc.Roles.Ops)
	require.Len(t, overSocket.events(1, timeline.KindRoleAssigned), 2, "the declarer's Commander role and the click")
}

// TestBusyAnswers: what a person sees when Socket Mode cannot take their
// command or form in time. A form must not be acknowledged empty: Slack
// would close it, and nothing would be declared.
func TestBusyAnswers(t *testing.T) {
	rig := newSlackRig(t)
	sm, err := NewSocketMode(SocketConfig{API: slack.New("xoxb-test-token"), Handler: rig.h})
	require.NoError(t, err)

	kind, payload := sm.busyAnswer(job{evt: socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: slack.SlashCommand{Text: "list"}}})
	require.Equal(t, kindCommand, kind)
	require.Equal(t, busyText, payload.(*SlashReply).Text)

	form := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission}
	kind, payload = sm.busyAnswer(job{evt: socketmode.Event{Type: socketmode.EventTypeInteractive, Data: form}})
	require.Equal(t, kindInteraction, kind)
	resp := payload.(*slack.ViewSubmissionResponse)
	require.Equal(t, slack.RAErrors, resp.ResponseAction, "the form stays open")
	require.Equal(t, busyText, resp.Errors[declareTitle])
}
