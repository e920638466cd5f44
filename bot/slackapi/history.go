package slackapi

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// MetadataEventType is the Slack message metadata event type of every
// message Ooda posts. Its payload's "key" is the effect key, which is how
// a post that landed despite an error is found again.
const MetadataEventType = "ooda_effect"

// Bounds of the history searches that find what an earlier attempt posted.
const (
	HistoryPage     = 100 // messages per conversations.history page
	HistoryMaxPages = 10  // how far back a reconciliation looks
	// HistorySkew widens a history search past the time the work was
	// queued, for a clock that runs ahead of Slack's.
	HistorySkew = time.Hour
)

// ErrHistoryIncomplete is ScanHistory reaching its page limit before
// oldest: what it did not read may hold the message looked for, so "not
// found" would post it a second time. The search is worth trying again
// later, not posting.
var ErrHistoryIncomplete = errors.New("channel history: more messages since the time searched than the page limit reads")

// ScanHistory pages through a channel's history, newest first, back to
// oldest (zero: as far as the page limit goes), until stop accepts a
// message. It is how Ooda finds what an earlier attempt already posted.
// With oldest set, reaching the page limit before it is
// ErrHistoryIncomplete.
func ScanHistory(ctx context.Context, r HistoryReader, channel string, oldest time.Time, metadata bool, stop func(slack.Message) bool) (bool, error) {
	params := &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: HistoryPage, IncludeAllMetadata: metadata}
	if !oldest.IsZero() {
		params.Oldest = strconv.FormatInt(oldest.Unix(), 10) + ".000000"
	}
	for range HistoryMaxPages {
		resp, err := r.GetConversationHistoryContext(ctx, params)
		if err != nil {
			return false, err
		}
		for _, m := range resp.Messages {
			if stop(m) {
				return true, nil
			}
		}
		if !resp.HasMore || resp.ResponseMetaData.NextCursor == "" {
			return false, nil
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
	}
	if !oldest.IsZero() {
		return false, fmt.Errorf("%w (%d pages, back to %s)", ErrHistoryIncomplete, HistoryMaxPages, oldest.UTC().Format(time.RFC3339))
	}
	return false, nil
}

// AnsweredBySlack reports whether err carries an answer from Slack (as
// opposed to one of the executor's own refusals).
func AnsweredBySlack(err error) bool {
	if ErrorCode(err) != "" {
		return true
	}
	_, ok := errors.AsType[slack.StatusCodeError](err)
	return ok
}

// ErrorCode is the "error" of a Slack ok:false answer inside err, or "".
func ErrorCode(err error) string {
	if se, ok := errors.AsType[slack.SlackErrorResponse](err); ok {
		return se.Err
	}
	return ""
}

// SinceQueued is how far back to look for what an effect queued at
// queuedAt may have posted: an hour of clock skew before it, or, unknown,
// as far as the page limit goes.
func SinceQueued(queuedAt time.Time) time.Time {
	if queuedAt.IsZero() {
		return time.Time{}
	}
	return queuedAt.Add(-HistorySkew)
}
