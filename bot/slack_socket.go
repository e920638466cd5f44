package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// socketWorkers bounds the envelopes handled at once. Handling is a local
// commit, so a few workers keep the store's batches full without letting a
// burst start a goroutine per envelope.
const socketWorkers = 16

// RunSocketMode serves Slack over Socket Mode until ctx ends, then returns
// nil once everything it started has stopped; it returns an error when
// the connection fails for good (a revoked app token). It runs the
// client's connection itself, so the client must not be run elsewhere.
//
// Each envelope goes to the same functions the HTTP endpoints call, so the
// two transports cannot drift apart, and is acknowledged with what HTTP
// would have answered: a command's reply, a view submission's
// response_action. An event is acknowledged once recorded, as HTTP answers
// 200 only then; one that could not be recorded is left unacknowledged,
// so Slack delivers it again.
func RunSocketMode(ctx context.Context, client *socketmode.Client, h *SlackHandler) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	runErr := make(chan error, 1)
	wg.Go(func() { runErr <- client.RunContext(ctx) })

	slots := make(chan struct{}, socketWorkers)
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-runErr:
			if parent.Err() != nil {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt := <-client.Events:
			req := evt.Request
			if req == nil || req.EnvelopeID == "" {
				h.socketLifecycle(ctx, client, evt)
				continue
			}
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			wg.Go(func() {
				defer func() { <-slots }()
				// net/http recovers a panicking handler; this is the same
				// for an envelope, so one bad payload cannot stop the bot.
				defer func() {
					if p := recover(); p != nil {
						h.cfg.Logger.ErrorContext(ctx, "socket mode envelope panicked", "panic", fmt.Sprint(p))
						h.metrics.requests.WithLabelValues("envelope", outcomeError).Inc()
					}
				}()
				h.envelope(ctx, client, evt)
			})
		}
	}
}

// socketLifecycle handles what the client says about its connection, and
// the envelopes it could not read.
func (h *SlackHandler) socketLifecycle(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeConnected:
		h.cfg.Logger.InfoContext(ctx, "connected to Slack over Socket Mode")
	case socketmode.EventTypeConnectionError:
		if e, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			h.cfg.Logger.WarnContext(ctx, "Socket Mode connection failed; retrying", "attempt", e.Attempt, "backoff", e.Backoff, "err", e.Error())
		}
	case socketmode.EventTypeInvalidAuth:
		h.cfg.Logger.ErrorContext(ctx, "Slack refused the app token (SLACK_APP_TOKEN)")
	case socketmode.EventTypeErrorBadMessage:
		if e, ok := evt.Data.(*socketmode.ErrorBadMessage); ok {
			h.unreadableEnvelope(ctx, client, e)
		}
	case socketmode.EventTypeIncomingError, socketmode.EventTypeErrorWriteFailed:
		h.cfg.Logger.WarnContext(ctx, "Socket Mode connection error", "type", string(evt.Type))
	}
}

// unreadableEnvelope acknowledges an envelope slack-go could not parse,
// typically an event of a type it does not know, so Slack does not keep
// delivering it: HTTP answers such an event 200 too.
func (h *SlackHandler) unreadableEnvelope(ctx context.Context, client *socketmode.Client, e *socketmode.ErrorBadMessage) {
	id, err := envelopeID(e.Message)
	if err != nil {
		h.cfg.Logger.WarnContext(ctx, "Slack sent a Socket Mode message without an envelope", "err", e.Cause.Error())
		return
	}
	h.cfg.Logger.DebugContext(ctx, "acknowledged a Socket Mode envelope slack-go could not read", "err", e.Cause.Error())
	h.metrics.requests.WithLabelValues(kindEvent, outcomeIgnored).Inc()
	if err := client.AckCtx(ctx, id, nil); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not acknowledge a Socket Mode envelope", "err", err)
	}
}

// envelope handles one request and acknowledges it.
func (h *SlackHandler) envelope(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	start := time.Now()
	kind, outcome := "", outcomeIgnored
	var payload any
	ack := true
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
		h.socketLifecycle(ctx, client, evt)
		return
	}
	// Counted before the ack is queued, so whoever sees the ack sees the
	// count; queuing is all that is left of the answer's time.
	h.metrics.requests.WithLabelValues(kind, outcome).Inc()
	if kind != kindEvent && (outcome == outcomeOK || outcome == outcomeRefused) {
		h.metrics.ack.WithLabelValues(kind, command.TransportSocket).Observe(time.Since(start).Seconds())
	}
	if !ack {
		return
	}
	if err := client.AckCtx(ctx, evt.Request.EnvelopeID, payload); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not acknowledge a Socket Mode envelope", "kind", kind, "err", err)
	}
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
