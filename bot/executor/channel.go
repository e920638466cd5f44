package executor

import (
	"context"
	"errors"
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
	// The name is left out: a private incident's name says what it is about.
	return "", resilience.Permanent(errors.New("name_taken: a channel of that name exists but Ooda cannot see it (archived, or private without Ooda in it)"))
}

// invite adds people to the incident channel one at a time: Slack fails
// a whole invitation for one bad user, and one at a time also makes
// already_in_channel a plain success. Who was invited is kept as a partial
// result, so a retry resumes where the last attempt stopped.
func (e *Executor) invite(ctx context.Context, pe incident.Pending) (result, error) {
	inc, channel, err := e.incidentAndChannel(ctx, pe.Effect.Incident)
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
	if !inc.Private {
		return result{values: invited(channel, done)}, nil
	}
	// Who is in the channel decides who may see a private incident: the
	// people just invited, and, when Slack lists them, everyone in it
	// (someone may have joined a channel Ooda found after name_taken).
	meta := incident.Meta{At: e.cfg.Now(), Actor: incident.Bot, Source: timeline.SourceSystem, Key: pe.Effect.Key}
	members, err := e.channelMembers(ctx, channel)
	decide := func(inc *incident.Incident) (incident.Change, error) { return inc.MembersAdded(done, meta) }
	if err == nil {
		all := append(members, done...)
		decide = func(inc *incident.Incident) (incident.Change, error) { return inc.MembersSynced(all, meta) }
	} else if ctx.Err() == nil {
		e.log.WarnContext(ctx, "could not list the incident channel's members; recording the invited ones", "incident", incident.ID(pe.Effect.Incident), "err", err.Error())
	}
	return result{values: invited(channel, done), decide: decide}, nil
}

// channelMembers lists the people in channel (conversations.members,
// paged).
func (e *Executor) channelMembers(ctx context.Context, channel string) ([]string, error) {
	params := &slack.GetUsersInConversationParameters{ChannelID: channel, Limit: listPage}
	var all []string
	for range listMaxPages {
		var page []string
		var next string
		err := e.cfg.Guard.Do(ctx, resilience.Op{Method: "conversations.members", Idempotent: true}, func(ctx context.Context) error {
			var err error
			page, next, err = e.cfg.Slack.GetUsersInConversationContext(ctx, params)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == "" {
			return all, nil
		}
		params.Cursor = next
	}
	return all, nil
}

// SyncMembers records, for every open private incident with a channel,
// who is in its channel as Slack lists them now: what Ooda missed while
// it was not running (joins and leaves it was not told of) stops
// deciding who may see the incident. An incident whose members cannot be
// listed keeps what Ooda knew; the others are synced all the same.
func (e *Executor) SyncMembers(ctx context.Context) (synced int, err error) {
	incs, err := e.cfg.Store.Incidents(ctx, false)
	if err != nil {
		return 0, storeErr("list incidents", err)
	}
	var errs []error
	for _, inc := range incs {
		if !inc.Private || inc.ChannelID == "" || !inc.Status.Active() {
			continue
		}
		members, err := e.channelMembers(ctx, inc.ChannelID)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", inc.ID, err))
			continue
		}
		meta := incident.Meta{At: e.cfg.Now(), Actor: incident.Bot, Source: timeline.SourceSystem,
			Key: fmt.Sprintf("members:%s:%d", inc.ID, e.cfg.Now().UnixNano())}
		res, err := e.cfg.Store.Apply(ctx, inc.Number, meta.Key, func(inc *incident.Incident) (incident.Change, error) {
			return inc.MembersSynced(members, meta)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", inc.ID, err))
			continue
		}
		if len(res.Events) > 0 {
			synced++
		}
	}
	return synced, errors.Join(errs...)
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
