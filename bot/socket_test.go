package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/timeline"
)

// envelope sends a request on l and returns its acknowledgement.
func (s *socketSide) envelope(l *slacktest.SocketLink, id, typ string, payload json.RawMessage) socketmode.Response {
	s.t.Helper()
	s.Send(l, id, typ, payload)
	ack, err := s.Ack(id, 10*time.Second)
	require.NoError(s.t, err, "envelope %s is acknowledged", id)
	return socketmode.Response{EnvelopeID: id, Payload: ack}
}

// startSocketMode runs Socket Mode against the fake until the test ends.
func startSocketMode(t testing.TB, slackURL string, h *SlackHandler, tweaks ...func(*SocketConfig)) *SocketMode {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	api := slack.New("xoxb-test-token",
		slack.OptionAppLevelToken("xapp-1-test"),
		slack.OptionAPIURL(slackURL),
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
	fake := newSocketSide(t)
	startSocketMode(t, fake.URL(), overSocket.h)
	link := fake.link(0)

	commands := []string{
		"declare sev2 --service checkout Checkout is down for <!channel>",
		"note INC-1 rolled back 4512",
		"status INC-1 identified",
		"frobnicate",
	}
	for i, text := range commands {
		form := slackForm(t, "slash_command.form", map[string]string{"text": text, "trigger_id": "trigger-" + string(rune('a'+i))})
		want := slashReply(t, overHTTP.post("/slack/commands", form))
		ack := fake.envelope(link, "env-command-"+string(rune('a'+i)), "slash_commands", socketCommandPayload(t, form))
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
	ack := fake.envelope(link, "env-event", "events_api", slackFixture(t, "event_message.json"))
	require.Nil(t, ack.Payload)
	tr, err := overSocket.db.Transcript(t.Context(), 2)
	require.NoError(t, err)
	require.Len(t, tr, 1)

	// An event slack-go cannot read is acknowledged all the same.
	fake.envelope(link, "env-unknown", "events_api", slackJSON(t, "event_message.json", map[string]any{"event.type": "ooda_unheard_of"}))

	// A form submission is answered in the ack: inline errors.
	ack = fake.envelope(link, "env-view", "interactive", slackJSON(t, "view_submission.json", map[string]any{"view.state.values.title.title.value": ""}))
	var resp slack.ViewSubmissionResponse
	require.NoError(t, json.Unmarshal(ack.Payload.(json.RawMessage), &resp))
	require.Equal(t, slack.RAErrors, resp.ResponseAction)
	require.Contains(t, resp.Errors, declareTitle)

	// A click is acknowledged empty; what it changed shows in the store.
	ack = fake.envelope(link, "env-click", "interactive", slackJSON(t, "block_actions_button.json", map[string]any{}))
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
