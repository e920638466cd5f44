package slackapi

import (
	"context"
	"errors"
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

// ScanHistory pages through a channel's history, newest first, back to
// oldest (zero: as far as the page limit goes), until stop accepts a
// message. It is how Ooda finds what an earlier attempt already posted.
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
			break
		}
		params.Cursor = resp.ResponseMetaData.NextCursor
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
