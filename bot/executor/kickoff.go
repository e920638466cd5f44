package executor

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/search"
)

// refreshKickoff re-renders the kickoff message from the incident as it is
// now, so its "I'll take it" buttons disappear once a role is taken and its
// status menu shows the current status. chat.update is idempotent, and the
// state is read when the effect runs, so a backlog of refreshes converges
// on the latest state whatever order they ran in.
func (e *Executor) refreshKickoff(ctx context.Context, pe incident.Pending) (result, error) {
	fx := pe.Effect
	kick, ok, err := e.cfg.Outbox.EffectResult(ctx, incident.KickoffKey(fx.Incident))
	if err != nil {
		return result{}, storeErr("read kickoff result", err)
	}
	channel, ts := kick.Result["channel"], kick.Result["ts"]
	if !ok || kick.Failed || channel == "" || ts == "" {
		// The kickoff never made it (it failed for good, and that is in the
		// timeline already): there is nothing to keep current.
		return result{skipped: true, values: map[string]string{"skipped": "no kickoff message"}}, nil
	}
	inc, err := e.cfg.Store.Incident(ctx, fx.Incident)
	if err != nil {
		return result{}, storeErr("read incident", err)
	}
	declared, err := e.cfg.Store.Event(ctx, fx.Incident, 1)
	if errors.Is(err, incident.ErrNotFound) {
		return result{}, resilience.Permanent(fmt.Errorf("event_missing: %s has no declaration", inc.ID))
	}
	if err != nil {
		return result{}, storeErr("read events", err)
	}
	similar, err := e.similar(ctx, inc)
	if err != nil {
		return result{}, err
	}
	msg, err := blockkit.Render(incident.TemplateKickoff, blockkit.PostContext{Event: declared, Incident: inc, Similar: similar})
	if err != nil {
		return result{}, resilience.Permanent(err)
	}
	return e.update(ctx, channel, ts, []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false),
		slack.MsgOptionBlocks(msg.Blocks...),
		slack.MsgOptionMetadata(slack.SlackMetadata{EventType: slackapi.MetadataEventType, EventPayload: map[string]any{"key": incident.KickoffKey(fx.Incident)}}),
	})
}

// similarInKickoff is how many similar past incidents the kickoff lists.
const similarInKickoff = 3

// similar finds the past incidents most like inc for its kickoff, as it
// stands when the kickoff is sent: among those every reader of the
// channel may see (readersMay).
func (e *Executor) similar(ctx context.Context, inc incident.Incident) ([]search.Hit, error) {
	if e.cfg.Similar == nil {
		return nil, nil
	}
	events, err := e.cfg.Store.Events(ctx, inc.Number, 1)
	if err != nil {
		return nil, storeErr("read events", err)
	}
	return e.cfg.Similar(inc, events, readersMay(inc), similarInKickoff), nil
}

// readersMay is the access rule of a message everyone in inc's channel
// reads: it admits a past incident only when every reader may see it. A
// public incident's channel is open to anyone, so it admits public
// incidents only, even when its declarer is a member of a private one. A
// private incident's readers are its members, or, until Ooda knows them,
// its declarer and role holders; a private past incident is admitted only
// when it admits each of them.
func readersMay(inc incident.Incident) func(incident.Incident) bool {
	if !inc.Private {
		return func(past incident.Incident) bool { return !past.Private }
	}
	readers := slices.Clone(inc.Members)
	if !inc.MembersKnown {
		readers = append(readers, inc.DeclaredBy)
		readers = append(readers, inc.Roles.Users()...)
	}
	readers = slices.DeleteFunc(readers, func(u string) bool { return !incident.IsPerson(u) })
	return func(past incident.Incident) bool {
		if !past.Private {
			return true
		}
		if len(readers) == 0 {
			return false
		}
		return !slices.ContainsFunc(readers, func(u string) bool { return !past.Admits(u) })
	}
}
