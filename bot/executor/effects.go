package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
)

// Bounds of the searches the executor makes.
const (
	listPage     = 1000
	listMaxPages = 100 // 100,000 channels
	// eventsBefore is how far before a handover the brief's entries are
	// read from.
	eventsBefore = 30
)

// attrEffectKind records, in an effect_failed event, what kind of effect
// failed, so later effects can tell that the channel will never exist.
const attrEffectKind = "kind"

// Errors the executor makes of its own.
var (
	// errNoChannelYet defers an incident-channel effect whose channel does
	// not exist yet. Effects run in order, so it only happens when the
	// channel's creation has not completed.
	errNoChannelYet = errors.New("no_channel_yet")
	// errNoChannel fails one whose channel's creation failed for good.
	errNoChannel = errors.New("no_channel")
	// errNotUploadedYet defers a bookmark whose upload has not completed.
	// Effects run in order, so it only happens should that order break.
	errNotUploadedYet = errors.New("not_uploaded_yet")
	// errSharePending defers an upload Slack completed but whose sharing
	// message is not in the channel's history yet (Slack shares files
	// asynchronously); that message is where the permalink comes from.
	errSharePending = errors.New("file_share_pending")
)

// shareLookups is how many times an uploaded draft is looked for in the
// channel's history before it is recorded without its permalink (and so
// without a bookmark): a message deleted at once must not keep the
// incident's later effects waiting forever.
const shareLookups = 5

// storeError is a failure of Ooda's own store while performing an effect:
// not the effect's fault, not Slack's, and nothing to record in the
// outbox, which is what failed.
type storeError struct{ err error }

func (e *storeError) Error() string { return e.err.Error() }
func (e *storeError) Unwrap() error { return e.err }

func storeErr(what string, err error) error {
	return &storeError{err: fmt.Errorf("%s: %w", what, err)}
}

// result is what performing an effect produced.
type result struct {
	values  map[string]string // what later attempts and effects need (channel, ts)
	decide  incident.Decider  // events to append with the completion
	skipped bool
}

// performOne makes one attempt at pe and records how it went. It reports
// whether the incident's chain may go on to its next effect.
func (e *Executor) performOne(ctx context.Context, p *pass, pe incident.Pending) bool {
	fx := pe.Effect
	attempt := pe.Attempts + 1
	settle := e.settle(ctx, pe)
	pctx := ctx
	if settle > 0 {
		// Marked before it is sent, as a post is: killed mid-call, or
		// its completion lost, the next attempt waits until it would
		// find what this one made. The attempt has a budget, counted in
		// the wait, so a slow look before the create cannot eat it.
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, ticketBudget)
		defer cancel()
		settle += ticketBudget
		if err := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
			Attempts: attempt, NextAt: e.cfg.Now().Add(settle), Error: pe.LastError, Result: pe.Result,
		}); err != nil {
			p.fail(fmt.Errorf("mark effect %s: %w", fx.Key, err))
			return false
		}
	}
	res, err := e.perform(pctx, pe)
	now := e.cfg.Now()
	kind := string(fx.Kind)
	var se *storeError
	switch {
	case err == nil:
		_, cerr := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
			Result: res.values, At: now, Key: fx.Key, Decide: res.decide,
		})
		if cerr != nil {
			// Slack did it; keep what it returned, so the next attempt
			// updates instead of posting again. Should this write fail
			// too, the next attempt still reconciles (see post).
			if ctx.Err() == nil {
				_ = e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
					Attempts: attempt, NextAt: now.Add(settle), Error: "complete: " + cerr.Error(), Result: res.values,
				})
			}
			p.fail(fmt.Errorf("complete effect %s: %w", fx.Key, cerr))
			return false
		}
		outcome := effectDone
		if res.skipped {
			outcome = effectSkipped
		} else if !isTicket(fx.Kind) {
			e.slackAnswered()
		}
		e.metrics.effects.WithLabelValues(kind, outcome).Inc()
		p.removedOne(fx.Kind)
		return true
	case ctx.Err() != nil:
		// Shutting down. Whatever was in flight is ambiguous; a post was
		// marked before it was sent, so the next attempt reconciles.
		return false
	case errors.As(err, &se):
		p.fail(fmt.Errorf("effect %s: %w", fx.Key, err))
		return false
	case errors.Is(err, resilience.ErrPermanent):
		return e.failForGood(ctx, p, pe, res, err)
	}
	return e.deferEffect(ctx, p, pe, res, err)
}

// failForGood completes an effect that cannot succeed and records why in
// the incident's timeline, in the same transaction, so the next reply
// about the incident mentions it.
func (e *Executor) failForGood(ctx context.Context, p *pass, pe incident.Pending, res result, err error) bool {
	fx := pe.Effect
	now := e.cfg.Now()
	code := errorCode(err)
	msg := resilience.Redact(err.Error())
	if !isTicket(fx.Kind) && slackapi.AnsweredBySlack(err) {
		e.slackAnswered()
	}
	sentence := fmt.Sprintf("Ooda could not %s: %s", describeEffect(fx), code)
	meta := incident.Meta{At: now, Actor: incident.Bot, Source: timeline.SourceSystem, Key: fx.Key}
	decide := func(inc *incident.Incident) (incident.Change, error) {
		return inc.Record(timeline.KindEffectFailed, timeline.PhaseNone, sentence, map[string]string{
			timeline.AttrEffect: fx.Key, timeline.AttrError: code, attrEffectKind: string(fx.Kind),
		}, meta)
	}
	if isTicket(fx.Kind) {
		decide = e.ticketFailed(pe, err, meta)
	}
	_, cerr := e.cfg.Outbox.Complete(ctx, pe.OutboxSeq, incident.Outcome{
		Result: res.values, Failed: true, Error: msg, At: now, Key: fx.Key, Decide: decide,
	})
	if cerr != nil {
		p.fail(fmt.Errorf("record failed effect %s: %w", fx.Key, cerr))
		return false
	}
	e.metrics.effects.WithLabelValues(string(fx.Kind), effectFailed).Inc()
	e.log.LogAttrs(ctx, slog.LevelError, "effect failed for good",
		slog.String("effect", fx.Key), slog.Int("attempts", pe.Attempts+1), slog.String("error", msg))
	p.removedOne(fx.Kind)
	// The chain goes on: later effects do not depend on this one, except
	// on a channel, and those find out for themselves.
	return true
}

// deferEffect records a failed attempt that may pass and when to try
// again. Nothing is ever given up on: an outage only delays.
func (e *Executor) deferEffect(ctx context.Context, p *pass, pe incident.Pending, res result, err error) bool {
	fx := pe.Effect
	now := e.cfg.Now()
	attempt := pe.Attempts + 1
	wait := e.cfg.Backoff.Delay(attempt)
	if d, ok := e.retryAfter(fx, err); ok {
		wait = d
	}
	switch {
	case isTicket(fx.Kind):
		// A tracker's trouble says nothing about Slack.
	case errors.Is(err, resilience.ErrBulkheadFull), errors.Is(err, errNoChannelYet),
		errors.Is(err, errNotUploadedYet), errors.Is(err, errSharePending):
		// Our own congestion or ordering, or Slack still at work: not
		// news about Slack's health.
	case e.cfg.Guard.Classify(err) == resilience.ClassRateLimited:
		e.slackAnswered()
	default:
		e.slackFailed(now)
	}
	msg := resilience.Redact(err.Error())
	next := now.Add(wait)
	values := res.values
	if values == nil {
		values = pe.Result
	}
	if derr := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
		Attempts: attempt, NextAt: next, Error: msg, Result: values,
	}); derr != nil {
		p.fail(fmt.Errorf("defer effect %s: %w", fx.Key, derr))
		return false
	}
	e.metrics.effects.WithLabelValues(string(fx.Kind), effectDeferred).Inc()
	level, what := slog.LevelWarn, "effect deferred"
	if attempt == loudAfter {
		level, what = slog.LevelError, "effect still failing; it stays queued and is retried"
	}
	e.log.LogAttrs(ctx, level, what,
		slog.String("effect", fx.Key), slog.Int("attempts", attempt),
		slog.Duration("retry_in", wait), slog.String("error", msg))
	p.stop(laneOf(fx), next)
	return false
}

// perform makes one attempt at an effect.
func (e *Executor) perform(ctx context.Context, pe incident.Pending) (result, error) {
	switch pe.Effect.Kind {
	case incident.EffectCreateChannel:
		return e.createChannel(ctx, pe)
	case incident.EffectInvite:
		return e.invite(ctx, pe)
	case incident.EffectSetTopic:
		return e.setTopic(ctx, pe)
	case incident.EffectPost, incident.EffectDM:
		return e.post(ctx, pe)
	case incident.EffectUploadFile:
		return e.uploadPostmortem(ctx, pe)
	case incident.EffectBookmark:
		return e.bookmark(ctx, pe)
	case incident.EffectRefreshKickoff:
		return e.refreshKickoff(ctx, pe)
	case incident.EffectThreadReply:
		return e.threadReply(ctx, pe)
	case incident.EffectCreateTicket, incident.EffectCloseTicket:
		return e.ticket(ctx, pe)
	}
	return result{}, resilience.Permanent(fmt.Errorf("unknown_effect: %q", pe.Effect.Kind))
}

// describeEffect says what an effect does, for the timeline entry that
// records its failure.
func describeEffect(fx incident.Effect) string {
	switch fx.Kind {
	case incident.EffectCreateChannel:
		return "create the incident channel #" + fx.Params["name"]
	case incident.EffectInvite:
		var who []string
		for _, u := range splitUsers(fx.Params["users"]) {
			who = append(who, mrkdwn.Mention(u))
		}
		return "invite " + strings.Join(who, ", ") + " to the incident channel"
	case incident.EffectSetTopic:
		return "set the incident channel's topic"
	case incident.EffectDM:
		return "send " + mrkdwn.Mention(fx.Target) + " a direct message"
	case incident.EffectUploadFile:
		return "upload the post-mortem draft to the incident channel"
	case incident.EffectBookmark:
		return "bookmark the post-mortem draft in the incident channel"
	case incident.EffectRefreshKickoff:
		return "update the kickoff message"
	case incident.EffectThreadReply:
		return "reply in the thread of the message the incident was declared from, in <#" + fx.Params["channel"] + ">"
	case incident.EffectPost:
		where := "the incident channel"
		if fx.Target == incident.TargetAnnounce {
			where = "the announcement channel"
		}
		return fmt.Sprintf("post the %s message in %s", fx.Template, where)
	}
	return "perform " + string(fx.Kind)
}

// errorCode is the short code an effect_failed event records: Slack's
// error code, an HTTP status, or the executor's own.
func errorCode(err error) string {
	if c := slackapi.ErrorCode(err); c != "" {
		return c
	}
	if sc, ok := errors.AsType[slack.StatusCodeError](err); ok {
		return "http_" + strconv.Itoa(sc.Code)
	}
	for _, own := range []error{errNoChannel, errNoChannelYet} {
		if errors.Is(err, own) {
			return own.Error()
		}
	}
	// The executor's own permanent errors start with their code.
	if code, _, ok := strings.Cut(rootMessage(err), ":"); ok && !strings.ContainsAny(code, " ") {
		return code
	}
	return "error"
}

func rootMessage(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
