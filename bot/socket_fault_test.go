package bot

import (
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/stretchr/testify/require"
)

// socketSide is the fake Slack of the Socket Mode tests, failing on the
// test's behalf.
type socketSide struct {
	*slacktest.SocketServer
	t testing.TB
}

func newSocketSide(t testing.TB) *socketSide {
	t.Helper()
	s := &socketSide{SocketServer: slacktest.NewSocketServer("xapp-1-test"), t: t}
	t.Cleanup(s.Close)
	return s
}

// link waits for the connection after the first n.
func (s *socketSide) link(n int) *slacktest.SocketLink {
	s.t.Helper()
	l, err := s.Link(n, 30*time.Second)
	require.NoError(s.t, err, "Ooda connects again within 30 s")
	return l
}

// ack waits for envelope id's acknowledgement.
func (s *socketSide) ack(id string, within time.Duration) (json.RawMessage, bool) {
	p, err := s.Ack(id, within)
	return p, err == nil
}

// messageEvent is an events_api payload: a message in channel, one per
// i, each with its own event id and ts.
func messageEvent(t testing.TB, channel string, i int) json.RawMessage {
	ts := fmt.Sprintf("1700000000.%06d", i)
	return slackJSON(t, "event_message.json", map[string]any{
		"event_id": fmt.Sprintf("Ev%08d", i), "event.ts": ts, "event.event_ts": ts,
		"event.channel": channel, "event.text": fmt.Sprintf("burst message %d", i),
	})
}

// dumpOnFailure prints every goroutine's stack when the test fails: a
// stuck receive loop shows as a goroutine blocked where it should not be.
func dumpOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		buf := make([]byte, 8<<20)
		n := runtime.Stack(buf, true)
		t.Logf("goroutines:\n%s", buf[:n])
	})
}

// TestSocketModeSurvivesBurstsAndDroppedConnections: 1,000 events in a
// burst, then the connection drops (a TCP reset, or a socket left
// half-open), three rounds of each. Every round Ooda connects again and
// answers a command before a 30-second deadline, a command and a click
// sent during and right after the burst are answered, and every event is
// recorded exactly once, redeliveries of what was not acknowledged
// included.
func TestSocketModeSurvivesBurstsAndDroppedConnections(t *testing.T) {
	const burst, rounds = 1000, 3
	for _, drop := range []string{"reset", "half-open"} {
		t.Run(drop, func(t *testing.T) {
			dumpOnFailure(t)
			rig := newSlackRig(t)
			const channel = "C0BURST0001"
			n := rig.declare("Checkout is down", channel)
			slack := newSocketSide(t)
			// The watchdog finds a half-open socket by its silence; slack-go's
			// own ping deadline is left at its default.
			sm := startSocketMode(t, slack.URL(), rig.h, func(c *SocketConfig) { c.Silence = 2 * time.Second })

			seq := 0
			for round := range rounds {
				link := slack.link(round)
				answered := func(id, what string) {
					t.Helper()
					_, ok := slack.ack(id, 30*time.Second)
					require.True(t, ok, "round %d: %s is answered", round+1, what)
				}
				for i := range burst {
					seq++
					slack.Send(link, fmt.Sprintf("env-ev-%d", seq), "events_api", messageEvent(t, channel, seq))
					if i == burst/2 {
						form := slackForm(t, "slash_command.form", map[string]string{"text": "note INC-1 mid-burst " + fmt.Sprint(round), "trigger_id": fmt.Sprintf("mid-%d", round)})
						slack.Send(link, fmt.Sprintf("env-mid-%d", round), "slash_commands", socketCommandPayload(t, form))
					}
				}
				click := slackJSON(t, "block_actions_button.json", map[string]any{"trigger_id": fmt.Sprintf("click-%d", round)})
				slack.Send(link, fmt.Sprintf("env-click-%d", round), "interactive", click)
				answered(fmt.Sprintf("env-mid-%d", round), "a command sent during the burst")
				answered(fmt.Sprintf("env-click-%d", round), "a click sent right after the burst")

				if drop == "reset" {
					link.Reset()
				} else {
					link.HalfOpen()
				}
				next := slack.link(round + 1)
				form := slackForm(t, "slash_command.form", map[string]string{"text": "roles INC-1", "trigger_id": fmt.Sprintf("after-%d", round)})
				slack.Send(next, fmt.Sprintf("env-after-%d", round), "slash_commands", socketCommandPayload(t, form))
				answered(fmt.Sprintf("env-after-%d", round), "a command on the new connection")

				require.Eventually(t, func() bool { return slack.Unacked() == 0 }, 30*time.Second, 10*time.Millisecond,
					"round %d: every event is acknowledged, redeliveries included", round+1)
				tr, err := rig.db.Transcript(t.Context(), n)
				require.NoError(t, err)
				require.Len(t, tr, seq, "round %d: every event recorded exactly once", round+1)
				require.True(t, sm.Health().Connected, "round %d: the status says connected again", round+1)
			}
			require.Equal(t, rounds+1, slack.Connections())
		})
	}
}

// TestSocketModeReplacesASilentConnection: a connection that goes silent
// (no pings, no envelopes) shows as not connected within the watchdog's
// limit, is replaced, and shows as connected again. (That /readyz stays
// ready meanwhile is app's test: it is the wiring's promise.)
func TestSocketModeReplacesASilentConnection(t *testing.T) {
	dumpOnFailure(t)
	rig := newSlackRig(t)
	slack := newSocketSide(t)
	const silence = time.Second
	sm := startSocketMode(t, slack.URL(), rig.h, func(c *SocketConfig) { c.Silence = silence })

	link := slack.link(0)
	require.Eventually(t, func() bool { return sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "connected once Slack says hello")

	release := slack.Hold()
	link.Silence() // the socket stays open, nothing comes
	require.Eventually(t, func() bool { return !sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "a silent connection shows as not connected")
	require.Greater(t, time.Since(sm.Health().LastFrame), silence, "it was silent past the limit")

	release()
	slack.link(1)
	require.Eventually(t, func() bool { return sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "a new connection, and the status recovers")
}

// TestSocketModeRefreshRequested: Slack's refresh_requested disconnect is
// followed by a new connection that answers.
func TestSocketModeRefreshRequested(t *testing.T) {
	dumpOnFailure(t)
	rig := newSlackRig(t)
	slack := newSocketSide(t)
	startSocketMode(t, slack.URL(), rig.h)
	link := slack.link(0)
	require.True(t, link.Refresh())
	next := slack.link(1)
	form := slackForm(t, "slash_command.form", map[string]string{"text": "help", "trigger_id": "after-refresh"})
	slack.Send(next, "env-after-refresh", "slash_commands", socketCommandPayload(t, form))
	_, ok := slack.ack("env-after-refresh", 30*time.Second)
	require.True(t, ok, "answered on the new connection")
}

// TestTwoReplicasTwoConnections: two replicas, each with its own Socket
// Mode connection to one app (Slack spreads envelopes across them): each
// envelope is acknowledged once, on the connection it came on.
func TestTwoReplicasTwoConnections(t *testing.T) {
	dumpOnFailure(t)
	slack := newSocketSide(t)
	slack.KeepConnections()
	first, second := newSlackRig(t), newSlackRig(t)
	startSocketMode(t, slack.URL(), first.h)
	slack.link(0)
	startSocketMode(t, slack.URL(), second.h)
	slack.link(1)
	links := slack.Links()
	require.Len(t, links, 2)

	for i := range 40 {
		l := links[i%2]
		id := fmt.Sprintf("env-%d", i)
		form := slackForm(t, "slash_command.form", map[string]string{"text": "help", "trigger_id": id})
		slack.Send(l, id, "slash_commands", socketCommandPayload(t, form))
		_, ok := slack.ack(id, 10*time.Second)
		require.True(t, ok, "%s is answered", id)
		on, n := slack.AckedOn(id)
		require.Same(t, l, on, "%s is acknowledged on its own connection", id)
		require.Equal(t, 1, n, "%s is acknowledged once", id)
	}
}
