package slackapi

import (
	"context"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/resilience"
)

// Signals are what tells people something is wrong before anyone declared
// an incident: SLO burn notices and Alertmanager alerts. Both land in an
// open incident of their service as observe entries, or in a channel as a
// message with a "Declare incident" button; this file holds what the two
// share.

// SignalSlack is what posting signals calls of Slack's Web API: a post,
// and the channel history and thread replies that tell whether an earlier
// post whose answer was lost landed after all.
type SignalSlack interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (channel, timestamp string, err error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) (msgs []slack.Message, hasMore bool, nextCursor string, err error)
	HistoryReader
}

var _ SignalSlack = (*slack.Client)(nil)

// DefaultSignalTimeout bounds one signal's Slack calls (the history
// lookup and the post, with the guard's retries).
const DefaultSignalTimeout = 15 * time.Second

// PostOnce posts msg to channel carrying key in its metadata, unless a
// message with that key is already there: a post whose answer was lost,
// by this process or an earlier one. oldest bounds the history searched.
// It reports the message's ts and whether this call posted it.
func PostOnce(ctx context.Context, g *resilience.Guard, api SignalSlack, channel, key string, oldest time.Time, text string, blocks []slack.Block, thread string) (string, bool, error) {
	return PostOnceMarked(ctx, g, api, channel, Mark(key, nil), oldest, text, blocks, thread)
}

// Mark is the metadata of a message Ooda posts: key, which finds the
// message again, and fields, what a later reader of the channel needs to
// know of it (the alerts an alert group's message shows).
func Mark(key string, fields map[string]any) slack.SlackMetadata {
	payload := make(map[string]any, len(fields)+1)
	for k, v := range fields {
		payload[k] = v
	}
	payload["key"] = key
	return slack.SlackMetadata{EventType: MetadataEventType, EventPayload: payload}
}

// PostOnceMarked is PostOnce for a message whose metadata (see Mark)
// carries more than its key.
func PostOnceMarked(ctx context.Context, g *resilience.Guard, api SignalSlack, channel string, mark slack.SlackMetadata, oldest time.Time, text string, blocks []slack.Block, thread string) (string, bool, error) {
	key, _ := mark.EventPayload["key"].(string)
	// A reply is not in the channel's history, only in its thread's.
	find, method := func(ctx context.Context) (string, bool, error) {
		return FindMarked(ctx, api, channel, key, oldest)
	}, "conversations.history"
	if thread != "" {
		find, method = func(ctx context.Context) (string, bool, error) {
			return FindReply(ctx, api, channel, thread, key)
		}, "conversations.replies"
	}
	var ts string
	var found bool
	err := g.Do(ctx, resilience.Op{Method: method, Idempotent: true}, func(ctx context.Context) error {
		var err error
		ts, found, err = find(ctx)
		return err
	})
	if err != nil || found {
		return ts, false, err
	}
	opts := []slack.MsgOption{
		slack.MsgOptionText(text, false),
		slack.MsgOptionBlocks(blocks...),
		slack.MsgOptionMetadata(mark),
		slack.MsgOptionDisableLinkUnfurl(),
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	posted := false
	err = g.Do(ctx, resilience.Op{Method: "chat.postMessage", Idempotent: true}, func(ctx context.Context) error {
		if resilience.Attempt(ctx) > 1 {
			// The previous attempt may have landed with its answer lost.
			got, ok, err := find(ctx)
			if err != nil {
				return err
			}
			if ok {
				ts, posted = got, false
				return nil
			}
		}
		_, got, err := api.PostMessageContext(ctx, channel, opts...)
		if err != nil {
			return err
		}
		ts, posted = got, true
		return nil
	})
	return ts, posted, err
}

// FindMarked looks for the message carrying key in its Ooda metadata among
// the channel's history since oldest (zero: the latest pages). It is the
// executor's reconciliation (Executor.findPosted) for posts that are not
// effects of an incident.
func FindMarked(ctx context.Context, r HistoryReader, channel, key string, oldest time.Time) (string, bool, error) {
	var ts string
	found, err := ScanHistory(ctx, r, channel, oldest, true, func(m slack.Message) bool {
		if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
			ts = m.Timestamp
			return true
		}
		return false
	})
	return ts, found, err
}

// FindReply is FindMarked for the replies in thread.
func FindReply(ctx context.Context, api SignalSlack, channel, thread, key string) (string, bool, error) {
	params := &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: thread, Limit: HistoryPage, IncludeAllMetadata: true}
	for range HistoryMaxPages {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, params)
		if err != nil {
			return "", false, err
		}
		for _, m := range msgs {
			if m.Metadata.EventType == MetadataEventType && m.Metadata.EventPayload["key"] == key {
				return m.Timestamp, true, nil
			}
		}
		if !more || next == "" {
			break
		}
		params.Cursor = next
	}
	return "", false, nil
}
