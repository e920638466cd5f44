package bot

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/ooda-sre/ooda/api"
	"github.com/stretchr/testify/require"
)

// slackSide plays Slack's side of Socket Mode the way Slack behaves when
// things go wrong: it pings every connection, delivers bursts of events
// as fast as the socket takes them, redelivers every events_api envelope
// that was not acknowledged (on the next connection, and after a timeout
// on the same one, with retry_attempt counting up), and can drop a
// connection with a TCP reset, leave it half-open (no reads, no writes,
// no pings), go silent, or ask for a refresh.
type slackSide struct {
	t   testing.TB
	srv *httptest.Server

	mu      sync.Mutex
	cur     *slackLink
	links   int
	sent    map[string]*sentEnvelope // by envelope id
	acks    map[string]json.RawMessage
	ackedAt map[string]time.Time
	changed chan struct{} // closed and replaced on every ack and connection
	held    chan struct{} // while not nil, apps.connections.open waits for it to close
}

// sentEnvelope is an envelope Slack sent and will send again until it is
// acknowledged (events only: Slack never redelivers interactive ones).
type sentEnvelope struct {
	typ       string
	payload   json.RawMessage
	attempts  int
	firstSent time.Time
	lastSent  time.Time
}

// slackLink is one connection, seen from Slack's side.
type slackLink struct {
	ws      *websocket.Conn
	raw     net.Conn
	wmu     sync.Mutex
	mute    atomic.Bool // half-open or silent: no writes, no pings
	deaf    atomic.Bool // half-open: no reads either
	stopped chan struct{}
}

// redeliverAfter is how long an unacknowledged event waits before Slack
// sends it again on the same connection; maxAttempts bounds the sends.
const (
	redeliverAfter = time.Second
	maxAttempts    = 5
)

func newSlackSide(t testing.TB) *slackSide {
	t.Helper()
	s := &slackSide{t: t, sent: map[string]*sentEnvelope{}, acks: map[string]json.RawMessage{}, ackedAt: map[string]time.Time{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		held := s.held
		s.mu.Unlock()
		if held != nil {
			select {
			case <-held:
			case <-r.Context().Done():
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link"})
	})
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.serve(ws)
	})
	s.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		s.mu.Lock()
		if s.cur != nil {
			s.cur.close()
		}
		s.mu.Unlock()
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
	return s
}

// serve runs one connection until it is dropped: hello, then pings and
// redeliveries, while a reader records the acknowledgements.
func (s *slackSide) serve(ws *websocket.Conn) {
	l := &slackLink{ws: ws, raw: ws.UnderlyingConn(), stopped: make(chan struct{})}
	s.mu.Lock()
	if s.cur != nil {
		s.cur.close()
	}
	s.cur = l
	s.links++
	s.notify()
	s.mu.Unlock()
	l.write(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0APP000001"}})

	var wg sync.WaitGroup
	wg.Go(func() { s.read(l) })
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-l.stopped:
			wg.Wait()
			return
		case <-tick.C:
			if l.mute.Load() {
				continue
			}
			l.wmu.Lock()
			_ = l.ws.WriteControl(websocket.PingMessage, []byte("ping"), time.Now().Add(time.Second))
			l.wmu.Unlock()
			s.redeliver(l, false)
		}
	}
}

// read records acknowledgements until the link is dropped or goes deaf.
func (s *slackSide) read(l *slackLink) {
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := l.ws.ReadJSON(&ack); err != nil {
			l.close()
			return
		}
		if l.deaf.Load() {
			return // half-open: the socket stays, nobody reads it
		}
		s.mu.Lock()
		if _, dup := s.acks[ack.EnvelopeID]; !dup {
			s.acks[ack.EnvelopeID] = ack.Payload
			s.ackedAt[ack.EnvelopeID] = time.Now()
		}
		s.notify()
		s.mu.Unlock()
	}
}

// notify wakes whoever waits for a change; s.mu is held.
func (s *slackSide) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (l *slackLink) write(v any) bool {
	if l.mute.Load() {
		return false
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return l.ws.WriteJSON(v) == nil
}

func (l *slackLink) close() {
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
		_ = l.ws.Close()
	}
}

// redeliver sends again the events not acknowledged: all of them on a
// new connection (fresh), those older than redeliverAfter otherwise.
func (s *slackSide) redeliver(l *slackLink, fresh bool) {
	s.mu.Lock()
	var due []string
	for id, e := range s.sent {
		if _, acked := s.acks[id]; acked || e.typ != "events_api" || e.attempts >= maxAttempts {
			continue
		}
		if fresh || time.Since(e.lastSent) > redeliverAfter {
			due = append(due, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		s.send(l, id, "", nil)
	}
}

// send delivers envelope id (recording it when typ is given) on l.
func (s *slackSide) send(l *slackLink, id, typ string, payload json.RawMessage) {
	s.mu.Lock()
	e, ok := s.sent[id]
	if !ok {
		e = &sentEnvelope{typ: typ, payload: payload, firstSent: time.Now()}
		s.sent[id] = e
	}
	e.attempts++
	e.lastSent = time.Now()
	msg := map[string]any{"envelope_id": id, "type": e.typ, "payload": e.payload, "accepts_response_payload": e.typ != "events_api", "retry_attempt": e.attempts - 1}
	if e.attempts > 1 {
		msg["retry_reason"] = "timeout"
	}
	s.mu.Unlock()
	l.write(msg)
}

// link waits for the connection after the first n and returns it.
func (s *slackSide) link(n int) *slackLink {
	s.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		s.mu.Lock()
		l, links, changed := s.cur, s.links, s.changed
		s.mu.Unlock()
		if links > n {
			if links == n+1 || n == 0 {
				s.redeliver(l, true)
			}
			return l
		}
		select {
		case <-changed:
		case <-deadline:
			s.t.Fatalf("Ooda did not connect (connection %d) within 30 s", n+1)
		}
	}
}

// hold makes new connections wait until release is called, as during
// Slack's own outage.
func (s *slackSide) hold() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	held := make(chan struct{})
	s.held = held
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.held = nil
		close(held)
	}
}

// connections counts the connections made so far.
func (s *slackSide) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.links
}

// ack waits for envelope id's acknowledgement and returns its payload.
func (s *slackSide) ack(id string, within time.Duration) (json.RawMessage, bool) {
	deadline := time.After(within)
	for {
		s.mu.Lock()
		p, ok := s.acks[id]
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return p, true
		}
		select {
		case <-changed:
		case <-deadline:
			return nil, false
		}
	}
}

// ackLatency is how long envelope id waited for its acknowledgement,
// from its first send.
func (s *slackSide) ackLatency(id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, sent := s.sent[id]
	at, acked := s.ackedAt[id]
	if !sent || !acked {
		return 0, false
	}
	return at.Sub(e.firstSent), true
}

// unacked counts the events sent and not acknowledged.
func (s *slackSide) unacked() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, e := range s.sent {
		if _, ok := s.acks[id]; !ok && e.typ == "events_api" {
			n++
		}
	}
	return n
}

// reset drops l with a TCP reset, as a load balancer or a crashed peer
// does: no close frame, the next read or write fails.
func (l *slackLink) reset() {
	if tcp, ok := l.raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	l.close()
}

// halfOpen leaves l open with nobody behind it: nothing is read from or
// written to it again, pings included.
func (l *slackLink) halfOpen() {
	l.mute.Store(true)
	l.deaf.Store(true)
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
			slack := newSlackSide(t)
			// The watchdog finds a half-open socket by its silence; slack-go's
			// own ping deadline is left at its default.
			sm := startSocketMode(t, slack.srv.URL, rig.h, func(c *SocketConfig) { c.Silence = 2 * time.Second })

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
					slack.send(link, fmt.Sprintf("env-ev-%d", seq), "events_api", messageEvent(t, channel, seq))
					if i == burst/2 {
						form := slackForm(t, "slash_command.form", map[string]string{"text": "note INC-1 mid-burst " + fmt.Sprint(round), "trigger_id": fmt.Sprintf("mid-%d", round)})
						slack.send(link, fmt.Sprintf("env-mid-%d", round), "slash_commands", socketCommandPayload(t, form))
					}
				}
				click := slackJSON(t, "block_actions_button.json", map[string]any{"trigger_id": fmt.Sprintf("click-%d", round)})
				slack.send(link, fmt.Sprintf("env-click-%d", round), "interactive", click)
				answered(fmt.Sprintf("env-mid-%d", round), "a command sent during the burst")
				answered(fmt.Sprintf("env-click-%d", round), "a click sent right after the burst")

				if drop == "reset" {
					link.reset()
				} else {
					link.halfOpen()
				}
				next := slack.link(round + 1)
				form := slackForm(t, "slash_command.form", map[string]string{"text": "roles INC-1", "trigger_id": fmt.Sprintf("after-%d", round)})
				slack.send(next, fmt.Sprintf("env-after-%d", round), "slash_commands", socketCommandPayload(t, form))
				answered(fmt.Sprintf("env-after-%d", round), "a command on the new connection")

				require.Eventually(t, func() bool { return slack.unacked() == 0 }, 30*time.Second, 10*time.Millisecond,
					"round %d: every event is acknowledged, redeliveries included", round+1)
				tr, err := rig.db.Transcript(t.Context(), n)
				require.NoError(t, err)
				require.Len(t, tr, seq, "round %d: every event recorded exactly once", round+1)
				require.True(t, sm.Health().Connected, "round %d: the status says connected again", round+1)
			}
			require.Equal(t, rounds+1, slack.connections())
		})
	}
}

// TestSocketModeReplacesASilentConnection: a connection that goes silent
// (no pings, no envelopes) shows as not connected within the watchdog's
// limit, is replaced, and shows as connected again, while /readyz stays
// ready: Slack being unreachable must not take the API down with it.
func TestSocketModeReplacesASilentConnection(t *testing.T) {
	dumpOnFailure(t)
	rig := newSlackRig(t)
	slack := newSlackSide(t)
	const silence = time.Second
	sm := startSocketMode(t, slack.srv.URL, rig.h, func(c *SocketConfig) { c.Silence = silence })
	srv, err := apiServerForRig(rig)
	require.NoError(t, err)
	ready := func() int {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code
	}

	link := slack.link(0)
	require.Eventually(t, func() bool { return sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "connected once Slack says hello")
	require.Equal(t, http.StatusOK, ready())

	release := slack.hold()
	link.mute.Store(true) // silent: the socket stays open, nothing comes
	require.Eventually(t, func() bool { return !sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "a silent connection shows as not connected")
	require.Equal(t, http.StatusOK, ready(), "/readyz does not depend on Slack")
	require.Greater(t, time.Since(sm.Health().LastFrame), silence, "it was silent past the limit")

	release()
	slack.link(1)
	require.Eventually(t, func() bool { return sm.Health().Connected }, 30*time.Second, 10*time.Millisecond, "a new connection, and the status recovers")
	require.Equal(t, http.StatusOK, ready())
}

// TestSocketModeRefreshRequested: Slack's refresh_requested disconnect is
// followed by a new connection that answers.
func TestSocketModeRefreshRequested(t *testing.T) {
	dumpOnFailure(t)
	rig := newSlackRig(t)
	slack := newSlackSide(t)
	startSocketMode(t, slack.srv.URL, rig.h)
	link := slack.link(0)
	link.write(map[string]any{"type": "disconnect", "reason": "refresh_requested"})
	next := slack.link(1)
	form := slackForm(t, "slash_command.form", map[string]string{"text": "help", "trigger_id": "after-refresh"})
	slack.send(next, "env-after-refresh", "slash_commands", socketCommandPayload(t, form))
	_, ok := slack.ack("env-after-refresh", 30*time.Second)
	require.True(t, ok, "answered on the new connection")
}

// apiServerForRig is the API over the rig's store, as `ooda serve` runs it
// beside Socket Mode, for its /readyz.
func apiServerForRig(r *slackRig) (*api.Server, error) {
	return api.NewServer(api.ServerConfig{Store: r.db, Dispatcher: r.h.cfg.Dispatcher})
}
