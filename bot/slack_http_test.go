package bot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/internal/testlog"
	"github.com/ooda-sre/ooda/timeline"
)

func TestSlackRefusesWhatItCannotTrust(t *testing.T) {
	var logs testlog.Buffer
	r := newSlackRig(t, func(c *SlackConfig) { c.Logger = slog.New(slog.NewTextHandler(&logs, nil)) })
	n := r.declare("Checkout down", "C0INCIDENT1")
	before := r.recorded()

	// Each body would record something if it were accepted.
	note := slackForm(t, "slash_command.form", map[string]string{"text": "note SECRET-BODY-MARKER", "channel_id": "C0INCIDENT1", "trigger_id": "t-refused"})
	message := slackJSON(t, "event_message.json", map[string]any{"event.channel": "C0INCIDENT1", "event.text": "SECRET-BODY-MARKER"})
	click := interactionBody(slackJSON(t, "block_actions_button.json", map[string]any{}))
	stale := func(req *http.Request) {
		SignRequest(req.Header, slackTestSecret, time.Now().Add(-6*time.Minute), readBody(t, req))
	}
	future := func(req *http.Request) {
		SignRequest(req.Header, slackTestSecret, time.Now().Add(6*time.Minute), readBody(t, req))
	}
	badSig := func(req *http.Request) {
		SignRequest(req.Header, "not-the-secret", time.Now(), readBody(t, req))
	}
	noSig := func(req *http.Request) { req.Header.Del("X-Slack-Signature") }
	noTS := func(req *http.Request) { req.Header.Del("X-Slack-Request-Timestamp") }

	oversized := append(bytes.Repeat([]byte("a"), DefaultMaxSlackBody), []byte("=b")...)
	tests := []struct {
		name    string
		path    string
		body    []byte
		edit    func(*http.Request)
		status  int
		kind    string
		outcome string
	}{
		{"command signed with another secret", "/slack/commands", note, badSig, http.StatusUnauthorized, kindCommand, outcomeUnauthorized},
		{"command without signature", "/slack/commands", note, noSig, http.StatusUnauthorized, kindCommand, outcomeUnauthorized},
		{"command without timestamp", "/slack/commands", note, noTS, http.StatusUnauthorized, kindCommand, outcomeUnauthorized},
		{"command replayed after 6 minutes", "/slack/commands", note, stale, http.StatusUnauthorized, kindCommand, outcomeStale},
		{"command from the future", "/slack/commands", note, future, http.StatusUnauthorized, kindCommand, outcomeStale},
		{"event signed with another secret", "/slack/events", message, badSig, http.StatusUnauthorized, kindEvent, outcomeUnauthorized},
		{"event replayed", "/slack/events", message, stale, http.StatusUnauthorized, kindEvent, outcomeStale},
		{"event without headers", "/slack/events", message, func(req *http.Request) { noSig(req); noTS(req) }, http.StatusUnauthorized, kindEvent, outcomeUnauthorized},
		{"click signed with another secret", "/slack/interactivity", click, badSig, http.StatusUnauthorized, kindInteraction, outcomeUnauthorized},
		{"oversized command, signed", "/slack/commands", oversized, nil, http.StatusRequestEntityTooLarge, kindCommand, outcomeTooLarge},
		{"oversized event, signed", "/slack/events", oversized, nil, http.StatusRequestEntityTooLarge, kindEvent, outcomeTooLarge},
		{"oversized interaction, signed", "/slack/interactivity", oversized, nil, http.StatusRequestEntityTooLarge, kindInteraction, outcomeTooLarge},
		{"malformed form, signed", "/slack/commands", []byte("text=%zz&trigger_id=x"), nil, http.StatusBadRequest, kindCommand, outcomeMalformed},
		{"form without user or trigger, signed", "/slack/commands", []byte("text=note+hello&channel_id=C0INCIDENT1"), nil, http.StatusBadRequest, kindCommand, outcomeMalformed},
		{"malformed JSON event, signed", "/slack/events", []byte(`{"type":"event_callback","event":`), nil, http.StatusBadRequest, kindEvent, outcomeMalformed},
		{"interaction without payload, signed", "/slack/interactivity", []byte("foo=bar"), nil, http.StatusBadRequest, kindInteraction, outcomeMalformed},
		{"interaction with a broken payload, signed", "/slack/interactivity", interactionBody([]byte(`{"type":`)), nil, http.StatusBadRequest, kindInteraction, outcomeMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			was := requestCount(t, r, tt.kind, tt.outcome)
			var edits []func(*http.Request)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			rec := r.post(tt.path, tt.body, edits...)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Equal(t, before, r.recorded(), "nothing is recorded")
			require.Equal(t, was+1, requestCount(t, r, tt.kind, tt.outcome), "counted as %s/%s", tt.kind, tt.outcome)
		})
	}
	require.Len(t, r.events(n, timeline.KindLoopEntry), 0)
	require.Contains(t, logs.String(), "refused an unverified Slack request")
	require.NotContains(t, logs.String(), "SECRET-BODY-MARKER", "refused bodies are never logged")
}

// readBody reads a request's body and puts it back.
func readBody(t testing.TB, req *http.Request) []byte {
	t.Helper()
	var b bytes.Buffer
	_, err := b.ReadFrom(req.Body)
	require.NoError(t, err)
	req.Body = readCloser{bytes.NewReader(b.Bytes())}
	return b.Bytes()
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func TestSlackSSLCheckAndURLVerification(t *testing.T) {
	r := newSlackRig(t)
	rec := r.post("/slack/commands", []byte("ssl_check=1&token=gIkuvaNzQIHg97ATvDxqgjtO"))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())

	rec = r.post("/slack/events", slackFixture(t, "url_verification.json"))
	require.Equal(t, http.StatusOK, rec.Code)
	var got map[string]string
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	require.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", got["challenge"])

	// An unsigned challenge is refused like anything else: answering it
	// would let anyone register Ooda's URL for their own app.
	rec = r.post("/slack/events", slackFixture(t, "url_verification.json"), func(req *http.Request) { req.Header.Del("X-Slack-Signature") })
	require.Equal(t, http.StatusUnauthorized, rec.Code)
}

func TestSlackCommandAnswersBeforeAHangingSlack(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.Fault("*", slacktest.Fault{Kind: slacktest.FaultHang, Times: -1})
	r := newSlackRig(t, withFakeSlack(t, fake))

	// A declaration with a title is answered from the commit alone: no
	// Slack call happens on its path at all.
	reply := slashReply(t, r.command("declare sev2 Checkout is down", "C0GENERAL", "trigger-titled"))
	require.Contains(t, reply.Text, "INC-1 declared: SEV2")
	require.Empty(t, fake.Calls(), "answered before any call to Slack")

	// Without a title, the form opens through views.open, which hangs.
	// The answer arrives first; the call is still in progress after it.
	rec := r.command("declare", "C0GENERAL", "trigger-form")
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String(), "the form answers the command; the ack is empty")
	var opened []slacktest.Call
	require.Eventually(t, func() bool {
		opened = fake.CallsTo("views.open")
		return len(opened) == 1
	}, 10*time.Second, time.Millisecond, "views.open is called in the background")
	require.Zero(t, opened[0].Status, "views.open still hangs after the command was answered")
	require.Equal(t, "trigger-form", opened[0].Args["trigger_id"])
	var view struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	require.NoError(t, json.Unmarshal([]byte(opened[0].Args["view"]), &view))
	require.Equal(t, declareCallbackID, view.CallbackID)
	require.Equal(t, "C0GENERAL", view.PrivateMetadata)
}

func TestSlackDeclareFormFallsBackToTheTypedGrammar(t *testing.T) {
	t.Run("views.open fails: a follow-up on response_url", func(t *testing.T) {
		fake := slacktest.New()
		t.Cleanup(fake.Close)
		fake.Fault("views.open", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "expired_trigger_id"})
		ru := newResponseURLs(t)
		r := newSlackRig(t, withFakeSlack(t, fake))
		rec := r.post("/slack/commands", slackForm(t, "slash_command.form", map[string]string{
			"text": "declare", "trigger_id": "trigger-expired", "response_url": ru.srv.URL + "/commands/1",
		}))
		require.Equal(t, http.StatusOK, rec.Code)
		m := ru.next(t)
		require.Equal(t, "ephemeral", m.ResponseType)
		require.Contains(t, m.Text, "/incident declare [sev1..sev4]")
	})
	t.Run("no Slack client: the reply says what to type", func(t *testing.T) {
		r := newSlackRig(t)
		reply := slashReply(t, r.command("declare", "C0GENERAL", "trigger-1"))
		require.Contains(t, reply.Text, "/incident declare [sev1..sev4]")
	})
}

func TestSlackCommandReplies(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C0INCIDENT1")

	reply := slashReply(t, r.command("help", "C0GENERAL", "t-help"))
	require.Equal(t, safeReplyText(command.HelpText()), reply.Text)

	reply = slashReply(t, r.command("frobnicate", "C0GENERAL", "t-unknown"))
	require.Contains(t, reply.Text, "not an /incident command")

	reply = slashReply(t, r.command("note the cache is cold", "C0INCIDENT1", "t-note"))
	require.Equal(t, "INC-1: recorded (note).", reply.Text)
	again := slashReply(t, r.command("note the cache is cold", "C0INCIDENT1", "t-note"))
	require.Equal(t, reply, again, "a replayed trigger answers the same")
	notes := r.events(n, timeline.KindLoopEntry)
	require.Len(t, notes, 1, "a replayed trigger records once")
	require.Equal(t, "slack:t-note", notes[0].Key)
	require.Equal(t, "U0ALICE", notes[0].Actor)
	require.Equal(t, timeline.SourceCommand, notes[0].Source)
}

func TestSlackEscapesWhatItEchoes(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C0INCIDENT1")
	tests := []struct {
		name, text, channel string
	}{
		{"declare title", "declare sev2 <!channel> pay now <https://evil.example|bank.example>", "C0GENERAL"},
		{"impact", "impact <!here> <https://evil.example|status page>", "C0INCIDENT1"},
		{"unknown verb", "<!channel>", "C0GENERAL"},
		{"bad user", "role ops <https://evil.example|@alice>", "C0INCIDENT1"},
		{"bad severity", "sev <!everyone>", "C0INCIDENT1"},
		{"bad status", "status <!subteam^S123|oncall>", "C0INCIDENT1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := slashReply(t, r.command(tt.text, tt.channel, "t-escape-"+string(rune('a'+i))))
			require.NotContains(t, reply.Text, "<!", "no special mention survives: %s", reply.Text)
			require.NotContains(t, reply.Text, "<http", "no disguised link survives: %s", reply.Text)
		})
	}
	// Slack sends "&lt;" for a "<" people typed; the timeline keeps what
	// they typed, and the reply escapes it once.
	reply := slashReply(t, r.command("note p99 &lt; 300ms &amp; falling", "C0INCIDENT1", "t-entities"))
	require.Equal(t, "INC-1: recorded (note).", reply.Text)
	notes := r.events(n, timeline.KindLoopEntry)
	require.Equal(t, "p99 < 300ms & falling", notes[len(notes)-1].Text)

	// Mentions the bot writes itself stay mentions.
	require.Equal(t, "<@U123> is Ops in <#C0INCIDENT1|inc-1>; &lt;!channel> ok",
		safeReplyText("<@U123> is Ops in <#C0INCIDENT1|inc-1>; <!channel> ok"))
	require.Equal(t, "a &lt; b &lt;@U1 x", safeReplyText("a < b <@U1 x"))
	require.True(t, strings.HasPrefix(safeReplyText("<<@U1>"), "&lt;<@U1>"))
}

func TestSlackCommandAckIsMeasured(t *testing.T) {
	r := newSlackRig(t)
	slashReply(t, r.command("help", "C0GENERAL", "t-1"))
	slashReply(t, r.command("frobnicate", "C0GENERAL", "t-2"))
	require.Equal(t, uint64(2), ackCount(t, r, kindCommand, command.TransportHTTP), "both answers are timed")
	require.Equal(t, float64(1), requestCount(t, r, kindCommand, outcomeOK))
	require.Equal(t, float64(1), requestCount(t, r, kindCommand, outcomeRefused))
}

// ackCount is how many answers ooda_command_ack_seconds has timed.
func ackCount(t testing.TB, r *slackRig, kind, transport string) uint64 {
	t.Helper()
	m := gathered(t, r, "ooda_command_ack_seconds", map[string]string{"kind": kind, "transport": transport})
	if m == nil {
		return 0
	}
	return m.GetHistogram().GetSampleCount()
}

// requestCount reads ooda_slack_requests_total{kind, outcome}.
func requestCount(t testing.TB, r *slackRig, kind, outcome string) float64 {
	t.Helper()
	m := gathered(t, r, "ooda_slack_requests_total", map[string]string{"kind": kind, "outcome": outcome})
	if m == nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

// gathered finds the series of metric name with labels in the rig's
// registry, or nil.
func gathered(t testing.TB, r *slackRig, name string, labels map[string]string) interface {
	GetHistogram() *dto.Histogram
	GetCounter() *dto.Counter
} {
	t.Helper()
	families, err := r.reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue series
				}
			}
			return m
		}
	}
	return nil
}
