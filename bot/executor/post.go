package executor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// post sends a message: into the incident channel, the announcement
// channel, or (dm) to a person. It never posts twice:
//   - a post whose ts is known from an earlier attempt is updated;
//   - before sending, the effect is marked as attempted, so that a crash
//     after Slack took the message but before the completion committed
//     leaves a mark the next attempt sees;
//   - an attempt after any earlier one (in the outbox or within the
//     guard's retries) first looks for the message in the channel's
//     history by the effect key in its metadata.
func (e *Executor) post(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	inc, err := e.cfg.Store.Incident(ctx, fx.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	var channel string
	announce := false
	switch {
	case fx.Kind == incident.EffectDM:
		channel = fx.Target
		if channel == "" {
			return result{}, resilience.Permanent(errors.New("no_user: a direct message without a recipient"))
		}
	case fx.Target == incident.TargetAnnounce:
		if e.cfg.AnnounceChannel == "" {
			e.noAnnounceLogged.Do(func() {
				e.log.LogAttrs(ctx, slog.LevelInfo, "no announcement channel configured: announcements are skipped")
			})
			return result{skipped: true, values: map[string]string{"skipped": "no announcement channel"}}, nil
		}
		channel, announce = e.cfg.AnnounceChannel, true
	case fx.Target == incident.TargetIncident || fx.Target == "":
		if channel, err = e.channelOf(ctx, inc); err != nil {
			return result{}, err
		}
	default:
		return result{}, resilience.Permanent(fmt.Errorf("unknown_target: %q", fx.Target))
	}

	// Most posts tell one event; a handover brief also the ones before it,
	// a catch-up the ones after.
	from := fx.Seq
	if fx.Template == incident.TemplateHandover {
		from = max(fx.Seq, eventsBefore+1) - eventsBefore
	}
	events, err := e.cfg.Store.Events(ctx, fx.Incident, from)
	if err != nil {
		return result{}, storeErr("read events", err)
	}
	i := slices.IndexFunc(events, func(ev timeline.Event) bool { return ev.Seq == fx.Seq })
	if i < 0 {
		return result{}, resilience.Permanent(fmt.Errorf("event_missing: %s has no event %d", inc.ID, fx.Seq))
	}
	var msg blockkit.Message
	if fx.Template == incident.TemplateActionsDue {
		var left bool
		if msg, left, err = e.actionsDue(ctx, fx); err != nil {
			return result{}, err
		}
		if !left {
			return result{skipped: true, values: map[string]string{"skipped": "no overdue action item left"}}, nil
		}
	} else if seqs := pe.Result[resultCatchUp]; seqs != "" {
		msg = blockkit.CatchUp(inc, events[i:], seqs)
	} else {
		// The kickoff is a live message, kept current; every other post
		// tells the incident as it was when its event was recorded.
		then := inc
		if fx.Template != incident.TemplateKickoff {
			if then, err = e.stateAt(ctx, inc, events[i:], fx.Seq); err != nil {
				return result{}, err
			}
		}
		pc := blockkit.PostContext{
			Event: events[i], Incident: then, Recent: events[:i], Announce: announce,
			Written: writtenAt(events[i], pe), Delivered: e.cfg.Now(),
		}
		if fx.Template == incident.TemplateKickoff {
			if pc.Similar, err = e.similar(ctx, inc); err != nil {
				return result{}, err
			}
		}
		if msg, err = blockkit.Render(fx.Template, pc); err != nil {
			return result{}, resilience.Permanent(err)
		}
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: slackapi.MetadataEventType, EventPayload: map[string]any{"key": fx.Key}}),
		slack.MsgOptionDisableLinkUnfurl(),
	}

	if ts := pe.Result["ts"]; ts != "" {
		if c := pe.Result["channel"]; c != "" {
			channel = c
		}
		return e.update(ctx, channel, ts, opts)
	}

	// A direct message goes to a user id, whose conversation's history
	// cannot be read without another call; it is not marked or
	// reconciled, and a lost answer may repeat it.
	reconcile := fx.Kind == incident.EffectPost
	if reconcile {
		if err := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
			Attempts: pe.Attempts + 1, NextAt: pe.NextAt, Error: pe.LastError, Result: pe.Result,
		}); err != nil {
			return result{}, storeErr("mark effect attempted", err)
		}
	}
	doubt := pe.Attempts > 0
	var gotChannel, gotTS string
	var landed bool // an earlier attempt's message was found
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		if reconcile && (doubt || resilience.Attempt(ctx) > 1) {
			ts, found, err := e.findPosted(ctx, channel, fx.Key, pe.QueuedAt)
			if err != nil {
				return err
			}
			if found {
				gotChannel, gotTS, landed = channel, ts, true
				return nil
			}
		}
		c, ts, err := e.cfg.Slack.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return err
		}
		gotChannel, gotTS = c, ts
		return nil
	})
	if err != nil {
		return result{}, err
	}
	if gotChannel == "" {
		gotChannel = channel
	}
	if landed && pe.Result[resultCatchUp] != "" {
		// What landed may be this post as it was before a catch-up took it
		// as its anchor, or a shorter catch-up: rewrite it to tell all the
		// entries folded into it since, or those would never be seen.
		res, err := e.update(ctx, gotChannel, gotTS, opts)
		if err != nil {
			return result{}, err
		}
		res.values[resultCatchUp] = pe.Result[resultCatchUp]
		return res, nil
	}
	values := map[string]string{"channel": gotChannel, "ts": gotTS}
	if seqs := pe.Result[resultCatchUp]; seqs != "" {
		values[resultCatchUp] = seqs
	}
	return result{values: values}, nil
}

// stateAt is the incident as the command that recorded event seq left
// it; cur is the incident now and tail its log from seq on. Usually
// nothing was recorded since, and that is cur; after an outage, the log is
// folded up to that command.
func (e *Executor) stateAt(ctx context.Context, cur incident.Incident, tail []timeline.Event, seq uint64) (incident.Incident, error) {
	if incident.CommandEnd(tail, seq) >= cur.LastSeq {
		return cur, nil
	}
	log, err := e.cfg.Store.Events(ctx, cur.Number, 1)
	if err != nil {
		return incident.Incident{}, storeErr("read events", err)
	}
	then := incident.AsOf(log, seq)
	// Where the incident is worked is not news of its time: a channel
	// created after the event (Slack was down since the declaration) is
	// still the one to link.
	then.ChannelID = cur.ChannelID
	return then, nil
}

// writtenAt is when a post's event was recorded: its time, or when it was
// queued if later, since an entry backdated to when a signal was seen was
// not written then.
func writtenAt(ev timeline.Event, pe incident.Pending) time.Time {
	if pe.QueuedAt.After(ev.At) {
		return pe.QueuedAt
	}
	return ev.At
}

// update replaces a message an earlier attempt posted.
func (e *Executor) update(ctx context.Context, channel, ts string, opts []slack.MsgOption) (result, error) {
	err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.update", Idempotent: true}, func(ctx context.Context) error {
		_, _, _, err := e.cfg.Slack.UpdateMessageContext(ctx, channel, ts, opts...)
		return err
	})
	// Someone deleted the message: it was posted, which is what was asked.
	if err != nil && slackapi.ErrorCode(err) != "message_not_found" {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "ts": ts}}, nil
}

// findPosted looks for the message carrying key in its metadata among the
// channel's recent history (since the effect was queued).
func (e *Executor) findPosted(ctx context.Context, channel, key string, queuedAt time.Time) (string, bool, error) {
	return slackapi.FindMarked(ctx, e.cfg.Slack, channel, key, slackapi.SinceQueued(queuedAt))
}
