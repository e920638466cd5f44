package executor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// declaredFrom records that incident n was declared from the message ts in
// channel, as the shortcut's form submission does.
func (h *harness) declaredFrom(n uint64, channel, ts string) string {
	h.t.Helper()
	res := h.apply(n, incident.Bot, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.DeclaredFromMessage(incident.SourceMessage{Channel: channel, TS: ts, Text: "Message from <@" + bob + "> in <#" + channel + ">: “checkout 500s”"}, m)
	})
	for _, fx := range res.Effects {
		if fx.Kind == incident.EffectThreadReply {
			return fx.Key
		}
	}
	h.t.Fatal("no thread reply queued")
	return ""
}

// TestThreadReplyOnTheDeclaringMessage: the reply to the message an
// incident was declared from is posted once, in its thread, once the
// incident channel exists, whatever Slack does to the call; it names a
// private incident nowhere outside it.
func TestThreadReplyOnTheDeclaringMessage(t *testing.T) {
	// passThrough lets the first call (the observation's line in the
	// incident channel) through, so the next fault meets the reply.
	passThrough := slacktest.Fault{Kind: slacktest.FaultDelay}
	tests := []struct {
		name    string
		private bool
		faults  []slacktest.Fault
		posts   int // calls to chat.postMessage in the message's channel
		replies int // calls to conversations.replies, which reconcile
	}{
		{name: "public", posts: 1},
		{name: "private", private: true, posts: 1},
		{name: "500 then ok", faults: []slacktest.Fault{passThrough, {Kind: slacktest.FaultStatus, Status: 500}}, posts: 2, replies: 1},
		{name: "lost response", faults: []slacktest.Fault{passThrough, {Kind: slacktest.FaultLostResponse}}, posts: 1, replies: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			general := h.slack.CreateChannel("general", false)
			ts := h.slack.PostAs(general, bob, "checkout 500s")
			inc := h.declare("Payroll export leaks salaries", tt.private)
			h.drainAll(h.exec)
			for _, f := range tt.faults {
				h.slack.Fault("chat.postMessage", f)
			}
			key := h.declaredFrom(inc.Number, general, ts)
			h.drainAll(h.exec)
			// A later pass, as after a restart, posts nothing more.
			h.drainAll(h.newExecutor(h.db, harnessConfig{}))

			var replies []slacktest.Message
			for _, m := range h.slack.Messages(general) {
				if m.Thread == ts {
					replies = append(replies, m)
				}
			}
			require.Len(t, replies, 1, "one reply, in the message's thread")
			require.Equal(t, key, messageKey(replies[0]))
			after := h.incident(inc.Number)
			if tt.private {
				require.Equal(t, "An incident was declared from this message; its channel is private.", replies[0].Text)
				require.NotContains(t, string(replies[0].Blocks), "Payroll")
			} else {
				require.Equal(t, "Declared as *INC-1* (SEV2) “Payroll export leaks salaries”: follow it in <#"+after.ChannelID+">.", replies[0].Text)
			}
			var posts int
			for _, c := range h.slack.CallsTo("chat.postMessage") {
				if c.Args["channel"] == general {
					posts++
					require.Equal(t, ts, c.Args["thread_ts"])
				}
			}
			require.Equal(t, tt.posts, posts)
			require.Len(t, h.slack.CallsTo("conversations.replies"), tt.replies, "the thread is read only after a doubt")
			out, ok, err := h.db.EffectResult(h.ctx, key)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, replies[0].TS, out.Result["ts"])
			require.Empty(t, eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed))
		})
	}
}

// TestThreadReplyWhereOodaCannotPost: a message in a private channel Ooda
// was not invited to cannot be answered; the reply fails for good, once,
// and the incident's timeline says so.
func TestThreadReplyWhereOodaCannotPost(t *testing.T) {
	h := newHarness(t)
	secret := h.slack.CreateChannel("secret", true)
	ts := h.slack.PostAs(secret, bob, "checkout 500s")
	require.True(t, h.slack.Leave(secret, "U0BOT000001"))
	inc := h.declare("Checkout is down", false)
	key := h.declaredFrom(inc.Number, secret, ts)
	h.drainAll(h.exec)
	h.drainAll(h.exec)

	require.Len(t, h.slack.Messages(secret), 1, "only the person's message")
	var tried int
	for _, c := range h.slack.CallsTo("chat.postMessage") {
		if c.Args["channel"] == secret {
			tried++
		}
	}
	require.Equal(t, 1, tried, "not retried")
	failed := eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed)
	require.Len(t, failed, 1)
	require.Equal(t, key, failed[0].Attr(timeline.AttrEffect))
	require.Equal(t, "not_in_channel", failed[0].Attr(timeline.AttrError))
	require.Contains(t, failed[0].Text, "reply in the thread of the message the incident was declared from")
	require.Zero(t, h.depth())
}
