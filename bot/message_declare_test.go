package bot

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/executor"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/timeline"
)

// The people of the shortcut's fixture (testdata/slack/message_action.json).
const (
	shortcutUser   = "UA8RXUSPL"   // who used the shortcut
	shortcutAuthor = "U0CAROL0001" // who wrote the message
)

// shortcutTransport sends an interaction payload to the handler the way
// one of Slack's transports does and returns the acknowledgement's body.
type shortcutTransport struct {
	name string
	// start connects the transport to r; send delivers one payload.
	start func(t *testing.T, r *slackRig) func(payload []byte) []byte
}

var shortcutTransports = []shortcutTransport{
	{name: "HTTP", start: func(t *testing.T, r *slackRig) func([]byte) []byte {
		return func(payload []byte) []byte {
			rec := r.post("/slack/interactivity", interactionBody(payload))
			require.Equal(t, http.StatusOK, rec.Code, "never a 500, nor a 400: %s", rec.Body.String())
			return rec.Body.Bytes()
		}
	}},
	{name: "Socket Mode", start: func(t *testing.T, r *slackRig) func([]byte) []byte {
		sock := newSocketSide(t)
		startSocketMode(t, sock.URL(), r.h)
		link := sock.link(0)
		i := 0
		return func(payload []byte) []byte {
			i++
			ack := sock.envelope(link, "env-shortcut-"+string(rune('a'+i)), "interactive", payload)
			if ack.Payload == nil {
				return nil
			}
			return ack.Payload.(json.RawMessage)
		}
	}},
}

// shortcutPayload is the fixture, on the message ts in channel.
func shortcutPayload(t testing.TB, channel, ts, responseURL string, set map[string]any) []byte {
	t.Helper()
	fields := map[string]any{
		"channel.id": channel, "message_ts": ts, "message.ts": ts, "response_url": responseURL,
	}
	for k, v := range set {
		fields[k] = v
	}
	return slackJSON(t, "message_action.json", fields)
}

// shortcutWorkspace is a fake Slack whose workspace is the fixture's,
// with the fixture's message posted in #general. Its permalinks are on
// example-corp.slack.com, not on the fixture's domain, so a test tells
// Slack's link from the one Ooda makes without Slack.
func shortcutWorkspace(t testing.TB) (*slacktest.Server, string, string, string) {
	t.Helper()
	fake := slacktest.New(slacktest.WithTeam("T9TK3CUKW", "Example Corp"))
	t.Cleanup(fake.Close)
	fake.AddUser(shortcutUser, "jtorrance")
	fake.AddUser(shortcutAuthor, "carol")
	var doc struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	require.NoError(t, json.Unmarshal(slackFixture(t, "message_action.json"), &doc))
	general := fake.CreateChannel("general", false)
	ts := fake.PostAs(general, shortcutAuthor, doc.Message.Text)
	return fake, general, ts, doc.Message.Text
}

// openedForm is what the test reads of a form the shortcut opened.
type openedForm struct {
	view    slacktest.View
	initial map[string]string // block id → initial value or option
	meta    messageForm
}

func waitForForm(t testing.TB, fake *slacktest.Server, n int) openedForm {
	t.Helper()
	var views []slacktest.View
	require.Eventually(t, func() bool {
		views = fake.Views()
		return len(views) >= n
	}, 10*time.Second, time.Millisecond, "views.open was called")
	v := views[n-1]
	var view struct {
		CallbackID string `json:"callback_id"`
		Blocks     []struct {
			BlockID string `json:"block_id"`
			Element struct {
				InitialValue   string                   `json:"initial_value"`
				InitialOption  struct{ Value string }   `json:"initial_option"`
				InitialOptions []struct{ Value string } `json:"initial_options"`
			} `json:"element"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(v.JSON, &view))
	require.Equal(t, declareMessageCallbackID, view.CallbackID)
	out := openedForm{view: v, initial: map[string]string{}}
	for _, b := range view.Blocks {
		val := b.Element.InitialValue + b.Element.InitialOption.Value
		for _, o := range b.Element.InitialOptions {
			val += o.Value
		}
		out.initial[b.BlockID] = val
	}
	require.LessOrEqual(t, utf8.RuneCountInString(v.PrivateMetadata), maxPrivateMetadata)
	require.NoError(t, json.Unmarshal([]byte(v.PrivateMetadata), &out.meta))
	return out
}

// submitForm is the view_submission of form with title, private or not.
func submitForm(t testing.TB, form openedForm, title string, private bool) []byte {
	t.Helper()
	var opts []any
	if private {
		opts = []any{map[string]any{"value": "private", "text": map[string]any{"type": "plain_text", "text": "Private"}}}
	}
	return slackJSON(t, "view_submission.json", map[string]any{
		"view.id":                             form.view.ID,
		"view.callback_id":                    declareMessageCallbackID,
		"view.private_metadata":               form.view.PrivateMetadata,
		"view.state.values.title.title.value": title,
		"view.state.values.private.private.selected_options": opts,
		"view.state.values.description.description.value":    "",
		"view.state.values.service.service.value":            "",
	})
}

// drainOutbox performs every queued effect against fake, as the app's
// executor does, until none is left.
func drainOutbox(t *testing.T, r *slackRig, fake *slacktest.Server) {
	t.Helper()
	reg := prometheus.NewRegistry()
	guard := slackapitest.NewGuard(t, slackapitest.Policy(), reg)
	e, err := executor.New(executor.Config{
		Store: r.db, Outbox: r.db, Slack: slackapi.NewSlackClient("xoxb-test-token", fake.URL(), guard), Guard: guard, Registerer: reg,
	})
	require.NoError(t, err)
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := e.Drain(t.Context())
		require.NoError(t, err)
		depth, _, err := r.db.OutboxStats(t.Context())
		require.NoError(t, err)
		if depth == 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the outbox still holds %d effects", depth)
	}
}

// settle waits until Slack answered n permalink lookups, then closes the
// handler, which waits for what they record.
func settle(t testing.TB, r *slackRig, fake *slacktest.Server, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		answered := 0
		for _, c := range fake.CallsTo("chat.getPermalink") {
			if c.Status != 0 {
				answered++
			}
		}
		// Answered by the fake is not yet read by the handler: closing
		// it now would cancel a call that succeeded, and the fallback
		// link would be recorded. Wait for the background work too.
		return answered >= n && len(r.h.bgSlots) == 0
	}, 10*time.Second, time.Millisecond, "the permalink is asked for and the message recorded")
	r.h.Close()
}

// observationsOf returns incident n's observations of the message ts.
func observationsOf(r *slackRig, n uint64, ts string) []timeline.Event {
	var out []timeline.Event
	for _, e := range r.events(n, timeline.KindLoopEntry) {
		if e.Attr(timeline.AttrTS) == ts {
			out = append(out, e)
		}
	}
	return out
}

// TestMessageShortcutDeclares: Slack's documented message_action payload,
// signed, over HTTP and Socket Mode, opens the declare form prefilled from
// the message; its submission, twice, declares once, records the message
// as the first observation at the time it was posted, with its author and
// permalink, and the reply in its thread is posted once, naming a private
// incident nowhere.
func TestMessageShortcutDeclares(t *testing.T) {
	for _, tr := range shortcutTransports {
		for _, private := range []bool{false, true} {
			name := tr.name + "/public"
			if private {
				name = tr.name + "/private"
			}
			t.Run(name, func(t *testing.T) {
				fake, general, ts, text := shortcutWorkspace(t)
				r := newSlackRig(t, withFakeSlack(t, fake))
				send := tr.start(t, r)
				ru := newResponseURLs(t)

				require.Empty(t, send(shortcutPayload(t, general, ts, ru.srv.URL, nil)), "the shortcut is acknowledged empty")
				form := waitForForm(t, fake, 1)
				title := "Checkout is returning 500s for <EU> customers since 09:12 — @bob can you look? dashboard"
				require.Equal(t, title, form.initial[declareTitle], "the title is the message's first line, in plain text")
				require.Equal(t, "2", form.initial[declareSeverity])
				require.Empty(t, form.initial[declarePrivate], "public unless the declarer says otherwise")
				require.Equal(t, messageForm{
					Channel: general, TS: ts, Author: shortcutAuthor, Text: text, Domain: "example",
					Key: "slack:msgdeclare:" + general + ":" + ts + ":" + shortcutUser,
				}, form.meta)
				incs, err := r.db.Incidents(t.Context(), true)
				require.NoError(t, err)
				require.Empty(t, incs, "nothing is declared before the form is submitted")

				// Submitted twice (a double click on Declare, a redelivery).
				for range 2 {
					require.Empty(t, send(submitForm(t, form, title, private)), "the form closes")
				}
				settle(t, r, fake, 2)
				incs, err = r.db.Incidents(t.Context(), true)
				require.NoError(t, err)
				require.Len(t, incs, 1, "one declaration however often the form is submitted")
				inc := incs[0]
				require.Equal(t, title, inc.Title)
				require.Equal(t, private, inc.Private)
				require.Equal(t, shortcutUser, inc.Roles.Commander)

				obs := observationsOf(r, inc.Number, ts)
				require.Len(t, obs, 1, "the message is recorded once")
				require.Equal(t, timeline.PhaseObserve, obs[0].Phase)
				require.Equal(t, slackTime(ts, time.Time{}), obs[0].At, "at the time the message was posted")
				require.False(t, obs[0].At.After(inc.DeclaredAt))
				require.Equal(t, shortcutUser, obs[0].Actor)
				link := "https://example-corp.slack.com/archives/" + general + "/p" + strings.Replace(ts, ".", "", 1)
				require.Equal(t, "Message from <@"+shortcutAuthor+"> in <#"+general+">: “Checkout is returning 500s for <EU> customers since 09:12 — <@U0BOB000001> can you look? dashboard” ("+link+")", obs[0].Text,
					"people stay member IDs, named wherever the entry is shown")

				drainOutbox(t, r, fake)
				var replies []slacktest.Message
				for _, m := range fake.Messages(general) {
					if m.Thread == ts {
						replies = append(replies, m)
					}
				}
				require.Len(t, replies, 1, "one reply, in the message's thread")
				after, err := r.db.Incident(t.Context(), inc.Number)
				require.NoError(t, err)
				require.NotEmpty(t, after.ChannelID)
				if private {
					require.Equal(t, "An incident was declared from this message; its channel is private.", replies[0].Text)
					for _, secret := range []string{"Checkout", "SEV", "INC-1", after.ChannelID} {
						require.NotContains(t, replies[0].Text+string(replies[0].Blocks), secret)
					}
				} else {
					require.Equal(t, "Declared as *INC-1* (SEV2) “Checkout is returning 500s for &lt;EU&gt; customers since 09:12 — @bob can you look? dashboard”: follow it in <#"+after.ChannelID+">.", replies[0].Text)
				}
			})
		}
	}
}

// TestMessageShortcutWhenSlackIsDown: the form cannot be opened; the
// person is told, on the shortcut's response_url, to declare with the
// command, and nothing is declared.
func TestMessageShortcutWhenSlackIsDown(t *testing.T) {
	for _, tr := range shortcutTransports {
		for _, withClient := range []bool{true, false} {
			name := tr.name + "/Slack down"
			if !withClient {
				name = tr.name + "/no Slack client"
			}
			t.Run(name, func(t *testing.T) {
				fake, general, ts, _ := shortcutWorkspace(t)
				var tweaks []func(*SlackConfig)
				if withClient {
					tweaks = append(tweaks, withFakeSlack(t, fake))
				}
				r := newSlackRig(t, tweaks...)
				send := tr.start(t, r)
				ru := newResponseURLs(t)
				fake.SetDown(true)

				require.Empty(t, send(shortcutPayload(t, general, ts, ru.srv.URL, nil)))
				m := ru.next(t)
				require.Equal(t, slack.ResponseTypeEphemeral, m.ResponseType)
				require.Equal(t, "Ooda could not open the declare form: Slack did not answer in time. Declare with the command instead: `/incident declare sev2 Checkout is returning 500s for &lt;EU&gt; customers since 09:12 — @bob can you look? dashboard`", m.Text)
				require.Empty(t, fake.Views())
				require.Equal(t, "0 effects queued", r.recorded())
			})
		}
	}
}

// TestMessageShortcutOddPayloads: another app's shortcut is none of
// Ooda's business; one that names no message is refused; a message
// without words suggests where it was posted; a message longer than the
// form's metadata can hold is clipped to fit; a message Slack will not
// link is linked the way Slack makes its links.
func TestMessageShortcutOddPayloads(t *testing.T) {
	fake, general, ts, _ := shortcutWorkspace(t)
	r := newSlackRig(t, withFakeSlack(t, fake))
	ru := newResponseURLs(t)

	rec := r.post("/slack/interactivity", interactionBody(shortcutPayload(t, general, ts, ru.srv.URL, map[string]any{"callback_id": "someone_elses"})))
	require.Equal(t, http.StatusOK, rec.Code)
	rec = r.post("/slack/interactivity", interactionBody(shortcutPayload(t, "", ts, ru.srv.URL, nil)))
	require.Equal(t, http.StatusBadRequest, rec.Code, "a shortcut on no channel is not Slack's")
	require.Empty(t, fake.Views())

	// Quotes and backslashes take two characters each in the JSON.
	long := strings.Repeat(`"\ `, 2000)
	rec = r.post("/slack/interactivity", interactionBody(shortcutPayload(t, general, "1772445660.000100", ru.srv.URL, map[string]any{
		"message.text": long,
	})))
	require.Equal(t, http.StatusOK, rec.Code)
	form := waitForForm(t, fake, 1)
	require.NotEmpty(t, form.meta.Text)
	require.Less(t, utf8.RuneCountInString(form.meta.Text), maxSignalText, "clipped further than a signal's text, to fit Slack's 3,000 characters")

	rec = r.post("/slack/interactivity", interactionBody(shortcutPayload(t, general, "1772445660.000100", ru.srv.URL, map[string]any{
		"message.text": "<https://grafana.example.com/d/x>",
	})))
	require.Equal(t, http.StatusOK, rec.Code)
	form = waitForForm(t, fake, 2)
	require.Equal(t, "Declared from a message in #general", form.initial[declareTitle])

	// The message is not one the fake holds: chat.getPermalink answers
	// message_not_found, and the link is made as Slack makes it.
	rec = r.post("/slack/interactivity", interactionBody(submitForm(t, form, "Grafana shows checkout red", false)))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Empty(t, rec.Body.String())
	settle(t, r, fake, 1)
	obs := observationsOf(r, 1, "1772445660.000100")
	require.Len(t, obs, 1)
	require.Equal(t, time.Unix(1772445660, 100000).UTC(), obs[0].At)
	require.Equal(t, "Message from <@"+shortcutAuthor+"> in <#"+general+">: “https://grafana.example.com/d/x” (https://example.slack.com/archives/"+general+"/p1772445660000100)", obs[0].Text)
	require.Equal(t, "message_not_found", fake.CallsTo("chat.getPermalink")[0].Err)

	// A refused form stays open with the reason beside the field.
	rec = r.post("/slack/interactivity", interactionBody(submitForm(t, form, "  ", false)))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Contains(t, rec.Body.String(), `"response_action":"errors"`)
	rec = r.post("/slack/interactivity", interactionBody(slackJSON(t, "view_submission.json", map[string]any{
		"view.callback_id": declareMessageCallbackID, "view.private_metadata": "C0GENERAL1",
	})))
	require.Equal(t, http.StatusBadRequest, rec.Code, "a message form without its message is not Ooda's")
}
