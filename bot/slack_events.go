package bot

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// unreadableCapture is the text of a captured message whose text Ooda
// could not get; the event keeps its channel and ts, which find it.
const unreadableCapture = "(message text unavailable)"

// event records what an Events API event means for an incident, whichever
// transport brought it. It only commits locally; a message's text that
// must be fetched from Slack is fetched in the background. Every write is
// idempotent, keyed by what Slack names (an event id, a message ts, an
// edit's ts), so a redelivered event records nothing new. It returns an
// error only when the event could not be recorded and should be delivered
// again.
func (h *SlackHandler) event(ctx context.Context, ev slackevents.EventsAPIEvent) (string, error) {
	cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent)
	if ev.Type != slackevents.CallbackEvent || !ok {
		return outcomeIgnored, nil
	}
	switch e := ev.InnerEvent.Data.(type) {
	case *slackevents.MessageEvent:
		return h.message(ctx, e)
	case *slackevents.PinAddedEvent:
		var text, author string
		if m := e.Item.Message; m != nil {
			text, author = m.Text, m.User
		}
		ts := e.Item.Timestamp
		if ts == "" && e.Item.Message != nil {
			ts = e.Item.Message.Timestamp
		}
		return h.capture(ctx, capture{
			source: timeline.SourcePin, actor: e.User, channel: cmp.Or(e.Item.Channel, e.Channel),
			ts: ts, author: author, text: mrkdwn.Unescape(text), at: slackTime(e.EventTimestamp, h.cfg.Now()),
		})
	case *slackevents.ReactionAddedEvent:
		if e.Reaction != h.cfg.CaptureReaction || e.Item.Type != "message" {
			return outcomeIgnored, nil
		}
		return h.capture(ctx, capture{
			source: timeline.SourceReaction, actor: e.User, channel: e.Item.Channel,
			ts: e.Item.Timestamp, author: e.ItemUser, at: slackTime(e.EventTimestamp, h.cfg.Now()),
		})
	case *slackevents.MemberJoinedChannelEvent:
		return h.joined(ctx, cb.EventID, e)
	case *slackevents.MemberLeftChannelEvent:
		return h.left(ctx, cb.EventID, e)
	}
	return outcomeIgnored, nil
}

// incidentFor finds the incident whose channel channel is; ok is false
// for any other channel.
func (h *SlackHandler) incidentFor(ctx context.Context, channel string) (n uint64, ok bool, err error) {
	if channel == "" {
		return 0, false, nil
	}
	n, err = h.cfg.Store.IncidentByChannel(ctx, channel)
	if errors.Is(err, incident.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find incident of channel %s: %w", channel, err)
	}
	return n, true, nil
}

// fromBot reports whether a message is a bot's: Ooda's own or any other
// integration's. The transcript keeps what people said.
func (h *SlackHandler) fromBot(user, botID string) bool {
	return botID != "" || (user != "" && user == h.cfg.BotUserID)
}

// message adds a channel message, an edit or a deletion to the transcript.
func (h *SlackHandler) message(ctx context.Context, e *slackevents.MessageEvent) (string, error) {
	if h.cfg.Transcript == nil {
		return outcomeIgnored, nil
	}
	var c storage.MessageChange
	switch e.SubType {
	case "", "thread_broadcast", "file_share", "me_message":
		if h.fromBot(e.User, e.BotID) {
			return outcomeIgnored, nil
		}
		c = storage.MessageChange{Op: storage.MessagePosted, TS: e.TimeStamp, User: e.User,
			ThreadTS: e.ThreadTimeStamp, Text: mrkdwn.Unescape(e.Text), At: slackTime(e.TimeStamp, h.cfg.Now())}
	case "message_changed":
		m := e.Message
		// Slack also reports unfurls and reply counts as changes; only an
		// edit carries edited.ts.
		if m == nil || m.Edited == nil || m.Edited.Timestamp == "" || h.fromBot(m.User, m.BotID) {
			return outcomeIgnored, nil
		}
		c = storage.MessageChange{Op: storage.MessageEdited, TS: m.Timestamp, User: m.User, ThreadTS: m.ThreadTimestamp,
			Text: mrkdwn.Unescape(m.Text), EditTS: m.Edited.Timestamp, At: slackTime(m.Edited.Timestamp, h.cfg.Now())}
		if p := e.PreviousMessage; p != nil {
			c.Previous = mrkdwn.Unescape(p.Text)
		}
	case "message_deleted":
		c = storage.MessageChange{Op: storage.MessageDeleted, TS: e.DeletedTimeStamp, At: slackTime(e.EventTimeStamp, h.cfg.Now())}
		if p := e.PreviousMessage; p != nil {
			if h.fromBot(p.User, p.BotID) {
				return outcomeIgnored, nil
			}
			c.User, c.ThreadTS, c.Previous = p.User, p.ThreadTimestamp, mrkdwn.Unescape(p.Text)
		}
	default:
		// Joins, topic changes, bot messages: not part of the conversation.
		return outcomeIgnored, nil
	}
	if c.TS == "" {
		return outcomeIgnored, nil
	}
	n, ok, err := h.incidentFor(ctx, e.Channel)
	if err != nil || !ok {
		return outcomeIgnored, err
	}
	if _, err := h.cfg.Transcript.RecordMessage(ctx, n, c); err != nil {
		return outcomeError, fmt.Errorf("transcript of %s: %w", incident.ID(n), err)
	}
	return outcomeOK, nil
}

// joined records a person joining an incident channel.
func (h *SlackHandler) joined(ctx context.Context, eventID string, e *slackevents.MemberJoinedChannelEvent) (string, error) {
	return h.membership(ctx, eventID, e.User, e.Channel, e.EventTimestamp, (*incident.Incident).MemberJoined)
}

// left records that someone left an incident channel: a private
// incident no longer admits them.
func (h *SlackHandler) left(ctx context.Context, eventID string, e *slackevents.MemberLeftChannelEvent) (string, error) {
	return h.membership(ctx, eventID, e.User, e.Channel, e.EventTimestamp, (*incident.Incident).MemberLeft)
}

// membership records a change of who is in an incident channel, keyed by
// Slack's event id, so a redelivered event records once.
func (h *SlackHandler) membership(ctx context.Context, eventID, user, channel, ts string, change func(*incident.Incident, string, incident.Meta) (incident.Change, error)) (string, error) {
	if user == "" || user == h.cfg.BotUserID || eventID == "" {
		return outcomeIgnored, nil
	}
	n, ok, err := h.incidentFor(ctx, channel)
	if err != nil || !ok {
		return outcomeIgnored, err
	}
	// No source names "seen in Slack"; a join is bookkeeping, as Ooda's
	// own records are.
	meta := incident.Meta{At: slackTime(ts, h.cfg.Now()), Actor: user, Source: timeline.SourceSystem, Key: "slack:" + eventID}
	_, err = h.cfg.Store.Apply(ctx, n, meta.Key, func(inc *incident.Incident) (incident.Change, error) {
		return change(inc, user, meta)
	})
	if err != nil {
		return outcomeError, fmt.Errorf("record who is in %s: %w", incident.ID(n), err)
	}
	return outcomeOK, nil
}

// capture is a message someone marked for the timeline, by pinning it or
// with the capture reaction.
type capture struct {
	source  timeline.Source
	actor   string // who pinned or reacted
	channel string
	ts      string // the message's ts
	author  string // who wrote it, when known
	text    string // its text, when the event carried it
	at      time.Time
}

// key identifies the capture by the message, not by the event: Slack's
// redeliveries, a second person adding the reaction and a pin after a
// reaction all find the message already in the timeline.
func (c capture) key() string { return "slack:capture:" + c.channel + ":" + c.ts }

// capture records a marked message in its incident's timeline. Its text
// comes from the event, else from the transcript, else from Slack in the
// background.
func (h *SlackHandler) capture(ctx context.Context, c capture) (string, error) {
	if c.ts == "" || c.actor == "" || c.actor == h.cfg.BotUserID {
		return outcomeIgnored, nil
	}
	n, ok, err := h.incidentFor(ctx, c.channel)
	if err != nil || !ok {
		return outcomeIgnored, err
	}
	if c.text == "" && h.cfg.Transcript != nil {
		m, found, err := h.cfg.Transcript.TranscriptMessageAt(ctx, n, c.ts)
		if err != nil {
			return outcomeError, fmt.Errorf("transcript of %s: %w", incident.ID(n), err)
		}
		if found {
			c.text, c.author = m.Text, cmp.Or(c.author, m.User)
		}
	}
	if c.text == "" && h.fetchCapture(n, c) {
		return outcomeOK, nil
	}
	if c.text == "" {
		c.text = unreadableCapture
	}
	if err := h.recordCapture(ctx, n, c); err != nil {
		return outcomeError, err
	}
	return outcomeOK, nil
}

// fetchCapture fetches a captured message's text from Slack in the
// background, then records it. It reports whether it took the capture
// over; when it did not, the caller records it without its text.
func (h *SlackHandler) fetchCapture(n uint64, c capture) bool {
	if h.cfg.Slack == nil || h.slackDown() {
		return false
	}
	key := c.key()
	if _, busy := h.fetching.LoadOrStore(key, struct{}{}); busy {
		// A redelivery while the first fetch runs: that one records it.
		return true
	}
	started := h.background(slackCallTimeout, func(ctx context.Context) {
		defer h.fetching.Delete(key)
		var msg *slack.Message
		err := h.call(ctx, "conversations.history", true, func(ctx context.Context) error {
			resp, err := h.cfg.Slack.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
				ChannelID: c.channel, Latest: c.ts, Inclusive: true, Limit: 1,
			})
			if err == nil && len(resp.Messages) > 0 && resp.Messages[0].Timestamp == c.ts {
				msg = &resp.Messages[0]
			}
			return err
		})
		switch {
		case err != nil:
			h.cfg.Logger.WarnContext(ctx, "could not fetch a captured message; recording it without its text",
				"incident", incident.ID(n), "channel", c.channel, "ts", c.ts, "err", err.Error())
			c.text = unreadableCapture
		case msg == nil:
			// A thread reply, which history does not list, or a message
			// deleted since.
			c.text = unreadableCapture
		default:
			c.text, c.author = mrkdwn.Unescape(msg.Text), cmp.Or(c.author, msg.User)
		}
		// The fetch may have used up the deadline; the commit is local
		// and needs a moment of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slackCallTimeout)
		defer cancel()
		if err := h.recordCapture(rctx, n, c); err != nil {
			h.cfg.Logger.ErrorContext(rctx, "could not record a captured message", "incident", incident.ID(n), "err", err)
		}
	})
	if !started {
		h.fetching.Delete(key)
	}
	return started
}

func (h *SlackHandler) recordCapture(ctx context.Context, n uint64, c capture) error {
	attrs := map[string]string{timeline.AttrChannel: c.channel, timeline.AttrTS: c.ts}
	if c.author != "" {
		attrs[timeline.AttrUser] = c.author
	}
	meta := incident.Meta{At: c.at.UTC(), Actor: c.actor, Source: c.source, Key: c.key()}
	text := mrkdwn.Clip(c.text, incident.MaxText)
	_, err := h.cfg.Store.Apply(ctx, n, meta.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, text, attrs, meta)
	})
	if err != nil {
		return fmt.Errorf("record captured message in %s: %w", incident.ID(n), err)
	}
	return nil
}

// slackTime reads a Slack ts ("1531420618.000200") as a time, or returns
// fallback when ts is not one.
func slackTime(ts string, fallback time.Time) time.Time {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 {
		return fallback.UTC()
	}
	var us int64
	if frac != "" {
		if us, err = strconv.ParseInt((frac + "000000")[:6], 10, 64); err != nil {
			return fallback.UTC()
		}
	}
	return time.Unix(s, us*1000).UTC()
}
