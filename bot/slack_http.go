package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage"
)

// ViewOpener opens a modal in answer to a trigger.
type ViewOpener interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
}

// InboundSlack is what the inbound side calls of Slack's Web API, always
// off the request path: it opens the declare form, fetches the text of a
// captured message the event did not carry, and asks for the permalink
// of a message an incident was declared from.
type InboundSlack interface {
	ViewOpener
	slackapi.HistoryReader
	// GetPermalinkContext links the message an incident was declared from.
	GetPermalinkContext(ctx context.Context, params *slack.PermalinkParameters) (string, error)
}

// Transcript keeps the human messages of incident channels.
type Transcript interface {
	RecordMessage(ctx context.Context, n uint64, c storage.MessageChange) (bool, error)
	TranscriptMessageAt(ctx context.Context, n uint64, ts string) (storage.TranscriptMessage, bool, error)
}

var (
	_ InboundSlack = (*slack.Client)(nil)
	_ Transcript   = (*storage.DB)(nil)
)

// SlackConfig is what the Slack inbound side needs. Zero values take the
// defaults NewSlackHandler gives them.
type SlackConfig struct {
	// SigningSecret verifies HTTP requests. Socket Mode does not use it:
	// its connection is authenticated by the app token.
	SigningSecret string
	Dispatcher    *command.Dispatcher
	Store         incident.Store
	// Transcript keeps channel messages; nil leaves message events unrecorded.
	Transcript Transcript
	// Slack is called off the request path only; nil means the declare
	// form is never opened (the reply gives the typed grammar instead) and
	// a captured message the transcript lacks is recorded without its text.
	Slack InboundSlack
	// Guard wraps every call to Slack, response_url posts included; nil
	// leaves each call with only its own deadline.
	Guard *resilience.Guard
	// HTTPClient posts follow-ups to response_url. Nil means the guard's
	// client, or a client with a 5 s timeout.
	HTTPClient *http.Client
	// BotUserID is Ooda's own user, whose messages and joins are ignored.
	BotUserID string
	// CaptureReaction is the emoji (without colons) that marks a message
	// for the timeline; default "pushpin".
	CaptureReaction string
	Now             func() time.Time
	Logger          *slog.Logger
	// MaxBody bounds a request body; default 1 MiB.
	MaxBody int64
	// Registerer receives the handler's metrics; nil records none.
	Registerer prometheus.Registerer
	// AckHistogram is the histogram (NewAckHistogram) the handler times
	// its answers in, shared with the API and read by Ooda's own SLO; the
	// caller registers it. Nil: the handler makes one and registers it on
	// Registerer.
	AckHistogram *prometheus.HistogramVec
}

// Defaults of SlackConfig.
const (
	DefaultCaptureReaction = "pushpin"
	DefaultMaxSlackBody    = 1 << 20
	// viewOpenTimeout is how long views.open may take: a trigger id
	// expires 3 s after Slack sent it, and part of that is gone already.
	viewOpenTimeout = 2500 * time.Millisecond
	// slackCallTimeout bounds the other background calls (history fetch,
	// response_url follow-up).
	slackCallTimeout = 5 * time.Second
	// maxBackground bounds the background calls in flight; beyond it the
	// handler falls back to what needs no call.
	maxBackground = 64
)

// SlackHandler answers Slack's requests (slash commands, events,
// interactions) over HTTP and, through SocketMode, over Socket Mode. It
// verifies, parses, commits locally and answers; nothing it does on a
// request's path waits on Slack. The few calls it makes (opening a modal,
// fetching a message's text, following up on response_url) run in
// goroutines it owns, each with a deadline; Close stops and waits for them.
type SlackHandler struct {
	cfg     SlackConfig
	http    *http.Client
	ownHTTP bool // http was built here, so Close releases its connections
	metrics slackMetrics

	bgCtx    context.Context
	bgCancel context.CancelFunc
	bgSlots  chan struct{}
	bgMu     sync.Mutex // guards bgClosed and bgWG.Add against Close
	bgClosed bool
	bgWG     sync.WaitGroup
	fetching sync.Map // capture keys whose text is being fetched
}

// NewSlackHandler checks cfg and builds the handler, filling in cfg's
// defaults. It starts nothing. Call Close when done with it.
func NewSlackHandler(cfg SlackConfig) (*SlackHandler, error) {
	if cfg.Dispatcher == nil || cfg.Store == nil {
		return nil, errors.New("slack handler: needs a dispatcher and a store")
	}
	if cfg.CaptureReaction == "" {
		cfg.CaptureReaction = DefaultCaptureReaction
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxSlackBody
	}
	h := &SlackHandler{cfg: cfg, http: cfg.HTTPClient, metrics: newSlackMetrics(cfg.Registerer, cfg.AckHistogram), bgSlots: make(chan struct{}, maxBackground)}
	if h.http == nil && cfg.Guard != nil {
		h.http = cfg.Guard.HTTPClient()
	}
	if h.http == nil {
		h.http, h.ownHTTP = &http.Client{Timeout: slackCallTimeout}, true
	}
	h.bgCtx, h.bgCancel = context.WithCancel(context.Background())
	return h, nil
}

// Close cancels the handler's background calls and waits for them to end.
// Requests that arrive afterwards are still answered, without background
// work.
func (h *SlackHandler) Close() {
	h.bgMu.Lock()
	h.bgClosed = true
	h.bgMu.Unlock()
	h.bgCancel()
	h.bgWG.Wait()
	if h.ownHTTP {
		h.http.CloseIdleConnections()
	}
}

// Register adds the three Slack endpoints to mux (a *Server or an
// *http.ServeMux).
func (h *SlackHandler) Register(mux interface{ Handle(string, http.Handler) }) {
	mux.Handle("POST /slack/commands", h.endpoint(kindCommand, h.serveCommand))
	mux.Handle("POST /slack/events", h.endpoint(kindEvent, h.serveEvent))
	mux.Handle("POST /slack/interactivity", h.endpoint(kindInteraction, h.serveInteraction))
}

// Request kinds, the kind label of ooda_slack_requests_total.
const (
	kindCommand     = command.KindCommand
	kindEvent       = "event"
	kindInteraction = command.KindInteraction
)

// Outcomes of a Slack request, the outcome label of
// ooda_slack_requests_total.
const (
	outcomeOK           = "ok"
	outcomeRefused      = "refused" // answered: the command was a misuse or the incident's state refused it
	outcomeIgnored      = "ignored" // acknowledged: nothing for Ooda in it
	outcomeUnauthorized = "unauthorized"
	outcomeStale        = "stale_timestamp"
	outcomeTooLarge     = "too_large"
	outcomeMalformed    = "malformed"
	outcomeError        = "error"
	outcomeBusy         = "busy" // Socket Mode: answered "try again", not run
)

// slackServe is one endpoint's work on a verified body. It writes the
// answer and returns the request's outcome.
type slackServe func(w http.ResponseWriter, r *http.Request, body []byte) string

// endpoint reads, bounds and verifies a request before serve parses it.
func (h *SlackHandler) endpoint(kind string, serve slackServe) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		outcome := h.verified(w, r, kind, serve)
		h.metrics.requests.WithLabelValues(kind, outcome).Inc()
		if kind != kindEvent && (outcome == outcomeOK || outcome == outcomeRefused) {
			h.metrics.ack.WithLabelValues(kind, command.TransportHTTP).Observe(time.Since(start).Seconds())
		}
	})
}

// verified reads the body within MaxBody and checks its signature; only
// then does serve see it.
func (h *SlackHandler) verified(w http.ResponseWriter, r *http.Request, kind string, serve slackServe) string {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		if tooBig, ok := errors.AsType[*http.MaxBytesError](err); ok {
			h.cfg.Logger.WarnContext(r.Context(), "refused an oversized Slack request",
				"path", r.URL.Path, "limit", tooBig.Limit, "remote", r.RemoteAddr)
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return outcomeTooLarge
		}
		http.Error(w, "could not read the request body", http.StatusBadRequest)
		return outcomeMalformed
	}
	if err := VerifyRequest(h.cfg.SigningSecret, r.Header, body, h.cfg.Now()); err != nil {
		// The body is not logged: it is unauthenticated input.
		h.cfg.Logger.WarnContext(r.Context(), "refused an unverified Slack request",
			"path", r.URL.Path, "reason", err.Error(), "remote", r.RemoteAddr, "bytes", len(body))
		http.Error(w, "request not signed by Slack", http.StatusUnauthorized)
		if errors.Is(err, ErrStaleTimestamp) {
			return outcomeStale
		}
		return outcomeUnauthorized
	}
	return serve(w, r, body)
}

// serveCommand answers a slash command within the request.
func (h *SlackHandler) serveCommand(w http.ResponseWriter, r *http.Request, body []byte) string {
	// slack-go reads the form from the request; give it the verified bytes.
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	sc, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "the body is not a form", http.StatusBadRequest)
		return outcomeMalformed
	}
	if r.PostForm.Get("ssl_check") == "1" {
		w.WriteHeader(http.StatusOK)
		return outcomeOK
	}
	reply, outcome := h.command(r.Context(), sc, command.TransportHTTP)
	if outcome == outcomeMalformed {
		http.Error(w, "not a slash command: user_id and trigger_id are required", http.StatusBadRequest)
		return outcome
	}
	writeSlackReply(w, reply)
	return outcome
}

// serveEvent acknowledges an Events API request once its event is
// recorded. An event that could not be recorded is answered 500, so Slack
// delivers it again; recording is idempotent, so that is safe.
func (h *SlackHandler) serveEvent(w http.ResponseWriter, r *http.Request, body []byte) string {
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		if !json.Valid(body) {
			http.Error(w, "the body is not JSON", http.StatusBadRequest)
			return outcomeMalformed
		}
		// Valid JSON that slack-go cannot map: an event type Ooda did not
		// subscribe to. Acknowledge it, or Slack retries it for nothing.
		w.WriteHeader(http.StatusOK)
		return outcomeIgnored
	}
	if ev.Type == slackevents.URLVerification {
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "url_verification without a challenge", http.StatusBadRequest)
			return outcomeMalformed
		}
		answerSlack(w, map[string]string{"challenge": v.Challenge})
		return outcomeOK
	}
	if n := r.Header.Get("X-Slack-Retry-Num"); n != "" {
		h.cfg.Logger.DebugContext(r.Context(), "Slack redelivered an event", "retry", n, "reason", r.Header.Get("X-Slack-Retry-Reason"))
	}
	outcome, err := h.event(r.Context(), ev)
	if err != nil {
		h.cfg.Logger.ErrorContext(r.Context(), "could not record a Slack event; Slack will deliver it again", "err", err)
		http.Error(w, "could not record the event", http.StatusInternalServerError)
		return outcomeError
	}
	w.WriteHeader(http.StatusOK)
	return outcome
}

// serveInteraction answers a button, a menu or a modal submission.
func (h *SlackHandler) serveInteraction(w http.ResponseWriter, r *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		http.Error(w, "the body is not a form with a payload", http.StatusBadRequest)
		return outcomeMalformed
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "the payload is not JSON", http.StatusBadRequest)
		return outcomeMalformed
	}
	resp, outcome := h.interaction(r.Context(), cb)
	switch {
	case outcome == outcomeMalformed:
		http.Error(w, "not an interaction Ooda can read", http.StatusBadRequest)
	case resp == nil:
		w.WriteHeader(http.StatusOK)
	default:
		answerSlack(w, resp)
	}
	return outcome
}

// SlashReply is the JSON a slash command is answered with.
type SlashReply struct {
	ResponseType string `json:"response_type"`
	Text         string `json:"text"`
}

// writeSlackReply answers a command: its reply, or an empty 200 when the
// answer comes another way (a modal).
func writeSlackReply(w http.ResponseWriter, reply *SlashReply) {
	if reply == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	answerSlack(w, reply)
}

// background runs fn in a goroutine the handler owns, with a deadline. It
// returns false, without running fn, when the handler is closed or too
// many calls are already in flight; the caller then falls back to what
// needs no call.
func (h *SlackHandler) background(timeout time.Duration, fn func(ctx context.Context)) bool {
	h.bgMu.Lock()
	defer h.bgMu.Unlock()
	if h.bgClosed {
		return false
	}
	select {
	case h.bgSlots <- struct{}{}:
	default:
		return false
	}
	h.bgWG.Add(1)
	go func() {
		defer h.bgWG.Done()
		defer func() { <-h.bgSlots }()
		ctx, cancel := context.WithTimeout(h.bgCtx, timeout)
		defer cancel()
		fn(ctx)
	}()
	return true
}

// call makes one Slack call through the guard, when there is one.
func (h *SlackHandler) call(ctx context.Context, method string, idempotent bool, fn func(ctx context.Context) error) error {
	if h.cfg.Guard == nil {
		return fn(ctx)
	}
	return h.cfg.Guard.Do(ctx, resilience.Op{Method: method, Idempotent: idempotent}, fn)
}

// slackDown reports whether the guard already knows Slack is failing, so
// the handler can answer without trying.
func (h *SlackHandler) slackDown() bool {
	return h.cfg.Guard != nil && h.cfg.Guard.State() == "open"
}

// followUp posts an ephemeral message to a response_url, in the
// background. Slack keeps a response_url valid for 30 minutes.
func (h *SlackHandler) followUp(responseURL, text string) {
	if responseURL == "" {
		return
	}
	h.background(slackCallTimeout, func(ctx context.Context) {
		msg := &slack.WebhookMessage{ResponseType: slack.ResponseTypeEphemeral, Text: safeReplyText(text)}
		err := h.call(ctx, "response_url", false, func(ctx context.Context) error {
			return slack.PostWebhookCustomHTTPContext(ctx, responseURL, h.http, msg)
		})
		if err != nil {
			h.cfg.Logger.WarnContext(ctx, "could not follow up on a Slack interaction", "err", resilience.Redact(err.Error()))
		}
	})
}

// slackMetrics are the inbound side's collectors.
type slackMetrics struct {
	ack      *prometheus.HistogramVec
	requests *prometheus.CounterVec
}

func newSlackMetrics(reg prometheus.Registerer, ack *prometheus.HistogramVec) slackMetrics {
	m := slackMetrics{
		ack: ack,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_slack_requests_total",
			Help: "Requests from Slack (HTTP and Socket Mode) by kind (command, event, interaction) and outcome (ok, refused, ignored, unauthorized, stale_timestamp, too_large, malformed, error).",
		}, []string{"kind", "outcome"}),
	}
	if m.ack == nil {
		m.ack = command.NewAckHistogram()
		if reg != nil {
			m.ack = resilience.RegisterOrReuse(reg, m.ack)
		}
	}
	if reg != nil {
		m.requests = resilience.RegisterOrReuse(reg, m.requests)
	}
	return m
}

// answerSlack answers a Slack request with v as JSON and status 200, the
// only status Slack reads an answer from.
func answerSlack(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v) // Slack went away; it retries what matters
}
