package executor

import (
	"context"
	"errors"
	"fmt"

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
// reads, now and later: public past incidents only. A public channel is
// open to anyone; a private one gains members after its kickoff is
// posted (invited responders), and the kickoff is not rewritten when they
// join, so a private past incident listed for its first readers would be
// read by people it does not admit. `/incident similar`, answered to one
// person, lists the private incidents that person may see.
func readersMay(incident.Incident) func(incident.Incident) bool {
	return func(past incident.Incident) bool { return !past.Private }
}
