package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

func TestNewExecutorRefusesAnIncompleteConfig(t *testing.T) {
	_, err := New(Config{})
	require.ErrorContains(t, err, "no store")
	require.ErrorContains(t, err, "no Slack client")
	require.ErrorContains(t, err, "no guard")
}

func TestExecutorDeclarationHappyPath(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Checkout is down", false)

	done := h.drain()
	require.Equal(t, 5, done, "create, invite, topic, kickoff, announcement")
	require.Zero(t, h.depth())

	chans := channelsFor(h.slack, inc.Number)
	require.Len(t, chans, 1, "exactly one incident channel")
	ch := chans[0]
	require.Equal(t, "inc-1-checkout-is-down", ch.Name)
	require.False(t, ch.Private)
	require.Contains(t, ch.Members, alice, "the declarer is invited")
	require.True(t, strings.HasPrefix(ch.Topic, "Investigating · SEV2 · Commander <@"+alice+"> · Comms — · Ops —"), ch.Topic)

	msgs := h.slack.Messages(ch.ID)
	require.Len(t, msgs, 1, "one kickoff message")
	require.Equal(t, kickoffKey(inc.Number), messageKey(msgs[0]))
	require.Contains(t, msgs[0].Text, "INC-1 declared by <@"+alice+">")

	ann := h.slack.Messages(h.announce)
	require.Len(t, ann, 1, "one announcement")
	require.Equal(t, announceKey(inc.Number), messageKey(ann[0]))
	require.Contains(t, ann[0].Text, "<#"+ch.ID+">", "the announcement links the channel")

	after := h.incident(inc.Number)
	require.Equal(t, ch.ID, after.ChannelID)
	evs := h.events(inc.Number)
	require.Equal(t, timeline.KindChannelCreated, evs[len(evs)-1].Kind)
	require.Equal(t, ch.ID, evs[len(evs)-1].Attr(timeline.AttrChannel))
	n, err := h.db.IncidentByChannel(h.ctx, ch.ID)
	require.NoError(t, err)
	require.Equal(t, inc.Number, n)

	// The kickoff's result is kept under its key, for later effects.
	out, ok, err := h.db.EffectResult(h.ctx, kickoffKey(inc.Number))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]string{"channel": ch.ID, "ts": msgs[0].TS}, out.Result)

	require.Equal(t, 2.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "post", "outcome": "done"}))
	require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "create_channel", "outcome": "done"}))
	require.Equal(t, 0.0, executorMetric(t, h.reg, "ooda_outbox_depth", nil))
	require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_outbound_calls_total", map[string]string{"method": "conversations.create", "outcome": "ok"}),
		"calls go through the guard")
	_, _, down := h.exec.SlackDown()
	require.False(t, down)

	// A second pass finds nothing to do.
	require.Zero(t, h.drain())
	require.Len(t, h.slack.CallsTo("chat.postMessage"), 2)
}

func TestExecutorPrivateIncidentStaysOutOfTheAnnouncementChannel(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Credential leak", true)
	require.Equal(t, 4, h.drain())
	chans := channelsFor(h.slack, inc.Number)
	require.Len(t, chans, 1)
	require.True(t, chans[0].Private)
	require.Empty(t, h.slack.Messages(h.announce))
}

func TestExecutorWithoutAnnounceChannelSkipsAnnouncements(t *testing.T) {
	h := newHarness(t, withoutAnnounce())
	h.declare("One", false)
	h.declare("Two", false)
	require.Equal(t, 10, h.drain())
	require.Equal(t, 2.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "post", "outcome": "skipped"}))
	require.Equal(t, 1, strings.Count(h.logs.String(), "no announcement channel configured"), "logged once")
	require.Len(t, h.slack.CallsTo("chat.postMessage"), 2, "the two kickoffs only")
}

func TestExecutorLaterEffectsFollowTheIncident(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Checkout is down", false)
	h.drain()
	n := inc.Number
	h.assign(n, roles.Ops, bob)
	h.assign(n, roles.Commander, carol) // a handover: a brief, not a line
	h.apply(n, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetStatus(incident.StatusIdentified, m)
	})
	h.apply(n, bob, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.PostUpdate("Payments are failing for 10% of users", m)
	})
	h.apply(n, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("Rolled back <!channel>", m)
	})
	h.drainAll(h.exec)

	ch, ok := h.slack.Channel(h.incident(n).ChannelID)
	require.True(t, ok)
	require.Subset(t, ch.Members, []string{alice, bob, carol})
	require.True(t, strings.HasPrefix(ch.Topic, "Resolved · SEV2 · Commander <@"+carol+"> · Comms — · Ops <@"+bob+">"), ch.Topic)

	msgs := h.slack.Messages(ch.ID)
	texts := make([]string, len(msgs))
	for i, m := range msgs {
		texts[i] = m.Text
	}
	require.Len(t, msgs, 6, "%q", texts)
	require.Contains(t, texts[1], "made <@"+bob+"> Ops")
	require.Contains(t, texts[2], "Handover: <@"+carol+"> is now Commander")
	require.Contains(t, texts[3], "investigating → identified")
	require.Contains(t, texts[4], "Payments are failing")
	require.Contains(t, texts[5], "resolved after")
	require.Contains(t, texts[5], "&lt;!channel&gt;", "user text is escaped")
	require.NotContains(t, texts[5], "<!channel>")

	ann := h.slack.Messages(h.announce)
	require.Len(t, ann, 3, "declared, update, resolved")
	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
}

// TestExecutorExactlyOnceThroughServerErrors: Slack answers 500 to the
// first calls, then 200. The guard retries within one call, or the
// executor defers to a later pass; either way one channel and one kickoff.
func TestExecutorExactlyOnceThroughServerErrors(t *testing.T) {
	for _, times := range []int{3, 6} {
		t.Run(fmt.Sprintf("%d_errors", times), func(t *testing.T) {
			h := newHarness(t)
			h.slack.Fault("conversations.create", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 500, Times: times})
			h.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 500, Times: times})
			inc := h.declare("Checkout is down", false)
			h.drainAll(h.exec)

			require.Len(t, channelsFor(h.slack, inc.Number), 1)
			ch := h.incident(inc.Number).ChannelID
			keys := keyedMessages(h.slack)
			require.Equal(t, []string{kickoffKey(inc.Number)}, keys[ch])
			require.Equal(t, []string{announceKey(inc.Number)}, keys[h.announce])
			creates := h.slack.CallsTo("conversations.create")
			require.Len(t, creates, times+1)
			require.Equal(t, 200, creates[len(creates)-1].Status)
			require.NotEmpty(t, h.slack.CallsTo("conversations.history"), "posts after a failure are reconciled first")
		})
	}
}

// TestExecutorLostResponseIsReconciled: the post lands but its answer is
// lost. The retry finds it in the history by its metadata and does not
// post again.
func TestExecutorLostResponseIsReconciled(t *testing.T) {
	h := newHarness(t)
	h.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultLostResponse})
	inc := h.declare("Checkout is down", false)
	h.drainAll(h.exec)

	ch := h.incident(inc.Number).ChannelID
	require.Equal(t, []string{kickoffKey(inc.Number)}, keyedMessages(h.slack)[ch], "exactly one kickoff")
	posts := h.slack.CallsTo("chat.postMessage")
	require.Len(t, posts, 2, "the lost kickoff and the announcement; the kickoff is not posted again")
	require.Equal(t, "lost_response", posts[0].Err)
	hist := h.slack.CallsTo("conversations.history")
	require.NotEmpty(t, hist)
	require.Equal(t, "1", hist[0].Args["include_all_metadata"])
	out, ok, err := h.db.EffectResult(h.ctx, kickoffKey(inc.Number))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, h.slack.Messages(ch)[0].TS, out.Result["ts"], "the reconciled ts is recorded")
}

// TestExecutorLostCreateFindsTheChannel: conversations.create took effect
// but its answer was lost; the retry meets name_taken and looks the
// channel up by name.
func TestExecutorLostCreateFindsTheChannel(t *testing.T) {
	h := newHarness(t)
	h.slack.Fault("conversations.create", slacktest.Fault{Kind: slacktest.FaultLostResponse})
	inc := h.declare("Checkout is down", true)
	h.drainAll(h.exec)

	chans := channelsFor(h.slack, inc.Number)
	require.Len(t, chans, 1)
	require.Equal(t, chans[0].ID, h.incident(inc.Number).ChannelID)
	creates := h.slack.CallsTo("conversations.create")
	require.Len(t, creates, 2)
	require.Equal(t, "name_taken", creates[1].Err)
	lists := h.slack.CallsTo("conversations.list")
	require.NotEmpty(t, lists)
	require.Equal(t, "public_channel,private_channel", lists[0].Args["types"], "private incident channels are found too")
}

func TestExecutorNameTakenUsesTheExistingChannel(t *testing.T) {
	h := newHarness(t)
	// Enough channels that the lookup has to page.
	for i := range 1500 {
		h.slack.CreateChannel(fmt.Sprintf("general-%04d", i), false)
	}
	existing := h.slack.CreateChannel(incident.ChannelName(1, "Checkout is down"), false)
	inc := h.declare("Checkout is down", false)
	h.drainAll(h.exec)

	require.Len(t, channelsFor(h.slack, inc.Number), 1, "no second channel")
	require.Equal(t, existing, h.incident(inc.Number).ChannelID)
	require.Len(t, h.slack.CallsTo("conversations.list"), 2, "two pages of 1000")
	require.Equal(t, []string{kickoffKey(inc.Number)}, keyedMessages(h.slack)[existing])
}

func TestExecutorPermanentFailures(t *testing.T) {
	t.Run("channel_not_found on the kickoff", func(t *testing.T) {
		h := newHarness(t)
		h.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "channel_not_found"})
		inc := h.declare("Checkout is down", false)
		require.Equal(t, 5, h.drain(), "a permanent failure completes the effect and the chain goes on")
		require.Zero(t, h.depth())

		require.Len(t, h.slack.CallsTo("chat.postMessage"), 2, "not retried: the kickoff once, then the announcement")
		after := h.incident(inc.Number)
		require.Equal(t, 1, after.FailedEffects)
		failed := eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed)
		require.Len(t, failed, 1)
		require.Equal(t, kickoffKey(inc.Number), failed[0].Attr(timeline.AttrEffect))
		require.Equal(t, "channel_not_found", failed[0].Attr(timeline.AttrError))
		require.Equal(t, incident.Bot, failed[0].Actor)
		require.Contains(t, failed[0].Text, "post the kickoff message in the incident channel")
		out, ok, err := h.db.EffectResult(h.ctx, kickoffKey(inc.Number))
		require.NoError(t, err)
		require.True(t, ok)
		require.True(t, out.Failed)
		require.Contains(t, out.Error, "channel_not_found")
		require.Equal(t, 1.0, executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "post", "outcome": "failed"}))
		require.Contains(t, h.logs.String(), "effect failed for good")

		// The failure shows in the next reply about the incident.
		d := &command.Dispatcher{Store: h.db}
		reply := d.Handle(h.ctx, command.Request{Text: "note still looking", User: alice, Incident: inc.Number, Source: timeline.SourceAPI, Key: "k1", At: h.clock.Now()})
		require.Contains(t, reply.Text, "1 Slack action(s) for INC-1 failed for good")
	})

	t.Run("invalid_auth everywhere", func(t *testing.T) {
		h := newHarness(t)
		h.slack.Fault("*", slacktest.Fault{Kind: slacktest.FaultSlackError, Error: "invalid_auth", Times: -1})
		inc := h.declare("Checkout is down", false)
		require.Equal(t, 5, h.drain())
		require.Zero(t, h.depth())

		after := h.incident(inc.Number)
		require.Equal(t, 5, after.FailedEffects)
		codes := map[string]string{}
		for _, ev := range eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed) {
			codes[ev.Attr(timeline.AttrEffect)] = ev.Attr(timeline.AttrError)
		}
		require.Equal(t, map[string]string{
			"INC-1/1/create_channel/incident": "invalid_auth",
			"INC-1/1/invite/incident":         "no_channel",
			"INC-1/1/set_topic/incident":      "no_channel",
			kickoffKey(1):                     "no_channel",
			announceKey(1):                    "invalid_auth",
		}, codes)
		// One call each, no retries, and the breaker stays closed: Slack
		// answered, it just said no.
		require.Len(t, h.slack.CallsTo("conversations.create"), 1)
		require.Len(t, h.slack.CallsTo("chat.postMessage"), 1)
		require.Equal(t, "closed", h.guard.State())
		require.Equal(t, 5.0, sumMetric(t, h, "failed"))
		_, _, down := h.exec.SlackDown()
		require.False(t, down)
	})

	t.Run("an uninvitable user", func(t *testing.T) {
		h := newHarness(t)
		inc := h.declare("Checkout is down", false)
		h.drain()
		h.assign(inc.Number, roles.Ops, "U0GHOST0001") // not in the workspace
		h.assign(inc.Number, roles.Comms, alice)       // already in the channel
		h.drainAll(h.exec)
		after := h.incident(inc.Number)
		require.Equal(t, 1, after.FailedEffects)
		failed := eventsOfKind(h.events(inc.Number), timeline.KindEffectFailed)
		require.Equal(t, "invite_refused", failed[0].Attr(timeline.AttrError))
		require.Contains(t, failed[0].Text, "invite <@U0GHOST0001>")
	})
}

func TestExecutorInvitesEachUserOnce(t *testing.T) {
	h := newHarness(t)
	inc := h.declare("Checkout is down", false)
	h.drain()
	// An invitation of several people, one of whom Slack does not know.
	h.apply(inc.Number, alice, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		ch, err := inc.AssignRole(roles.Ops, bob, m)
		if err != nil {
			return ch, err
		}
		for i, fx := range ch.Effects {
			if fx.Kind == incident.EffectInvite {
				ch.Effects[i].Params = map[string]string{"users": bob + ",U0GHOST0001," + carol + "," + alice}
			}
		}
		return ch, nil
	})
	h.drainAll(h.exec)
	ch, _ := h.slack.Channel(h.incident(inc.Number).ChannelID)
	require.Subset(t, ch.Members, []string{alice, bob, carol}, "a bad user does not keep the others out")
	require.Equal(t, 1, h.incident(inc.Number).FailedEffects)
	for _, c := range h.slack.CallsTo("conversations.invite") {
		require.NotContains(t, c.Args["users"], ",", "one user per call")
	}
}

// TestExecutorSlackDown: while Slack answers 503 nothing is lost and
// nothing waits forever; SlackDown says so; when Slack is back every
// effect is delivered once, in order per incident.
func TestExecutorSlackDown(t *testing.T) {
	// Small pages: an incident held back on one page keeps its effects on
	// later pages back too.
	h := newHarness(t, withPageSize(4))
	h.slack.SetDown(true)
	const incidents, notes = 3, 4
	for i := range incidents {
		inc := h.declare(fmt.Sprintf("Outage %d", i), false)
		for j := range notes {
			h.note(inc.Number, fmt.Sprintf("note %d", j))
		}
	}
	total := h.depth()
	require.Equal(t, incidents*(5+notes), total)

	start := h.clock.Now()
	require.Zero(t, h.drain())
	require.Equal(t, total, h.depth(), "nothing is lost")
	since, queued, down := h.exec.SlackDown()
	require.True(t, down)
	require.Equal(t, total, queued)
	require.Equal(t, start, since)
	require.Equal(t, float64(total), executorMetric(t, h.reg, "ooda_outbox_depth", nil))
	require.Equal(t, float64(incidents), executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": "create_channel", "outcome": "deferred"}),
		"one attempt per incident per pass: the rest wait behind it")
	pending, err := h.db.Pending(h.ctx, 0)
	require.NoError(t, err)
	for _, p := range pending {
		if p.Effect.Kind == incident.EffectCreateChannel {
			require.Equal(t, 1, p.Attempts)
			require.True(t, p.NextAt.After(start))
			require.NotEmpty(t, p.LastError)
			require.NotContains(t, p.LastError, fakeSlackToken)
		}
	}
	require.Contains(t, h.logs.String(), "effect deferred")

	// Still down on the next pass, and still nothing lost.
	h.clock.Advance(DefaultBackoffMax)
	require.Eventually(t, func() bool { return h.guard.State() != "open" }, time.Minute, time.Millisecond)
	require.Zero(t, h.drain())
	since2, _, down := h.exec.SlackDown()
	require.True(t, down)
	require.Equal(t, since, since2, "since is the start of the outage")

	h.slack.SetDown(false)
	h.drainAll(h.exec)
	_, queued, down = h.exec.SlackDown()
	require.False(t, down)
	require.Zero(t, queued)

	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
	for n := uint64(1); n <= incidents; n++ {
		require.Len(t, channelsFor(h.slack, n), 1)
		requireInOrder(t, h, n, notes)
	}
}

// TestExecutorOrderPerIncidentConcurrencyAcross: 20 incidents, each with
// its own queue; every channel shows its messages in the order they were
// committed, while several incidents were worked at the same time.
func TestExecutorOrderPerIncidentConcurrencyAcross(t *testing.T) {
	var counter *concurrencyCounter
	h := newHarness(t, withWorkers(4), withPageSize(50), withSlackWrapper(func(api slackapi.SlackAPI) slackapi.SlackAPI {
		counter = &concurrencyCounter{SlackAPI: api, overlap: make(chan struct{})}
		return counter
	}))
	const incidents, notes = 20, 10
	for i := range incidents {
		inc := h.declare(fmt.Sprintf("Outage %d", i), false)
		for j := range notes {
			h.note(inc.Number, fmt.Sprintf("note %d", j))
		}
	}
	h.drainAll(h.exec)
	for n := uint64(1); n <= incidents; n++ {
		requireInOrder(t, h, n, notes)
	}
	dupes, _ := duplicateKeys(h.slack)
	require.Zero(t, dupes)
	require.GreaterOrEqual(t, counter.max(), 2, "incidents are worked concurrently")
}

// TestExecutorCrashBetweenSlackAndCommit is the crash window made
// deterministic: Slack took the kickoff, then the process "died" before
// recording it. A fresh executor on the same database must not post it
// again.
func TestExecutorCrashBetweenSlackAndCommit(t *testing.T) {
	for _, keepResult := range []bool{false, true} {
		name := "nothing recorded"
		if keepResult {
			name = "ts recorded by the fallback"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			inc := h.declare("Checkout is down", false)
			dying := &dyingOutbox{Outbox: h.db, key: kickoffKey(inc.Number), allowDefer: keepResult}
			cfg := harnessConfig{}
			first := h.newExecutor(h.db, cfg)
			first.cfg.Outbox = dying
			_, err := first.Drain(h.ctx)
			require.ErrorContains(t, err, "simulated crash")
			ch := h.incident(inc.Number).ChannelID
			require.Equal(t, []string{kickoffKey(inc.Number)}, keyedMessages(h.slack)[ch], "the kickoff landed")

			restarted := h.newExecutor(h.db, cfg)
			h.drainAll(restarted)
			require.Equal(t, []string{kickoffKey(inc.Number)}, keyedMessages(h.slack)[ch], "and only once")
			require.Len(t, h.slack.CallsTo("chat.postMessage"), 2, "kickoff and announcement, each sent once")
			if keepResult {
				require.Len(t, h.slack.CallsTo("chat.update"), 1, "a known ts becomes an update")
				require.True(t, h.slack.Messages(ch)[0].Edited)
			} else {
				require.NotEmpty(t, h.slack.CallsTo("conversations.history"))
			}
		})
	}
}

// TestExecutorStoreFailureHoldsTheIncident: when the store fails on one
// effect, that incident's later effects wait, even those read on later
// pages of the same pass; other incidents go on.
func TestExecutorStoreFailureHoldsTheIncident(t *testing.T) {
	h := newHarness(t, withPageSize(2), withWorkers(1))
	first := h.declare("First", false)
	for j := range 3 {
		h.note(first.Number, fmt.Sprintf("note %d", j))
	}
	second := h.declare("Second", false)
	flaky := &flakyOutbox{Outbox: h.db, failDefer: kickoffKey(first.Number)}
	h.exec.cfg.Outbox = flaky
	_, err := h.exec.Drain(h.ctx)
	require.ErrorContains(t, err, "disk on fire")
	require.Empty(t, h.slack.Messages(h.incident(first.Number).ChannelID), "no note overtook the kickoff")
	require.Len(t, h.slack.Messages(h.incident(second.Number).ChannelID), 1, "the other incident went on")

	h.drainAll(h.exec)
	requireInOrder(t, h, first.Number, 3)
}

func TestExecutorRunDrainsOnNotifyAndStops(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(h.ctx)
	stopped := make(chan error, 1)
	go func() { stopped <- h.exec.Run(ctx) }()

	inc := h.declare("Checkout is down", false)
	h.exec.Notify()
	h.exec.Notify() // never blocks
	require.Eventually(t, func() bool {
		d, _, err := h.db.OutboxStats(h.ctx)
		return err == nil && d == 0
	}, time.Minute, time.Millisecond)
	require.Len(t, channelsFor(h.slack, inc.Number), 1)

	cancel()
	select {
	case err := <-stopped:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestExecutorHonoursRetryAfter: a rate limit longer than the guard will
// wait in a call is rescheduled in the outbox for exactly as long as Slack
// asked, and is not taken for an outage.
func TestExecutorHonoursRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.slack.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultRateLimit, RetryAfter: time.Minute})
	inc := h.declare("Checkout is down", false)
	require.Equal(t, 3, h.drain(), "channel, invite and topic; the kickoff waits")
	pending, err := h.db.Pending(h.ctx, 0)
	require.NoError(t, err)
	require.Equal(t, kickoffKey(inc.Number), pending[0].Effect.Key)
	require.Equal(t, h.clock.Now().Add(time.Minute), pending[0].NextAt)
	_, _, down := h.exec.SlackDown()
	require.False(t, down, "a rate limit is Slack answering")

	h.clock.Advance(59 * time.Second)
	require.Zero(t, h.drain(), "not due yet")
	h.clock.Advance(time.Second)
	require.Equal(t, 2, h.drain())
	require.Equal(t, []string{kickoffKey(inc.Number)}, keyedMessages(h.slack)[h.incident(inc.Number).ChannelID])
}

// TestExecutorDirectMessage: a dm goes to the user id, carries the effect
// key, and its result is kept.
func TestExecutorDirectMessage(t *testing.T) {
	var dms *dmCatcher
	h := newHarness(t, withSlackWrapper(func(api slackapi.SlackAPI) slackapi.SlackAPI {
		dms = &dmCatcher{SlackAPI: api}
		return dms
	}))
	inc := h.declare("Checkout is down", false)
	h.drain()
	var key string
	h.apply(inc.Number, incident.Bot, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		ch, err := inc.Record(timeline.KindNudged, timeline.PhaseNone, "Time for an update <soon>", map[string]string{
			timeline.AttrNudge: "update_due", timeline.AttrUser: bob,
		}, m)
		if err != nil {
			return ch, err
		}
		seq := ch.Events[0].Seq
		key = fmt.Sprintf("%s/%d/dm/%s", inc.ID, seq, bob)
		ch.Effects = append(ch.Effects, incident.Effect{
			Key: key, Kind: incident.EffectDM, Incident: inc.Number, Seq: seq, Target: bob, Template: incident.TemplateNudge,
		})
		return ch, nil
	})
	require.Equal(t, 1, h.drain())
	require.Equal(t, []string{bob}, dms.to)
	require.Contains(t, dms.text[0], "Time for an update &lt;soon&gt;")
	out, ok, err := h.db.EffectResult(h.ctx, key)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, map[string]string{"channel": "D0DM0000001", "ts": "1700000000.000100"}, out.Result)
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Rand: func() float64 { return 0 }}
	require.Equal(t, 500*time.Millisecond, b.Delay(1))
	require.Equal(t, time.Second, b.Delay(2))
	require.Equal(t, 150*time.Second, b.Delay(20), "half the cap")
	require.Equal(t, 150*time.Second, b.Delay(1000))
	b.Rand = func() float64 { return 0.999999 }
	require.InDelta(t, float64(5*time.Minute), float64(b.Delay(100)), float64(time.Millisecond))
}

// requireInOrder checks incident n's channel: the kickoff, then its notes
// in the order they were committed, each once.
func requireInOrder(t *testing.T, h *harness, n uint64, notes int) {
	t.Helper()
	inc := h.incident(n)
	msgs := h.slack.Messages(inc.ChannelID)
	require.Len(t, msgs, 1+notes, "%s", inc.ID)
	require.Equal(t, kickoffKey(n), messageKey(msgs[0]))
	for j := range notes {
		require.Contains(t, msgs[1+j].Text, fmt.Sprintf("note %d", j), "%s message %d", inc.ID, 1+j)
	}
}

func eventsOfKind(evs []timeline.Event, k timeline.Kind) []timeline.Event {
	return slices.DeleteFunc(slices.Clone(evs), func(e timeline.Event) bool { return e.Kind != k })
}

func sumMetric(t *testing.T, h *harness, outcome string) float64 {
	t.Helper()
	sum := 0.0
	for _, k := range []incident.EffectKind{incident.EffectCreateChannel, incident.EffectInvite, incident.EffectSetTopic, incident.EffectPost} {
		sum += executorMetric(t, h.reg, "ooda_effects_total", map[string]string{"kind": string(k), "outcome": outcome})
	}
	return sum
}

// dyingOutbox records nothing about one effect once Slack has done it, as
// a process killed at that moment would; allowDefer lets the executor's
// fallback keep the result.
type dyingOutbox struct {
	incident.Outbox
	key        string
	allowDefer bool

	mu   sync.Mutex
	dead map[uint64]bool
}

var errSimulatedCrash = errors.New("simulated crash")

func (o *dyingOutbox) Complete(ctx context.Context, seq uint64, out incident.Outcome) (incident.Result, error) {
	if out.Key == o.key && !out.Failed {
		o.mu.Lock()
		if o.dead == nil {
			o.dead = map[uint64]bool{}
		}
		o.dead[seq] = true
		o.mu.Unlock()
		return incident.Result{}, errSimulatedCrash
	}
	return o.Outbox.Complete(ctx, seq, out)
}

func (o *dyingOutbox) Defer(ctx context.Context, seq uint64, r incident.Retry) error {
	o.mu.Lock()
	dead := o.dead[seq]
	o.mu.Unlock()
	if dead && !o.allowDefer {
		return errSimulatedCrash
	}
	return o.Outbox.Defer(ctx, seq, r)
}

// flakyOutbox fails the first write about one effect.
type flakyOutbox struct {
	incident.Outbox
	failDefer string
	failed    atomic.Bool
}

func (o *flakyOutbox) Defer(ctx context.Context, seq uint64, r incident.Retry) error {
	pending, err := o.Outbox.Pending(ctx, 0)
	if err != nil {
		return err
	}
	for _, p := range pending {
		if p.OutboxSeq == seq && p.Effect.Key == o.failDefer && o.failed.CompareAndSwap(false, true) {
			return errors.New("disk on fire")
		}
	}
	return o.Outbox.Defer(ctx, seq, r)
}

// concurrencyCounter measures how many posts are in flight at once. The
// first post waits (up to a bound) for a second to start, so a pool that
// does work incidents concurrently shows it every time.
type concurrencyCounter struct {
	slackapi.SlackAPI
	mu       sync.Mutex
	inflight int
	peak     int
	once     sync.Once
	overlap  chan struct{}
}

func (c *concurrencyCounter) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	c.mu.Lock()
	c.inflight++
	c.peak = max(c.peak, c.inflight)
	if c.inflight >= 2 {
		c.once.Do(func() { close(c.overlap) })
	}
	first := c.peak == 1
	c.mu.Unlock()
	if first {
		select {
		case <-c.overlap:
		case <-ctx.Done():
		}
	}
	defer func() {
		c.mu.Lock()
		c.inflight--
		c.mu.Unlock()
	}()
	return c.SlackAPI.PostMessageContext(ctx, channelID, options...)
}

func (c *concurrencyCounter) max() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak
}

// dmCatcher answers direct messages itself: the fake Slack has no
// conversations with users.
type dmCatcher struct {
	slackapi.SlackAPI
	mu   sync.Mutex
	to   []string
	text []string
}

func (d *dmCatcher) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	if !strings.HasPrefix(channelID, "U") {
		return d.SlackAPI.PostMessageContext(ctx, channelID, options...)
	}
	_, values, err := slack.UnsafeApplyMsgOptions("", channelID, "", options...)
	if err != nil {
		return "", "", err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.to = append(d.to, channelID)
	d.text = append(d.text, values.Get("text"))
	if !strings.Contains(values.Get("metadata"), slackapi.MetadataEventType) {
		return "", "", errors.New("a dm without the effect key in its metadata")
	}
	return "D0DM0000001", "1700000000.000100", nil
}

// The wrappers still satisfy slackapi.SlackAPI.
var (
	_ slackapi.SlackAPI = (*concurrencyCounter)(nil)
	_ slackapi.SlackAPI = (*dmCatcher)(nil)
)
