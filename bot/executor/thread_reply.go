package executor

import (
	"context"
	"errors"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// threadReply answers the message an incident was declared from, in its
// thread, with where the incident is worked. It waits for the incident's
// channel, which the reply points to. Like post, it never replies twice:
// the effect is marked attempted before the call, and any attempt after
// an earlier one first looks for its reply in the thread by the effect
// key in its metadata.
//
// A channel Ooda cannot post in (a private channel it was not invited to:
// not_in_channel, channel_not_found) fails the effect for good, recorded
// in the incident's timeline; public channels need no invitation, with
// the chat:write.public scope. Should Slack refuse to show Ooda the thread
// of a channel it is not in, a doubtful attempt there fails the same way
// rather than risk a second reply.
func (e *Executor) threadReply(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	channel, thread := fx.Params["channel"], fx.Params["ts"]
	if channel == "" || thread == "" {
		return result{}, resilience.Permanent(errors.New("no_message: a thread reply names no message"))
	}
	if pe.Result["ts"] != "" {
		// Slack took it; only the completion was lost.
		return result{values: pe.Result}, nil
	}
	inc, err := e.cfg.Store.Incident(ctx, fx.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	if _, err := e.channelOf(ctx, inc); err != nil {
		return result{}, err
	}
	msg := blockkit.MessageDeclaredReply(inc)
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionTS(thread),
		slack.MsgOptionMetadata(slackapi.Mark(fx.Key, nil)),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if err := e.cfg.Outbox.Defer(ctx, pe.OutboxSeq, incident.Retry{
		Attempts: pe.Attempts + 1, NextAt: pe.NextAt, Error: pe.LastError, Result: pe.Result,
	}); err != nil {
		return result{}, storeErr("mark effect attempted", err)
	}
	doubt := pe.Attempts > 0
	var ts string
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		if doubt || resilience.Attempt(ctx) > 1 {
			got, found, err := slackapi.FindReply(ctx, e.cfg.Slack, channel, thread, fx.Key)
			if err != nil {
				return err
			}
			if found {
				ts = got
				return nil
			}
		}
		_, got, err := e.cfg.Slack.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return err
		}
		ts = got
		return nil
	})
	if err != nil {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "ts": ts}}, nil
}
