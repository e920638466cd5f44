package bot

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// deliver posts an event three times, as Slack does when it thinks the
// first delivery failed: the retries carry X-Slack-Retry-Num.
func (r *slackRig) deliverThrice(body []byte) {
	r.t.Helper()
	for retry := range 3 {
		var edit []func(*http.Request)
		if retry > 0 {
			edit = append(edit, func(req *http.Request) {
				req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
				req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
			})
		}
		rec := r.post("/slack/events", body, edit...)
		require.Equal(r.t, http.StatusOK, rec.Code, "delivery %d: %s", retry+1, rec.Body.String())
	}
}

func TestSlackPinAddedCapturesTheMessageOnce(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C02ELGNBH")
	r.deliverThrice(slackFixture(t, "event_pin_added.json"))

	got := r.events(n, timeline.KindMessageCaptured)
	require.Len(t, got, 1, "three deliveries of one event_id record once")
	e := got[0]
	require.Equal(t, timeline.SourcePin, e.Source)
	require.Equal(t, timeline.PhaseObserve, e.Phase)
	require.Equal(t, "U024BE7LH", e.Actor, "who pinned it")
	require.Equal(t, "p99 on checkout is 4 s since 09:12, errors <1%", e.Text, "Slack's entities are decoded once")
	require.Equal(t, map[string]string{"channel": "C02ELGNBH", "ts": "1360782400.498405", "user": "U0G9QF9C6"}, e.Attrs)
	require.Equal(t, time.Unix(1360782804, 83113000).UTC(), e.At, "when it was pinned")
	require.Equal(t, "slack:capture:C02ELGNBH:1360782400.498405", e.Key)

	// The same message marked with the capture reaction afterwards is
	// already in the timeline.
	r.deliverThrice(slackJSON(t, "event_reaction_added.json", map[string]any{"event.item.channel": "C02ELGNBH"}))
	require.Len(t, r.events(n, timeline.KindMessageCaptured), 1)
}

func TestSlackCaptureReactionTakesTheTextFromTheTranscript(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C0G9QF9GZ")
	_, err := r.db.RecordMessage(t.Context(), n, storage.MessageChange{
		Op: storage.MessagePosted, TS: "1360782400.498405", User: "U0G9QF9C6", Text: "the canary is red in eu-west-1",
	})
	require.NoError(t, err)

	r.deliverThrice(slackJSON(t, "event_reaction_added.json", map[string]any{"event.reaction": "thumbsup", "event_id": "Ev0THUMBS"}))
	require.Empty(t, r.events(n, timeline.KindMessageCaptured), "other reactions are ignored")

	r.deliverThrice(slackFixture(t, "event_reaction_added.json"))
	got := r.events(n, timeline.KindMessageCaptured)
	require.Len(t, got, 1)
	require.Equal(t, timeline.SourceReaction, got[0].Source)
	require.Equal(t, "the canary is red in eu-west-1", got[0].Text)
	require.Equal(t, "U0G9QF9C6", got[0].Attr(timeline.AttrUser))
}

func TestSlackCaptureFetchesTheTextOffTheRequestPath(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	channel := fake.CreateChannel("inc-1-checkout-down", false)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	api := slack.New("xoxb-test-token", slack.OptionAPIURL(fake.URL()), slack.OptionHTTPClient(&http.Client{Transport: tr}))
	_, ts, err := api.PostMessageContext(t.Context(), channel, slack.MsgOptionText("error budget for checkout is gone", false))
	require.NoError(t, err)

	r := newSlackRig(t, withFakeSlack(t, fake), func(c *SlackConfig) { c.CaptureReaction = "eyes" })
	n := r.declare("Checkout down", channel)
	body := slackJSON(t, "event_reaction_added.json", map[string]any{
		"event.reaction": "eyes", "event.item.channel": channel, "event.item.ts": ts,
	})
	r.deliverThrice(body)
	got := r.awaitCaptures(n)
	require.Len(t, got, 1, "three deliveries, one capture")
	require.Equal(t, "error budget for checkout is gone", got[0].Text)
	history := fake.CallsTo("conversations.history")
	require.NotEmpty(t, history)
	require.Equal(t, ts, history[0].Args["latest"])
	require.Equal(t, "1", history[0].Args["limit"])
	require.Equal(t, "1", history[0].Args["inclusive"])
}

// awaitCaptures waits for the background fetch to record a capture, then
// for the handler's background work to end, and returns the captures.
func (r *slackRig) awaitCaptures(n uint64) []timeline.Event {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.events(n, timeline.KindMessageCaptured)) > 0 },
		10*time.Second, time.Millisecond, "the capture is recorded once its text is fetched")
	r.h.Close()
	return r.events(n, timeline.KindMessageCaptured)
}

func TestSlackCaptureWithoutTextWhenSlackFails(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.Fault("conversations.history", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "channel_not_found", Times: -1})
	r := newSlackRig(t, withFakeSlack(t, fake))
	n := r.declare("Checkout down", "C0G9QF9GZ")
	r.deliverThrice(slackFixture(t, "event_reaction_added.json"))
	got := r.awaitCaptures(n)
	require.Len(t, got, 1, "the capture is kept, without its text")
	require.Equal(t, unreadableCapture, got[0].Text)
	require.Equal(t, "1360782400.498405", got[0].Attr(timeline.AttrTS), "the ts still finds the message")
}

func TestSlackMessagesBuildTheTranscript(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C123ABC456")
	before := r.recorded()
	for _, name := range []string{"event_bot_message.json"} {
		r.deliverThrice(slackFixture(t, name))
	}
	r.deliverThrice(slackJSON(t, "event_message.json", map[string]any{"event.user": slackTestBot, "event_id": "Ev0OWN"}))
	require.Equal(t, before, r.recorded(), "bots' messages, Ooda's own included, are not transcribed")

	for _, name := range []string{"event_message.json", "event_message_changed.json", "event_message_deleted.json"} {
		r.deliverThrice(slackFixture(t, name))
	}
	got, err := r.db.Transcript(t.Context(), n)
	require.NoError(t, err)
	require.Len(t, got, 1)
	m := got[0]
	require.Equal(t, "1355517523.000005", m.TS)
	require.Equal(t, "U123ABC456", m.User)
	require.Equal(t, "Rolled back deploy 4512; error rate back to 0.1%", m.Text)
	require.Equal(t, []storage.TranscriptEdit{{
		TS: "1358878755.000001", At: time.Unix(1358878755, 1000).UTC(),
		Before: "Rolling back deploy 4512 & watching the error rate",
		After:  "Rolled back deploy 4512; error rate back to 0.1%",
	}}, m.Edits, "one edit, however often it was delivered")
	require.True(t, m.Deleted)
	require.Equal(t, time.Unix(1358878760, 2000).UTC(), m.DeletedAt)
}

func TestSlackMemberJoinedRecordsAParticipantOnce(t *testing.T) {
	r := newSlackRig(t)
	n := r.declare("Checkout down", "C0698JE0H")
	r.deliverThrice(slackFixture(t, "event_member_joined_channel.json"))
	got := r.events(n, timeline.KindParticipant)
	require.Len(t, got, 1)
	require.Equal(t, "W06GH7XHN", got[0].Attr(timeline.AttrUser))

	// Ooda joining its own channel is not news.
	r.deliverThrice(slackJSON(t, "event_member_joined_channel.json", map[string]any{"event.user": slackTestBot, "event_id": "Ev0BOTJOIN"}))
	require.Len(t, r.events(n, timeline.KindParticipant), 1)
}

func TestSlackIgnoresEventsOutsideIncidentChannels(t *testing.T) {
	r := newSlackRig(t)
	r.declare("Checkout down", "C0INCIDENT1")
	before := r.recorded()
	for _, name := range []string{
		"event_pin_added.json", "event_reaction_added.json", "event_message.json",
		"event_message_changed.json", "event_message_deleted.json", "event_member_joined_channel.json",
	} {
		r.deliverThrice(slackFixture(t, name))
	}
	// An event type Ooda never subscribed to is acknowledged too, or
	// Slack would keep retrying it.
	r.deliverThrice(slackJSON(t, "event_message.json", map[string]any{"event.type": "ooda_unheard_of"}))
	require.Equal(t, before, r.recorded())
	require.Equal(t, float64(0), requestCount(t, r, kindEvent, outcomeOK))
	require.Equal(t, float64(21), requestCount(t, r, kindEvent, outcomeIgnored))
}

func TestSlackEventFailureAsksForRedelivery(t *testing.T) {
	r := newSlackRig(t, func(c *SlackConfig) { c.Transcript = failingTranscript{} })
	r.declare("Checkout down", "C123ABC456")
	rec := r.post("/slack/events", slackFixture(t, "event_message.json"))
	require.Equal(t, http.StatusInternalServerError, rec.Code, "Slack delivers it again")
}

type failingTranscript struct{}

func (failingTranscript) RecordMessage(context.Context, uint64, storage.MessageChange) (bool, error) {
	return false, context.DeadlineExceeded
}

func (failingTranscript) TranscriptMessageAt(context.Context, uint64, string) (storage.TranscriptMessage, bool, error) {
	return storage.TranscriptMessage{}, false, nil
}
