package slacktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// SocketServer plays Slack's side of Socket Mode, including the ways it
// goes wrong: apps.connections.open hands out the URL of its WebSocket
// endpoint; each connection is greeted with hello and pinged every
// PingEvery; events_api envelopes that are not acknowledged are sent
// again (on the next connection, and after RedeliverAfter on the same
// one, with retry_attempt counting up), as Slack does; and a test can
// drop a connection with a TCP reset, leave it half-open or silent, ask
// for a refresh, or hold new connections back as during an outage.
//
// It also answers auth.test, so an app can be built against it alone.
// Every other Web API method is unknown to it.
type SocketServer struct {
	srv *httptest.Server
	// AppToken is the app-level token apps.connections.open accepts;
	// empty accepts any.
	appToken string

	mu      sync.Mutex
	cur     *SocketLink
	links   []*SocketLink
	sent    map[string]*sentEnvelope // by envelope id
	acks    map[string]json.RawMessage
	ackedAt map[string]time.Time
	ackedOn map[string]*SocketLink
	ackN    map[string]int
	changed chan struct{} // closed and replaced on every ack and connection
	held    chan struct{} // while not nil, apps.connections.open waits for it to close
	wg      sync.WaitGroup
	// keepAll keeps earlier connections open when a new one comes, as
	// Slack does for an app with several (up to 10): one per replica.
	keepAll bool
}

// sentEnvelope is an envelope Slack sent, and for events, sends again
// until it is acknowledged (Slack never redelivers interactive ones).
type sentEnvelope struct {
	typ       string
	payload   json.RawMessage
	attempts  int
	firstSent time.Time
	lastSent  time.Time
}

// SocketLink is one Socket Mode connection, seen from Slack's side.
type SocketLink struct {
	ws      *websocket.Conn
	raw     net.Conn
	wmu     sync.Mutex
	mute    atomic.Bool // half-open or silent: no writes, no pings
	deaf    atomic.Bool // half-open: no reads either
	stopped chan struct{}
}

// The timing of a SocketServer.
const (
	PingEvery       = 200 * time.Millisecond
	RedeliverAfter  = time.Second
	maxSendAttempts = 5
)

// NewSocketServer starts a Socket Mode server. appToken is the token
// apps.connections.open accepts ("" accepts any). Close it when done.
func NewSocketServer(appToken string) *SocketServer {
	s := &SocketServer{appToken: appToken, sent: map[string]*sentEnvelope{}, acks: map[string]json.RawMessage{},
		ackedAt: map[string]time.Time{}, ackedOn: map[string]*SocketLink{}, ackN: map[string]int{}, changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) {
		writeSocketJSON(w, map[string]any{"ok": false, "error": "unknown_method"})
	})
	mux.HandleFunc("/api/auth.test", func(w http.ResponseWriter, _ *http.Request) {
		writeSocketJSON(w, map[string]any{"ok": true, "user_id": "U0BOT000001", "team_id": "T0TEAM00001", "bot_id": "B0BOT000001"})
	})
	mux.HandleFunc("/api/apps.connections.open", func(w http.ResponseWriter, r *http.Request) {
		if s.appToken != "" && r.Header.Get("Authorization") != "Bearer "+s.appToken {
			writeSocketJSON(w, map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
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
		writeSocketJSON(w, map[string]any{"ok": true, "url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link"})
	})
	// slack-go dials with Origin: https://api.slack.com, as Slack expects.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	mux.HandleFunc("/link", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.serve(ws)
	})
	s.srv = httptest.NewServer(mux)
	return s
}

// URL is the Web API base URL to point the app's Slack client at.
func (s *SocketServer) URL() string { return s.srv.URL + "/api/" }

// Close drops every connection and stops the server.
func (s *SocketServer) Close() {
	s.mu.Lock()
	for _, l := range s.links {
		l.close()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.wg.Wait()
}

func writeSocketJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

// serve runs one connection until it is dropped: hello, then pings and
// redeliveries, while a reader records the acknowledgements.
func (s *SocketServer) serve(ws *websocket.Conn) {
	l := &SocketLink{ws: ws, raw: ws.UnderlyingConn(), stopped: make(chan struct{})}
	s.mu.Lock()
	if s.cur != nil && !s.keepAll {
		s.cur.close()
	}
	s.cur = l
	s.links = append(s.links, l)
	s.notify()
	s.mu.Unlock()
	l.Write(map[string]any{"type": "hello", "num_connections": 1, "connection_info": map[string]any{"app_id": "A0APP000001"}})

	s.wg.Go(func() { s.read(l) })
	tick := time.NewTicker(PingEvery)
	defer tick.Stop()
	for {
		select {
		case <-l.stopped:
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
func (s *SocketServer) read(l *SocketLink) {
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
		s.ackN[ack.EnvelopeID]++
		if _, dup := s.acks[ack.EnvelopeID]; !dup {
			s.acks[ack.EnvelopeID] = ack.Payload
			s.ackedAt[ack.EnvelopeID] = time.Now()
			s.ackedOn[ack.EnvelopeID] = l
		}
		s.notify()
		s.mu.Unlock()
	}
}

// notify wakes whoever waits for a change; s.mu is held.
func (s *SocketServer) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Write sends v on the link, unless it is muted, and reports whether it
// was written.
func (l *SocketLink) Write(v any) bool {
	if l.mute.Load() {
		return false
	}
	l.wmu.Lock()
	defer l.wmu.Unlock()
	_ = l.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return l.ws.WriteJSON(v) == nil
}

func (l *SocketLink) close() {
	select {
	case <-l.stopped:
	default:
		close(l.stopped)
		_ = l.ws.Close()
	}
}

// Reset drops the link with a TCP reset, as a load balancer or a crashed
// peer does: no close frame, the next read or write fails.
func (l *SocketLink) Reset() {
	if tcp, ok := l.raw.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	l.close()
}

// HalfOpen leaves the link open with nobody behind it: nothing is read
// from or written to it again, pings included.
func (l *SocketLink) HalfOpen() {
	l.mute.Store(true)
	l.deaf.Store(true)
}

// Silence stops every write on the link, pings included; it still reads.
func (l *SocketLink) Silence() { l.mute.Store(true) }

// Refresh asks the app to reconnect, as Slack does before it recycles a
// connection.
func (l *SocketLink) Refresh() bool {
	return l.Write(map[string]any{"type": "disconnect", "reason": "refresh_requested"})
}

// redeliver sends again the events not acknowledged: all of them on a
// new connection (fresh), those older than RedeliverAfter otherwise.
func (s *SocketServer) redeliver(l *SocketLink, fresh bool) {
	s.mu.Lock()
	var due []string
	for id, e := range s.sent {
		if _, acked := s.acks[id]; acked || e.typ != "events_api" || e.attempts >= maxSendAttempts {
			continue
		}
		if fresh || time.Since(e.lastSent) > RedeliverAfter {
			due = append(due, id)
		}
	}
	s.mu.Unlock()
	for _, id := range due {
		s.Send(l, id, "", nil)
	}
}

// Send delivers envelope id of type typ (slash_commands, interactive,
// events_api) on l; an id sent before is sent again as a retry, with its
// first type and payload.
func (s *SocketServer) Send(l *SocketLink, id, typ string, payload json.RawMessage) {
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
	l.Write(msg)
}

// Link waits, up to within, until more than n connections were made and
// returns the current one; it first gets every unacknowledged event
// again, as a new connection does from Slack.
func (s *SocketServer) Link(n int, within time.Duration) (*SocketLink, error) {
	deadline := time.After(within)
	for {
		s.mu.Lock()
		links, changed := len(s.links), s.changed
		var l *SocketLink
		if links > n {
			l = s.cur
		}
		s.mu.Unlock()
		if l != nil {
			s.redeliver(l, true)
			return l, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return nil, fmt.Errorf("no Socket Mode connection %d within %s", n+1, within)
		}
	}
}

// KeepConnections makes the server keep every connection open, as Slack
// does for an app whose replicas each hold one; by default a new
// connection replaces the last.
func (s *SocketServer) KeepConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keepAll = true
}

// Links returns the connections made so far, in order; some may be
// closed.
func (s *SocketServer) Links() []*SocketLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.links)
}

// AckedOn returns the connection envelope id was acknowledged on, and how
// many times it was acknowledged.
func (s *SocketServer) AckedOn(id string) (*SocketLink, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ackedOn[id], s.ackN[id]
}

// Connections counts the connections made so far.
func (s *SocketServer) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.links)
}

// Hold makes new connections wait until release is called, as during
// Slack's own outage.
func (s *SocketServer) Hold() (release func()) {
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

// ErrNotAcknowledged is Ack's error for an envelope not acknowledged in
// time.
var ErrNotAcknowledged = errors.New("envelope not acknowledged")

// Ack waits, up to within, for envelope id's acknowledgement and returns
// its payload (nil for an empty ack).
func (s *SocketServer) Ack(id string, within time.Duration) (json.RawMessage, error) {
	deadline := time.After(within)
	for {
		s.mu.Lock()
		p, ok := s.acks[id]
		changed := s.changed
		s.mu.Unlock()
		if ok {
			return p, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return nil, fmt.Errorf("%s: %w within %s", id, ErrNotAcknowledged, within)
		}
	}
}

// AckLatency is how long envelope id waited for its acknowledgement, from
// its first send.
func (s *SocketServer) AckLatency(id string) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, sent := s.sent[id]
	at, acked := s.ackedAt[id]
	if !sent || !acked {
		return 0, false
	}
	return at.Sub(e.firstSent), true
}

// Unacked counts the events sent and not acknowledged.
func (s *SocketServer) Unacked() int {
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
