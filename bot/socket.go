package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/resilience"
)

// Defaults of SocketConfig.
const (
	// DefaultSilence is how long a connection may go without a frame
	// (envelope, ping, hello) before it is replaced. Slack pings every few
	// seconds, so a minute of nothing is a dead or half-open socket.
	DefaultSilence = time.Minute
	// DefaultEventWorkers record Events API envelopes; a burst beyond
	// them and their queue is left unacknowledged, for Slack to deliver
	// again.
	DefaultEventWorkers = 16
	// DefaultInteractiveWorkers answer slash commands, clicks and form
	// submissions, apart from the events so that a burst of events never
	// makes a person wait.
	DefaultInteractiveWorkers = 8
	// ackTimeout bounds every acknowledgement: Slack gives up on an
	// answer after 3 s, so a later one is worthless.
	ackTimeout = 2500 * time.Millisecond
	// staleInteraction is how long a command or click may wait in the
	// queue before it is answered "busy" instead of run: run later, its
	// answer would reach nobody, and Slack never delivers it again.
	staleInteraction = 2 * time.Second
	// eventQueue and interactiveQueue bound what waits for a worker. A
	// burst of events queues (a few KiB each) rather than being left for
	// Slack, whose later deliveries come minutes apart.
	eventQueue       = 4096
	interactiveQueue = 64
	// maxBusyAnswers bounds the "busy" answers in flight when even the
	// interactive queue is full.
	maxBusyAnswers = 64
	// dialTimeout bounds connecting to Slack's WebSocket.
	dialTimeout = 10 * time.Second
)

// busyText answers a command or click that Ooda cannot take in time.
const busyText = "Ooda is busy catching up with Slack and did not run this — try again in a moment."

// SocketConfig is what Socket Mode needs. API is a client built with the
// app-level token (slackapi.NewSocketClient); each connection gets a
// fresh socketmode client over it.
type SocketConfig struct {
	API     *slack.Client
	Handler *SlackHandler
	// Silence is how long a connection may stay silent before it is
	// replaced; default DefaultSilence.
	Silence time.Duration
	// Workers for events and for interactions; defaults above.
	EventWorkers, InteractiveWorkers int
	// PingInterval is slack-go's own ping deadline; zero keeps slack-go's.
	PingInterval time.Duration
	Logger       *slog.Logger
	// Registerer receives the connection's metrics; nil records none.
	Registerer prometheus.Registerer
}

// SocketMode serves Slack over Socket Mode. Its receive loop never stops
// reading the client's events: envelopes go to bounded queues without
// blocking it, every acknowledgement has a deadline, and a watchdog
// replaces a connection that has gone silent. Health says whether it is
// connected and hearing Slack, for the status API.
type SocketMode struct {
	cfg     SocketConfig
	h       *SlackHandler
	metrics socketMetrics

	mu        sync.Mutex
	connected bool      // a connection is open (Slack said hello or slack-go connected)
	since     time.Time // when connected last changed
	stalled   bool      // the watchdog found the open connection silent
	lastFrame atomic.Int64
	busy      chan struct{}
	spares    sync.WaitGroup // the goroutines spare started; Run waits for them
}

// SocketHealth is the state of the Socket Mode connection.
type SocketHealth struct {
	// Connected is true while a connection is open and not silent past
	// the watchdog's limit.
	Connected bool
	// Since is when Connected last changed.
	Since time.Time
	// LastFrame is when the last frame (envelope, ping, hello, or any
	// byte of the connection) arrived; zero before the first.
	LastFrame time.Time
	// Silence is the watchdog's limit.
	Silence time.Duration
}

// NewSocketMode checks cfg and fills in its defaults. It starts nothing:
// Run connects.
func NewSocketMode(cfg SocketConfig) (*SocketMode, error) {
	if cfg.API == nil || cfg.Handler == nil {
		return nil, errors.New("socket mode: needs a Slack client and a handler")
	}
	if cfg.Silence <= 0 {
		cfg.Silence = DefaultSilence
	}
	if cfg.EventWorkers <= 0 {
		cfg.EventWorkers = DefaultEventWorkers
	}
	if cfg.InteractiveWorkers <= 0 {
		cfg.InteractiveWorkers = DefaultInteractiveWorkers
	}
	if cfg.Logger == nil {
		cfg.Logger = cfg.Handler.cfg.Logger
	}
	s := &SocketMode{cfg: cfg, h: cfg.Handler, since: time.Now(), busy: make(chan struct{}, maxBusyAnswers)}
	s.metrics = newSocketMetrics(cfg.Registerer, s)
	return s, nil
}

// Health reports the connection's state now.
func (s *SocketMode) Health() SocketHealth {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := SocketHealth{Connected: s.connected && !s.stalled, Since: s.since, Silence: s.cfg.Silence}
	if ns := s.lastFrame.Load(); ns > 0 {
		hs.LastFrame = time.Unix(0, ns)
	}
	return hs
}

// heard records that a frame arrived.
func (s *SocketMode) heard() { s.lastFrame.Store(time.Now().UnixNano()) }

// setConnected records a change of the connection's state and logs it.
func (s *SocketMode) setConnected(ctx context.Context, up bool, why string) {
	s.mu.Lock()
	was := s.connected && !s.stalled
	s.connected, s.stalled = up, false
	if was != up {
		s.since = time.Now()
	}
	s.mu.Unlock()
	switch {
	case up && !was:
		s.cfg.Logger.InfoContext(ctx, "connected to Slack over Socket Mode")
	case !up && was && ctx.Err() == nil:
		s.cfg.Logger.WarnContext(ctx, "Socket Mode connection lost; reconnecting", "why", why)
	}
}

// stall checks the open connection against the watchdog's limit and
// reports whether it has gone silent (and is to be replaced). A
// connection still being made is slack-go's to retry, with its backoff.
func (s *SocketMode) stall(ctx context.Context, since time.Time) bool {
	heard := time.Unix(0, max(s.lastFrame.Load(), since.UnixNano()))
	silent := time.Since(heard)
	s.mu.Lock()
	open := s.connected && !s.stalled
	if !open || silent <= s.cfg.Silence {
		s.mu.Unlock()
		return false
	}
	s.stalled, s.since = true, time.Now()
	s.mu.Unlock()
	s.metrics.stalls.Inc()
	s.cfg.Logger.WarnContext(ctx, "Socket Mode connection stalled: no frame from Slack; replacing it", "silent", silent.Round(time.Second).String())
	return true
}

// job is one envelope waiting for a worker, with the client that must
// acknowledge it (and its connection's context, which ends its acks) and
// when it arrived.
type job struct {
	client *socketmode.Client
	conn   context.Context
	evt    socketmode.Event
	at     time.Time
}

// Run serves Slack over Socket Mode until ctx ends, then returns nil once
// everything it started has stopped; it returns an error when Slack
// refuses the app token. A connection that fails is reconnected by
// slack-go; one that goes silent is replaced here.
func (s *SocketMode) Run(ctx context.Context) error {
	events := make(chan job, eventQueue)
	interactive := make(chan job, interactiveQueue)
	var wg sync.WaitGroup
	defer s.spares.Wait()
	defer wg.Wait()
	wctx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	for range s.cfg.EventWorkers {
		wg.Go(func() { s.work(wctx, events) })
	}
	for range s.cfg.InteractiveWorkers {
		wg.Go(func() { s.work(wctx, interactive) })
	}
	defer s.setConnected(ctx, false, "stopped")
	for {
		err := s.connection(ctx, events, interactive)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// errStalled ends a connection the watchdog found silent.
var errStalled = errors.New("socket mode connection silent")

// connection runs one socketmode client until ctx ends, the client fails
// for good (returned), or the watchdog finds it silent (nil: Run makes a
// new one). Its receive loop reads every event the client emits, so the
// client's own goroutines never wait on it.
func (s *SocketMode) connection(ctx context.Context, events, interactive chan<- job) error {
	cctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	client := socketmode.New(s.cfg.API, s.clientOptions()...)
	started := time.Now() // the watchdog counts from here, or from the last frame
	runErr := make(chan error, 1)
	go func() { runErr <- client.RunContext(cctx) }()
	watch := time.NewTicker(min(s.cfg.Silence/4, time.Second))
	defer watch.Stop()
	for {
		select {
		case err := <-runErr:
			s.setConnected(ctx, false, "connection ended")
			if ctx.Err() != nil || errors.Is(context.Cause(cctx), errStalled) {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case <-watch.C:
			if cctx.Err() == nil && s.stall(ctx, started) {
				cancel(errStalled)
			}
		case evt := <-client.Events:
			s.receive(cctx, client, evt, events, interactive)
		}
	}
}

// clientOptions builds each connection's client: its dialer marks every
// byte read as a frame heard (pings included, which slack-go keeps to
// itself), and slack-go's own log is ours.
func (s *SocketMode) clientOptions() []socketmode.Option {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 15 * time.Second}
	opts := []socketmode.Option{
		socketmode.OptionLog(log.New(io.Discard, "", 0)),
		socketmode.OptionDialer(&websocket.Dialer{
			Proxy:            http.ProxyFromEnvironment,
			HandshakeTimeout: dialTimeout,
			NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return &heardConn{Conn: c, heard: s.heard}, nil
			},
		}),
	}
	if s.cfg.PingInterval > 0 {
		opts = append(opts, socketmode.OptionPingInterval(s.cfg.PingInterval))
	}
	return opts
}

// heardConn is a connection that reports every read that got bytes.
type heardConn struct {
	net.Conn
	heard func()
}

func (c *heardConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.heard()
	}
	return n, err
}

// receive takes one event from the client of connection conn without
// ever blocking: an
// envelope goes to its queue or, when that is full, is answered "busy"
// (commands, clicks, forms: Slack never delivers them again) or left for
// Slack to deliver again (events). Lifecycle events are handled here.
func (s *SocketMode) receive(conn context.Context, client *socketmode.Client, evt socketmode.Event, events, interactive chan<- job) {
	req := evt.Request
	if req != nil {
		s.heard() // a frame from Slack; the client's own events are not
	}
	if req == nil || req.EnvelopeID == "" {
		s.lifecycle(conn, client, evt)
		return
	}
	j := job{client: client, conn: conn, evt: evt, at: time.Now()}
	switch evt.Type {
	case socketmode.EventTypeSlashCommand, socketmode.EventTypeInteractive:
		select {
		case interactive <- j:
		default:
			s.answerBusy(j, false)
		}
	default:
		select {
		case events <- j:
		default:
			s.metrics.shed.WithLabelValues(kindEvent).Inc()
		}
	}
}

// lifecycle handles what the client says about its connection, and the
// envelopes it could not read.
func (s *SocketMode) lifecycle(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected, socketmode.EventTypeHello:
		s.setConnected(ctx, true, "")
	case socketmode.EventTypeConnecting:
		s.setConnected(ctx, false, "reconnecting")
	case socketmode.EventTypeConnectionError:
		s.setConnected(ctx, false, "connection failed")
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			s.cfg.Logger.WarnContext(ctx, "Socket Mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.Error())
		}
	case socketmode.EventTypeInvalidAuth:
		s.cfg.Logger.ErrorContext(ctx, "Slack refused the app token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeIncomingError:
		s.setConnected(ctx, false, "read failed")
	case socketmode.EventTypeErrorWriteFailed:
		s.cfg.Logger.WarnContext(ctx, "Socket Mode could not write to Slack", "type", string(evt.Type))
	case socketmode.EventTypeErrorBadMessage:
		if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			s.unreadableEnvelope(ctx, client, e)
		}
	}
}

// unreadableEnvelope acknowledges an envelope slack-go could not parse,
// typically an event of a type it does not know, so Slack does not keep
// delivering it: HTTP answers such an event 200 too. The ack is sent
// apart from the receive loop, which must not wait.
func (s *SocketMode) unreadableEnvelope(ctx context.Context, client *socketmode.Client, e *socketmode.ErrorBadMessage) {
	id, err := envelopeID(e.Message)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "Slack sent a Socket Mode message without an envelope", "err", e.Cause.Error())
		return
	}
	s.cfg.Logger.DebugContext(ctx, "acknowledging a Socket Mode envelope slack-go could not read", "err", e.Cause.Error())
	s.h.metrics.requests.WithLabelValues(kindEvent, outcomeIgnored).Inc()
	s.spare(func() { s.ack(ctx, client, kindEvent, id, nil) })
}

// answerBusy answers a command or click no worker can take in time, and
// runs nothing: a command is answered "busy" in its ack, a form shows it
// under its title (an empty ack would close the form, declaring nothing),
// a click gets it as a follow-up. The ack is sent from a spare goroutine
// unless inline (a worker, which may wait for it).
func (s *SocketMode) answerBusy(j job, inline bool) {
	kind, payload := s.busyAnswer(j)
	s.metrics.shed.WithLabelValues(kind).Inc()
	s.h.metrics.requests.WithLabelValues(kind, outcomeBusy).Inc()
	send := func() { s.ack(j.conn, j.client, kind, j.evt.Request.EnvelopeID, payload) }
	if inline {
		send()
		return
	}
	if !s.spare(send) {
		s.cfg.Logger.WarnContext(j.conn, "Socket Mode overloaded: a "+kind+" went unanswered")
	}
}

// busyAnswer is what tells the person behind j to try again.
func (s *SocketMode) busyAnswer(j job) (kind string, payload any) {
	if _, ok := j.evt.Data.(slack.SlashCommand); ok {
		return kindCommand, ephemeral(busyText)
	}
	cb, ok := j.evt.Data.(slack.InteractionCallback)
	switch {
	case ok && cb.Type == slack.InteractionTypeViewSubmission:
		return kindInteraction, slack.NewErrorsViewSubmissionResponse(map[string]string{declareTitle: busyText})
	case ok:
		s.h.followUp(cb.ResponseURL, busyText)
	}
	return kindInteraction, nil
}

// spare runs fn in a goroutine of its own, at most maxBusyAnswers at
// once, and reports whether it did. Each is bounded by ackTimeout.
func (s *SocketMode) spare(fn func()) bool {
	select {
	case s.busy <- struct{}{}:
	default:
		return false
	}
	s.spares.Go(func() {
		defer func() { <-s.busy }()
		fn()
	})
	return true
}

// work handles envelopes until ctx ends.
func (s *SocketMode) work(ctx context.Context, jobs <-chan job) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-jobs:
			s.handle(ctx, j)
		}
	}
}

// handle runs one envelope and acknowledges it. A command or click that
// waited too long for a worker is answered "busy" instead: its answer
// would reach nobody.
func (s *SocketMode) handle(ctx context.Context, j job) {
	// net/http recovers a panicking handler; this is the same for an
	// envelope, so one bad payload cannot stop the bot.
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.ErrorContext(ctx, "socket mode envelope panicked", "panic", fmt.Sprint(p))
			s.h.metrics.requests.WithLabelValues("envelope", outcomeError).Inc()
		}
	}()
	interactive := j.evt.Type != socketmode.EventTypeEventsAPI
	if j.conn.Err() != nil {
		// Its connection was replaced: no ack can reach Slack. An event
		// comes again; a command or click is not run (its answer would
		// reach nobody) and is told so where it can be.
		if interactive {
			s.answerGone(j)
		} else {
			s.metrics.shed.WithLabelValues(kindEvent).Inc()
		}
		return
	}
	if interactive && time.Since(j.at) > staleInteraction {
		s.answerBusy(j, true)
		return
	}
	kind, id, payload, ack := s.h.envelope(ctx, j.evt, j.at)
	if ack {
		s.ack(j.conn, j.client, kind, id, payload)
	}
}

// answerGone tells the person behind a command or click whose connection
// is gone to try again, through its response_url where it has one.
func (s *SocketMode) answerGone(j job) {
	kind := kindInteraction
	url := ""
	switch d := j.evt.Data.(type) {
	case slack.SlashCommand:
		kind, url = kindCommand, d.ResponseURL
	case slack.InteractionCallback:
		url = d.ResponseURL
	}
	s.metrics.shed.WithLabelValues(kind).Inc()
	s.h.metrics.requests.WithLabelValues(kind, outcomeBusy).Inc()
	s.h.followUp(url, busyText)
}

// ack acknowledges envelope id with payload within ackTimeout, or until
// its connection ends (conn); a failure is logged and counted, never
// waited on.
func (s *SocketMode) ack(conn context.Context, client *socketmode.Client, kind, id string, payload any) {
	actx, cancel := context.WithTimeout(conn, ackTimeout)
	defer cancel()
	if err := client.AckCtx(actx, id, payload); err != nil {
		s.metrics.ackFailures.WithLabelValues(kind).Inc()
		s.cfg.Logger.WarnContext(conn, "could not acknowledge a Socket Mode envelope", "kind", kind, "err", err)
	}
}

// envelope runs one request as HTTP would and says how to acknowledge
// it: with what HTTP would have answered (a command's reply, a view
// submission's response_action). An event is acknowledged once recorded,
// as HTTP answers 200 only then; one that could not be recorded is left
// unacknowledged, so Slack delivers it again.
func (h *SlackHandler) envelope(ctx context.Context, evt socketmode.Event, start time.Time) (kind, id string, payload any, ack bool) {
	outcome := outcomeIgnored
	ack = true
	switch evt.Type {
	case socketmode.EventTypeSlashCommand:
		kind = kindCommand
		if sc, ok := evt.Data.(slack.SlashCommand); ok {
			var reply *SlashReply
			if reply, outcome = h.command(ctx, sc, command.TransportSocket); reply != nil {
				payload = reply
			}
		} else {
			outcome = outcomeMalformed
		}
	case socketmode.EventTypeInteractive:
		kind = kindInteraction
		if cb, ok := evt.Data.(slack.InteractionCallback); ok {
			payload, outcome = h.interaction(ctx, cb)
		} else {
			outcome = outcomeMalformed
		}
	case socketmode.EventTypeEventsAPI:
		kind = kindEvent
		if ev, ok := evt.Data.(slackevents.EventsAPIEvent); ok {
			var err error
			if outcome, err = h.event(ctx, ev); err != nil {
				h.cfg.Logger.ErrorContext(ctx, "could not record a Slack event; Slack will deliver it again", "err", err)
				outcome, ack = outcomeError, false
			}
		} else {
			outcome = outcomeMalformed
		}
	default:
		return "", "", nil, false
	}
	// Counted before the ack is queued, so whoever sees the ack sees the
	// count; queuing is all that is left of the answer's time.
	h.metrics.requests.WithLabelValues(kind, outcome).Inc()
	if kind != kindEvent && (outcome == outcomeOK || outcome == outcomeRefused) {
		h.metrics.ack.WithLabelValues(kind, command.TransportSocket).Observe(time.Since(start).Seconds())
	}
	return kind, evt.Request.EnvelopeID, payload, ack
}

// envelopeID reads the envelope id of a raw Socket Mode message.
func envelopeID(raw json.RawMessage) (string, error) {
	var req socketmode.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		return "", err
	}
	if req.EnvelopeID == "" {
		return "", errors.New("no envelope_id")
	}
	return req.EnvelopeID, nil
}

// socketMetrics are the connection's own.
type socketMetrics struct {
	shed        *prometheus.CounterVec
	ackFailures *prometheus.CounterVec
	stalls      prometheus.Counter
}

func newSocketMetrics(reg prometheus.Registerer, s *SocketMode) socketMetrics {
	m := socketMetrics{
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_socket_mode_shed_total",
			Help: "Socket Mode envelopes no worker could take in time, by kind: events are left for Slack to deliver again, commands and interactions are answered busy.",
		}, []string{"kind"}),
		ackFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_socket_mode_ack_failures_total",
			Help: "Socket Mode acknowledgements that could not be sent within 2.5 s, by kind.",
		}, []string{"kind"}),
		stalls: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ooda_socket_mode_stalls_total",
			Help: "Socket Mode connections replaced because Slack sent nothing (not even a ping) for longer than the watchdog's limit.",
		}),
	}
	if reg == nil {
		return m
	}
	m.shed = resilience.RegisterOrReuse(reg, m.shed)
	m.ackFailures = resilience.RegisterOrReuse(reg, m.ackFailures)
	m.stalls = resilience.RegisterOrReuse(reg, m.stalls)
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ooda_socket_mode_connected",
		Help: "1 while a Socket Mode connection is open and Slack has been heard within the watchdog's limit, else 0.",
	}, func() float64 {
		if s.Health().Connected {
			return 1
		}
		return 0
	}))
	_ = reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "ooda_socket_mode_last_frame_age_seconds",
		Help: "Seconds since the Socket Mode connection last received a frame (envelope, ping, hello).",
	}, func() float64 {
		if ns := s.lastFrame.Load(); ns > 0 {
			return time.Since(time.Unix(0, ns)).Seconds()
		}
		return 0
	}))
	return m
}
