package executor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// createChannel creates the incident's channel and records it on the
// incident in the same transaction that completes the effect. The name is
// the natural key: name_taken means an earlier attempt (or someone) made
// it, and the channel is looked up instead.
func (e *Executor) createChannel(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	name := fx.Params["name"]
	id := pe.Result["channel"]
	if id == "" {
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.create", Idempotent: true}, func(ctx context.Context) error {
			ch, err := e.cfg.Slack.CreateConversationContext(ctx, slack.CreateConversationParams{
				ChannelName: name, IsPrivate: fx.Params["private"] == "true",
			})
			if err == nil {
				id = ch.ID
			}
			return err
		})
		if slackapi.ErrorCode(err) == "name_taken" {
			id, err = e.findChannel(ctx, name)
		}
		if err != nil {
			return result{}, err
		}
	}
	meta := incident.Meta{At: e.cfg.Now(), Actor: incident.Bot, Source: timeline.SourceSystem, Key: fx.Key}
	return result{
		values: map[string]string{"channel": id},
		decide: func(inc *incident.Incident) (incident.Change, error) { return inc.ChannelCreated(id, meta) },
	}, nil
}

// findChannel looks a channel up by name among those Ooda can see.
func (e *Executor) findChannel(ctx context.Context, name string) (string, error) {
	params := &slack.GetConversationsParameters{
		Types: []string{"public_channel", "private_channel"}, ExcludeArchived: true, Limit: listPage,
	}
	for range listMaxPages {
		var page []slack.Channel
		var next string
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.list", Idempotent: true}, func(ctx context.Context) error {
			var err error
			page, next, err = e.cfg.Slack.GetConversationsContext(ctx, params)
			return err
		})
		if err != nil {
			return "", err
		}
		for _, ch := range page {
			if ch.Name == name {
				return ch.ID, nil
			}
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	return "", resilience.Permanent(fmt.Errorf("name_taken: #%s exists but Ooda cannot see it (archived, or private without Ooda in it)", name))
}

// invite adds people to the incident channel one at a time: Slack fails
// a whole invitation for one bad user, and one at a time also makes
// already_in_channel a plain success. Who was invited is kept as a partial
// result, so a retry resumes where the last attempt stopped.
func (e *Executor) invite(ctx context.Context, pe incident.Pending) (result, error) {
	channel, err := e.incidentChannel(ctx, pe.Effect.Incident)
	if err != nil {
		return result{}, err
	}
	done := splitUsers(pe.Result["invited"])
	var refused []string
	for _, u := range splitUsers(pe.Effect.Params["users"]) {
		if slices.Contains(done, u) {
			continue
		}
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.invite", Idempotent: true}, func(ctx context.Context) error {
			_, err := e.cfg.Slack.InviteUsersToConversationContext(ctx, channel, u)
			return err
		})
		code := slackapi.ErrorCode(err)
		switch {
		case err == nil, code == "already_in_channel", code == "cant_invite_self":
			done = append(done, u)
		case userRefusal(code):
			// This person cannot be invited; the others still can.
			refused = append(refused, "<@"+u+">: "+code)
			done = append(done, u)
		default:
			return result{values: invited(channel, done)}, err
		}
	}
	if len(refused) > 0 {
		return result{values: invited(channel, done)}, resilience.Permanent(fmt.Errorf("invite_refused: %s", strings.Join(refused, ", ")))
	}
	return result{values: invited(channel, done)}, nil
}

func invited(channel string, users []string) map[string]string {
	return map[string]string{"channel": channel, "invited": strings.Join(users, ",")}
}

// userRefusal reports whether conversations.invite's code is about the
// user rather than the channel or the call.
func userRefusal(code string) bool {
	switch code {
	case "user_not_found", "user_is_restricted", "user_is_ultra_restricted", "ura_max_channels",
		"cant_invite", "user_is_deactivated", "user_disabled", "cannot_invite_user":
		return true
	}
	return false
}

func splitUsers(s string) []string {
	var out []string
	for u := range strings.SplitSeq(s, ",") {
		if u = strings.TrimSpace(u); u != "" && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// setTopic renders the topic from the incident as it is now, not as it
// was when the effect was queued, so topics that land late are current.
func (e *Executor) setTopic(ctx context.Context, pe incident.Pending) (result, error) {
	inc, channel, err := e.incidentAndChannel(ctx, pe.Effect.Incident)
	if err != nil {
		return result{}, err
	}
	topic := blockkit.Topic(inc)
	err = e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.setTopic", Idempotent: true}, func(ctx context.Context) error {
		_, err := e.cfg.Slack.SetTopicOfConversationContext(ctx, channel, topic)
		return err
	})
	if err != nil {
		return result{}, err
	}
	return result{values: map[string]string{"channel": channel, "topic": topic}}, nil
}

// incidentChannel returns the channel of incident n (see channelOf).
func (e *Executor) incidentChannel(ctx context.Context, n uint64) (string, error) {
	_, channel, err := e.incidentAndChannel(ctx, n)
	return channel, err
}

// incidentAndChannel reads incident n as it is now and finds its channel
// (see channelOf): the prologue of every effect in the incident channel.
func (e *Executor) incidentAndChannel(ctx context.Context, n uint64) (incident.Incident, string, error) {
	inc, err := e.cfg.Store.Incident(ctx, n)
	if err != nil {
		return incident.Incident{}, "", storeErr("read incident", err)
	}
	channel, err := e.channelOf(ctx, inc)
	return inc, channel, err
}

// channelOf returns the incident's channel. Effects run in order, so one
// that needs the channel runs after its creation: no channel means the
// creation failed for good (and so will this effect), or, should order
// ever be broken, that it has not happened yet (and this effect waits).
func (e *Executor) channelOf(ctx context.Context, inc incident.Incident) (string, error) {
	if inc.ChannelID != "" {
		return inc.ChannelID, nil
	}
	events, err := e.cfg.Store.Events(ctx, inc.Number, 1)
	if err != nil {
		return "", storeErr("read events", err)
	}
	for _, ev := range events {
		if ev.Kind == timeline.KindEffectFailed && ev.Attr(attrEffectKind) == string(incident.EffectCreateChannel) {
			return "", resilience.Permanent(fmt.Errorf("%w: %s has no channel: creating it failed", errNoChannel, inc.ID))
		}
	}
	return "", fmt.Errorf("%w: %s has no channel yet", errNoChannelYet, inc.ID)
}
