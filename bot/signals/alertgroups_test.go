package signals

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// The fixtures of one Alertmanager group, HighErrorRate on checkout, as
// Alertmanager 0.25 sent them (times moved to the rig's morning): it fires
// on two instances, grows to three, shrinks when checkout-1 resolves, is
// sent again under another group key after a group_by change, and
// resolves. group_other_route.json is group_grown.json as a second route
// (continue: true) sends it.
const (
	groupFiring     = "group_firing.json"
	groupGrown      = "group_grown.json"
	groupShrunk     = "group_shrunk.json"
	groupRegrouped  = "group_regrouped.json"
	groupResolved   = "group_resolved.json"
	groupOtherRoute = "group_other_route.json"
)

// topLevel are the channel's messages that are not thread replies.
func (r *alertsRig) topLevel() []slacktest.Message {
	var out []slacktest.Message
	for _, m := range r.slack.Messages(r.channel) {
		if m.Thread == "" {
			out = append(out, m)
		}
	}
	return out
}

// replies are the replies in the thread of ts.
func (r *alertsRig) replies(ts string) []slacktest.Message {
	var out []slacktest.Message
	for _, m := range r.slack.Messages(r.channel) {
		if m.Thread == ts {
			out = append(out, m)
		}
	}
	return out
}

// groupMessage is the one top-level message of the channel.
func (r *alertsRig) groupMessage() slacktest.Message {
	r.t.Helper()
	msgs := r.topLevel()
	require.Len(r.t, msgs, 1, "one message for the group")
	return msgs[0]
}

// requireNoDuplicatePosts fails when two messages carry one key.
func (r *alertsRig) requireNoDuplicatePosts() {
	r.t.Helper()
	dupes, keys := duplicateKeys(r.slack)
	require.Zero(r.t, dupes, "posted twice: %v", keys)
}

// markedIDs are the alert ids a group message's metadata lists as field.
func markedIDs(m slacktest.Message, field string) []string {
	s, _ := m.MetadataPayload[field].(string)
	return strings.Fields(s)
}

func TestAlertGroupOneMessageKeptCurrent(t *testing.T) {
	r := newAlertsRig(t)

	require.Equal(t, AlertsReply{OK: true, Queued: 2}, r.fixture(groupFiring))
	r.waitSignals(signalPosted, 1)
	msg := r.groupMessage()
	text := blocksText(msg)
	require.Equal(t, "Alerts firing: HighErrorRate, 2 firing (service checkout): instance=checkout-1:8080; instance=checkout-2:8080", msg.Text)
	require.Contains(t, text, "*Alerts firing: HighErrorRate* · 2 firing · service `checkout` · severity critical")
	require.Contains(t, text, "`instance=checkout-1:8080` since 09:50 UTC")
	require.Contains(t, text, "No open incident for `checkout` · firing since 09:50 UTC · \\u003chttp://prometheus.example:9090/graph?g0.expr=up|Source\\u003e · `service=checkout severity=critical`")
	require.Equal(t, []messageButton{{ActionID: blockkit.ActionDeclareFromSignal, Value: "checkout", BlockID: signalBlockPrefix + "alert:checkout: HighErrorRate firing (2 alerts)"}},
		messageButtons(t, msg), "the Declare button declares from the group")
	require.Len(t, markedIDs(msg, metaFiring), 2)

	// Three instances: the same message, updated.
	require.Equal(t, AlertsReply{OK: true, Queued: 1, Duplicates: 2}, r.fixture(groupGrown))
	r.waitSignals(signalUpdated, 1)
	msg = r.groupMessage()
	require.True(t, msg.Edited)
	require.Contains(t, blocksText(msg), "3 firing")
	require.Contains(t, blocksText(msg), "`instance=checkout-3:8080` since 09:53 UTC")
	require.Len(t, markedIDs(msg, metaFiring), 3)
	require.Empty(t, r.replies(msg.TS), "alerts joining are not news in the thread")

	// checkout-1 resolves: the message shows it, and its thread says so.
	require.Equal(t, AlertsReply{OK: true, Queued: 1, Duplicates: 2}, r.fixture(groupShrunk))
	r.waitSignals(signalUpdated, 2)
	msg = r.groupMessage()
	require.Contains(t, blocksText(msg), "2 firing, 1 resolved")
	require.Contains(t, blocksText(msg), ":white_check_mark: `instance=checkout-1:8080` fired 09:50–09:57 UTC")
	require.Len(t, markedIDs(msg, metaFiring), 2)
	require.Len(t, markedIDs(msg, metaResolved), 1)
	replies := r.replies(msg.TS)
	require.Len(t, replies, 1)
	require.Equal(t, "Resolved: HighErrorRate instance=checkout-1:8080 (fired 09:50–09:57 UTC).", replies[0].Text)

	// The rest resolves: the message says the group is over, without a
	// button, and the thread has the last word.
	require.Equal(t, AlertsReply{OK: true, Queued: 2}, r.fixture(groupResolved))
	r.waitSignals(signalUpdated, 3)
	msg = r.groupMessage()
	require.Equal(t, "Resolved: HighErrorRate (service checkout)", msg.Text)
	require.Contains(t, blocksText(msg), "*Resolved: HighErrorRate* · all 3 alerts")
	require.Contains(t, blocksText(msg), "Every alert of this group has resolved")
	require.Empty(t, messageButtons(t, msg))
	replies = r.replies(msg.TS)
	require.Len(t, replies, 2)
	require.Equal(t, "All alerts of HighErrorRate resolved.", replies[1].Text)
	require.Contains(t, blocksText(replies[1]), "`instance=checkout-2:8080` fired 09:51–10:12 UTC")

	// Every notification again: nothing new, no call to Slack.
	calls := len(r.slack.Calls())
	for _, f := range []string{groupFiring, groupGrown, groupShrunk, groupResolved} {
		reply := r.fixture(f)
		require.Zero(t, reply.Queued, f)
	}
	require.Len(t, r.slack.Calls(), calls)
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 3, "the group's message and two replies")
	r.requireNoDuplicatePosts()
}

func TestAlertGroupSameAlertUnderTwoGroupKeys(t *testing.T) {
	r := newAlertsRig(t)
	r.fixture(groupGrown)
	r.waitSignals(signalPosted, 1)
	first := r.groupMessage()

	// A second route (continue: true) sends the same alerts under its own
	// group key: they are shown already.
	require.Equal(t, AlertsReply{OK: true, Duplicates: 3}, r.fixture(groupOtherRoute))

	// A group_by change: the group key changes, the still-firing alerts
	// are not shown again, and checkout-1's resolution, arriving in the
	// new group, goes where its firing is.
	require.Equal(t, AlertsReply{OK: true, Queued: 1, Duplicates: 2}, r.fixture(groupRegrouped))
	r.waitSignals(signalUpdated, 1)
	msg := r.groupMessage()
	require.Equal(t, first.TS, msg.TS)
	require.Contains(t, blocksText(msg), "2 firing, 1 resolved")
	require.Len(t, r.replies(msg.TS), 1)
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 2, "the group's message and the resolution")

	// A restarted receiver knows nothing but what the channel's metadata
	// says: the regrouped alerts are still not shown again.
	r.restart()
	require.Equal(t, AlertsReply{OK: true, Queued: 3}, r.fixture(groupRegrouped))
	r.waitSignals(signalFound, 1)
	require.Equal(t, AlertsReply{OK: true, Duplicates: 3}, r.fixture(groupOtherRoute))
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 2)
	require.Len(t, r.topLevel(), 1)
	r.requireNoDuplicatePosts()
}

func TestAlertGroupAfterRestart(t *testing.T) {
	r := newAlertsRig(t)
	r.fixture(groupFiring)
	r.waitSignals(signalPosted, 1)

	// The group grows while a new process runs: it finds the message by
	// its metadata and updates it.
	r.restart()
	require.Equal(t, AlertsReply{OK: true, Queued: 3}, r.fixture(groupGrown))
	r.waitSignals(signalUpdated, 1)
	msg := r.groupMessage()
	require.Contains(t, blocksText(msg), "3 firing")
	require.Contains(t, blocksText(msg), "`instance=checkout-1:8080` since 09:50 UTC", "the notification names the alerts the metadata only counted")

	// And resolves, after another restart.
	r.restart()
	r.fixture(groupShrunk)
	r.waitSignals(signalUpdated, 1)
	require.Len(t, r.replies(r.groupMessage().TS), 1)
	require.Len(t, r.slack.CallsTo("chat.postMessage"), 2)
	r.requireNoDuplicatePosts()
}

// TestAlertGroupExactlyOnceUnderFaults holds the group's message to what
// every post of Ooda's is held to: Slack failing, or answering into the
// void, never makes it twice, nor leaves it behind.
func TestAlertGroupExactlyOnceUnderFaults(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		fault   slacktest.Fault
		before  string // a fixture shown before the fault
		outcome string
	}{
		{name: "post answers 500", method: "chat.postMessage", fault: slacktest.Fault{Kind: slacktest.FaultStatus, Times: 2}, outcome: signalPosted},
		// The retry finds the post by its metadata, and updates it.
		{name: "post lands, answer lost", method: "chat.postMessage", fault: slacktest.Fault{Kind: slacktest.FaultLostResponse}, outcome: signalFound},
		{name: "update answers 500", method: "chat.update", fault: slacktest.Fault{Kind: slacktest.FaultStatus, Times: 2}, before: groupFiring, outcome: signalUpdated},
		{name: "update lands, answer lost", method: "chat.update", fault: slacktest.Fault{Kind: slacktest.FaultLostResponse}, before: groupFiring, outcome: signalUpdated},
		{name: "history answers 500", method: "conversations.history", fault: slacktest.Fault{Kind: slacktest.FaultStatus, Times: 2}, before: groupFiring, outcome: signalUpdated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAlertsRig(t)
			if tt.before != "" {
				r.fixture(tt.before)
				r.waitSignals(signalPosted, 1)
				r.restart() // so the next notification reads the channel back
			}
			r.slack.Fault(tt.method, tt.fault)
			r.fixture(groupGrown)
			r.waitSignals(tt.outcome, 1)
			msg := r.groupMessage()
			require.Contains(t, blocksText(msg), "3 firing")
			require.Len(t, markedIDs(msg, metaFiring), 3)
			r.requireNoDuplicatePosts()
		})
	}

	t.Run("resolution reply lands, answer lost", func(t *testing.T) {
		r := newAlertsRig(t)
		r.fixture(groupGrown)
		r.waitSignals(signalPosted, 1)
		r.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
		r.fixture(groupShrunk)
		r.waitSignals(signalUpdated, 1)
		require.Len(t, r.replies(r.groupMessage().TS), 1)
		r.requireNoDuplicatePosts()
	})

	// The post lands, its answer is lost and every lookup fails until the
	// attempt gives up; Alertmanager's next notification, to a restarted
	// process, finds the message instead of posting it again.
	t.Run("post lands, attempt gives up", func(t *testing.T) {
		r := newAlertsRig(t)
		// The first two lookups (the channel read back, the post's own
		// check) answer; every one after the lost post fails.
		r.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
		r.slack.Fault("conversations.history", slacktest.Fault{Kind: slacktest.FaultDelay, Times: 2})
		r.slack.Fault("conversations.history", slacktest.Fault{Kind: slacktest.FaultStatus, Times: -1})
		r.fixture(groupGrown)
		r.waitSignals(signalFailed, 1)
		require.Len(t, r.topLevel(), 1, "the post landed")

		r.slack.ClearFaults()
		r.restart()
		require.Equal(t, AlertsReply{OK: true, Queued: 3}, r.fixture(groupGrown))
		r.waitSignals(signalFound, 1)
		require.Len(t, r.slack.CallsTo("chat.postMessage"), 1)
		r.requireNoDuplicatePosts()
	})
}

func TestAlertGroupInIncidentOneEntryPerChange(t *testing.T) {
	r := newAlertsRig(t)
	inc := r.declare("checkout")

	require.Equal(t, AlertsReply{OK: true, Observed: 2}, r.fixture(groupFiring))
	got := entries(t, r.db, inc.Number, timeline.SourceAlert)
	require.Len(t, got, 1, "one entry for the group's two alerts")
	require.Equal(t, "Alerts of HighErrorRate (severity critical, service checkout): 5xx ratio above 5% on checkout — 2 firing: instance=checkout-1:8080 since 09:50 UTC; instance=checkout-2:8080 since 09:51 UTC", got[0].Text)
	require.Equal(t, timeline.PhaseObserve, got[0].Phase)

	steps := []struct {
		fixture string
		reply   AlertsReply
		text    string // of the entry it adds, "" for none
	}{
		{groupGrown, AlertsReply{OK: true, Observed: 1, Duplicates: 2}, "Alert firing: HighErrorRate (severity critical, service checkout): 5xx ratio above 5% on checkout — since 09:53 UTC — http://prometheus.example:9090/graph?g0.expr=up"},
		{groupGrown, AlertsReply{OK: true, Duplicates: 3}, ""},
		{groupOtherRoute, AlertsReply{OK: true, Duplicates: 3}, ""},
		{groupShrunk, AlertsReply{OK: true, Observed: 1, Duplicates: 2}, "resolved: HighErrorRate (severity critical, service checkout) — fired 09:50–09:57 UTC"},
		{groupRegrouped, AlertsReply{OK: true, Duplicates: 3}, ""},
		{groupResolved, AlertsReply{OK: true, Observed: 2}, "Alerts of HighErrorRate (severity critical, service checkout) — 2 resolved: instance=checkout-2:8080 fired 09:51–10:12 UTC; instance=checkout-3:8080 fired 09:53–10:12 UTC"},
	}
	for _, s := range steps {
		before := len(entries(t, r.db, inc.Number, timeline.SourceAlert))
		require.Equal(t, s.reply, r.fixture(s.fixture), s.fixture)
		got := entries(t, r.db, inc.Number, timeline.SourceAlert)
		if s.text == "" {
			require.Len(t, got, before, s.fixture)
			continue
		}
		require.Len(t, got, before+1, s.fixture)
		require.Equal(t, s.text, got[len(got)-1].Text, s.fixture)
	}
	// Resolutions may read the channel back, for a message that shows
	// their firing; nothing is posted.
	require.Empty(t, r.slack.CallsTo("chat.postMessage"), "an incident's alerts are not triage signals")
	require.Empty(t, r.slack.CallsTo("chat.update"))
}

func TestAlertGroupLargeStaysWithinSlackLimits(t *testing.T) {
	r := newAlertsRig(t)
	var msg AlertmanagerWebhook
	require.NoError(t, json.Unmarshal(alertFixture(t, groupFiring), &msg))
	proto := msg.Alerts[0]
	msg.Alerts = nil
	for i := range 40 {
		al := proto
		al.Labels = map[string]string{"alertname": "HighErrorRate", "service": "checkout", "severity": "critical",
			"instance": fmt.Sprintf("checkout-%d:8080", i), "pod": strings.Repeat("p", 300)}
		al.Fingerprint = fmt.Sprintf("%016x", i)
		al.StartsAt = proto.StartsAt.Add(time.Duration(i) * time.Second)
		msg.Alerts = append(msg.Alerts, al)
	}
	body, err := json.Marshal(msg)
	require.NoError(t, err)
	require.Equal(t, 200, r.post(body).Code)
	r.waitSignals(signalPosted, 1)

	m := r.groupMessage()
	text := blocksText(m)
	require.Contains(t, text, "40 firing")
	require.Contains(t, text, "…and 32 more")
	require.Len(t, markedIDs(m, metaFiring), 40)
	requireWithinLimits(t, m)
}

// requireWithinLimits checks a message against Slack's documented limits:
// 50 blocks, 3,000 characters of section or context text, 255 of a block
// id, and the 4,000 characters Ooda keeps its fallback text to.
func requireWithinLimits(t *testing.T, m slacktest.Message) {
	t.Helper()
	require.LessOrEqual(t, utf8.RuneCountInString(m.Text), 4000)
	var blocks []struct {
		Type     string                 `json:"type"`
		BlockID  string                 `json:"block_id"`
		Text     *struct{ Text string } `json:"text"`
		Elements []struct {
			Text json.RawMessage `json:"text"` // a string, or a button's text object
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal(m.Blocks, &blocks))
	require.LessOrEqual(t, len(blocks), 50)
	for _, b := range blocks {
		require.LessOrEqual(t, utf8.RuneCountInString(b.BlockID), 255)
		if b.Text != nil {
			require.LessOrEqual(t, utf8.RuneCountInString(b.Text.Text), 3000, b.Type)
			require.NotContains(t, b.Text.Text, "…\n", "a line is clipped, not the list")
		}
		for _, e := range b.Elements {
			var s string
			if json.Unmarshal(e.Text, &s) == nil {
				require.LessOrEqual(t, utf8.RuneCountInString(s), 3000, b.Type)
			}
		}
	}
}

func TestAlertGroupButtonGivesWayToAnOpenIncident(t *testing.T) {
	r := newAlertsRig(t)
	r.fixture(groupFiring)
	r.waitSignals(signalPosted, 1)

	// Someone declares for checkout, not from the button: the next change
	// goes to the incident, with the alerts it has not seen, and the
	// message points there instead of offering a second declaration.
	inc := r.declare("checkout")
	require.Equal(t, AlertsReply{OK: true, Observed: 3}, r.fixture(groupShrunk))
	r.waitSignals(signalUpdated, 1)
	msg := r.groupMessage()
	require.Empty(t, messageButtons(t, msg))
	require.Contains(t, blocksText(msg), "Open for `checkout`: "+inc.ID)
	require.Len(t, r.replies(msg.TS), 1, "the resolution is still threaded under the message that showed it firing")
}

func TestAlertIDIgnoresTheGroup(t *testing.T) {
	var a, b AlertmanagerWebhook
	require.NoError(t, json.Unmarshal(alertFixture(t, groupGrown), &a))
	require.NoError(t, json.Unmarshal(alertFixture(t, groupRegrouped), &b))
	require.NotEqual(t, a.GroupKey, b.GroupKey)
	for i := range a.Alerts {
		require.Equal(t, alertID(a.Alerts[i]), alertID(b.Alerts[i]), "same fingerprint and start")
	}
	restarted := a.Alerts[0]
	restarted.StartsAt = restarted.StartsAt.Add(time.Hour)
	require.NotEqual(t, alertID(a.Alerts[0]), alertID(restarted), "a new firing of the same alert is another")
	unprinted := a.Alerts[0]
	unprinted.Fingerprint = ""
	require.Equal(t, alertID(a.Alerts[0]), alertID(unprinted), "a fingerprint is computed from the labels as Alertmanager does")
}

func TestAlertGroupDeclaredFromItsMessage(t *testing.T) {
	r := newAlertsRig(t)
	r.fixture(groupFiring)
	r.waitSignals(signalPosted, 1)
	msg := r.groupMessage()

	// The button declares under the message's key (the form suggests the
	// group's title and service; the bot records the message's text).
	key := blockkit.SignalKey(r.channel, msg.TS)
	m := incident.Meta{At: time.Now(), Actor: alice, Source: timeline.SourceCommand, Key: key}
	res, err := r.db.Declare(t.Context(), key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: blockkit.SignalTitle(messageButtons(t, msg)[0].BlockID, "checkout"), Severity: 2, Service: "checkout"}, m)
	})
	require.NoError(t, err)
	inc := res.Incident
	require.Equal(t, "checkout: HighErrorRate firing (2 alerts)", inc.Title)

	// What the message showed is the incident's starting point: the next
	// notification adds only what changed since.
	require.Equal(t, AlertsReply{OK: true, Observed: 2, Duplicates: 1}, r.fixture(groupShrunk))
	got := entries(t, r.db, inc.Number, timeline.SourceAlert)
	require.Len(t, got, 1)
	require.Equal(t, "Alerts of HighErrorRate (severity critical, service checkout): 5xx ratio above 5% on checkout — 1 firing: instance=checkout-3:8080 since 09:53 UTC — 1 resolved: instance=checkout-1:8080 fired 09:50–09:57 UTC", got[0].Text)
}

// TestAlertGroupSlackDownLongerThanOneAttempt: the webhook was answered,
// Alertmanager sends nothing more, and Slack is down for several
// attempts; once it is back, the message shows the shrink and its thread
// the resolution.
func TestAlertGroupSlackDownLongerThanOneAttempt(t *testing.T) {
	r := newAlertsRig(t)
	r.retryAfter = time.Millisecond
	r.restart()
	r.fixture(groupGrown)
	r.waitSignals(signalPosted, 1)

	r.slack.SetDown(true)
	r.fixture(groupShrunk)
	require.Eventually(t, func() bool {
		return executorMetric(t, r.reg, "ooda_alert_signals_total", map[string]string{"outcome": signalFailed}) >= 3
	}, 10*time.Second, time.Millisecond, "attempts while Slack is down")
	r.slack.SetDown(false)

	r.waitSignals(signalUpdated, 1)
	msg := r.groupMessage()
	require.Contains(t, blocksText(msg), "2 firing")
	require.Len(t, markedIDs(msg, metaResolved), 1)
	require.Len(t, r.replies(msg.TS), 1, "the resolution is replied in the thread")
	r.requireNoDuplicatePosts()
}

// TestAlertGroupTwoReplicas: two replicas share the store and Slack, and
// Alertmanager's notifications reach either. Only the leader's Run posts;
// the other asks Alertmanager to send the triage alerts again, so the
// group has one message.
func TestAlertGroupTwoReplicas(t *testing.T) {
	leader := newAlertsRig(t)
	follower := &alertsRig{t: t, db: leader.db, slack: leader.slack, channel: leader.channel, guard: leader.guard, retryAfter: time.Hour}
	var err error
	follower.reg = prometheus.NewRegistry()
	follower.receiver, err = NewAlertReceiver(AlertsConfig{
		Store: follower.db, Slack: slackapi.NewSlackClient(fakeSlackToken, follower.slack.URL(), follower.guard), Guard: follower.guard,
		Channel: follower.channel, Registerer: follower.reg,
	})
	require.NoError(t, err)
	t.Cleanup(follower.receiver.Close)
	follower.server, err = api.NewServer(api.ServerConfig{Store: follower.db, APIToken: alertsTestToken, Alerts: follower.receiver})
	require.NoError(t, err)

	rec := follower.post(alertFixture(t, groupFiring))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, "the follower does not post: %s", rec.Body.String())
	require.Equal(t, "60", rec.Header().Get("Retry-After"))
	require.Equal(t, AlertsReply{OK: true, Queued: 2}, leader.fixture(groupFiring), "Alertmanager's retry reaches the leader")
	leader.waitSignals(signalPosted, 1)
	require.Equal(t, http.StatusServiceUnavailable, follower.post(alertFixture(t, groupGrown)).Code)
	require.Equal(t, AlertsReply{OK: true, Queued: 1, Duplicates: 2}, leader.fixture(groupGrown))
	leader.waitSignals(signalUpdated, 1)

	require.Contains(t, blocksText(leader.groupMessage()), "3 firing")
	require.Len(t, leader.slack.CallsTo("chat.postMessage"), 1)
	leader.requireNoDuplicatePosts()
}

// TestAlertGroupIncidentAfterRestart: a group's message was posted, an
// incident of its service declared, and the process restarted. The
// message is read back from the channel: a resolution still reaches it,
// and an incident declared from it records only what it did not show.
func TestAlertGroupIncidentAfterRestart(t *testing.T) {
	tests := []struct {
		name        string
		fromMessage bool
		reply       AlertsReply
	}{
		{name: "declared from its message", fromMessage: true, reply: AlertsReply{OK: true, Observed: 2, Duplicates: 1}},
		{name: "declared by command", reply: AlertsReply{OK: true, Observed: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAlertsRig(t)
			r.fixture(groupFiring)
			r.waitSignals(signalPosted, 1)
			msg := r.groupMessage()
			if tt.fromMessage {
				key := blockkit.SignalKey(r.channel, msg.TS)
				m := incident.Meta{At: time.Now(), Actor: alice, Source: timeline.SourceCommand, Key: key}
				_, err := r.db.Declare(t.Context(), key, func(n uint64) (incident.Change, error) {
					return incident.Declare(n, incident.Declaration{Title: "checkout errors", Severity: 2, Service: "checkout"}, m)
				})
				require.NoError(t, err)
			} else {
				r.declare("checkout")
			}

			r.restart()
			require.Equal(t, tt.reply, r.fixture(groupShrunk))
			r.waitSignals(signalUpdated, 1)
			msg = r.groupMessage()
			require.Len(t, markedIDs(msg, metaResolved), 1, "the message shows the resolution")
			require.Len(t, r.replies(msg.TS), 1, "and its thread says so")
			r.requireNoDuplicatePosts()
		})
	}
}

// TestAlertBookForgetsStaleMessages: a message no notification touched
// for staleRetention is forgotten even with alerts firing (Alertmanager
// forgot them); one touched by a standing group's repeats is kept.
func TestAlertBookForgetsStaleMessages(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	firing := func(fp string) groupAlert {
		al := AlertmanagerAlert{Status: AlertFiring, Labels: map[string]string{"alertname": "HighErrorRate", "instance": fp}, Fingerprint: fp, StartsAt: t0}
		return groupAlert{alert: al, id: alertID(al)}
	}
	b := newAlertBook()
	for _, fp := range []string{"forgotten", "standing"} {
		m := newGroupMessage("group-" + fp)
		m.key, m.ts = "alertgroup:"+fp, fp
		m.set(firing(fp))
		b.put(m, t0)
	}
	for day := 1; day <= 8; day++ {
		b.touch([]groupAlert{firing("standing")}, t0.Add(time.Duration(day)*24*time.Hour))
	}
	b.put(&groupMessage{key: "other", group: "other", shown: map[string]*shownAlert{}}, t0.Add(8*24*time.Hour))

	require.False(t, b.known(firing("forgotten")), "untouched for a week: forgotten")
	require.True(t, b.known(firing("standing")), "touched by the group's repeats: kept")
}

// TestAlertGroupVanishedAlertResolves: Alertmanager sends a group whole,
// so an alert its message shows firing that a later notification of the
// group lacks has resolved (its resolution was not sent, or was flushed).
// A notification missing alerts for want of room (max_alerts) says
// nothing of them.
func TestAlertGroupVanishedAlertResolves(t *testing.T) {
	without := func(t *testing.T, truncated int) []byte {
		var msg AlertmanagerWebhook
		require.NoError(t, json.Unmarshal(alertFixture(t, groupGrown), &msg))
		msg.Alerts = msg.Alerts[1:]
		msg.TruncatedAlerts = truncated
		b, err := json.Marshal(msg)
		require.NoError(t, err)
		return b
	}
	reply := func(t *testing.T, rec *httptest.ResponseRecorder) AlertsReply {
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		var got AlertsReply
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		return got
	}
	r := newAlertsRig(t)
	r.fixture(groupGrown)
	r.waitSignals(signalPosted, 1)

	queued := func() int {
		r.receiver.mu.Lock()
		defer r.receiver.mu.Unlock()
		return len(r.receiver.seen)
	}
	require.Equal(t, AlertsReply{OK: true, Duplicates: 2}, reply(t, r.post(without(t, 1))))
	require.Equal(t, 1, queued(), "truncated: nothing to show")
	require.Equal(t, AlertsReply{OK: true, Duplicates: 2}, reply(t, r.post(without(t, 0))))
	r.waitSignals(signalUpdated, 1)
	msg := r.groupMessage()
	require.Len(t, markedIDs(msg, metaFiring), 2)
	require.Len(t, markedIDs(msg, metaResolved), 1)
	require.Contains(t, blocksText(msg), "2 firing")
	require.Len(t, r.replies(msg.TS), 1, "the thread says it resolved")
	r.requireNoDuplicatePosts()
}
