package bot

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// interaction answers a button, a menu or a modal submission, whichever
// transport brought it. The response is what Slack expects in the
// acknowledgement (a view_submission's response_action); nil acknowledges
// with nothing.
func (h *SlackHandler) interaction(ctx context.Context, cb slack.InteractionCallback) (any, string) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return nil, h.blockActions(ctx, cb)
	case slack.InteractionTypeMessageAction:
		return nil, h.messageShortcut(cb)
	case slack.InteractionTypeViewSubmission:
		var resp *slack.ViewSubmissionResponse
		var outcome string
		switch cb.View.CallbackID {
		case declareCallbackID:
			resp, outcome = h.submitDeclare(ctx, cb)
		case declareSignalCallbackID:
			resp, outcome = h.submitDeclareSignal(ctx, cb)
		case declareMessageCallbackID:
			resp, outcome = h.submitDeclareMessage(ctx, cb)
		default:
			return nil, outcomeIgnored
		}
		if resp == nil {
			return nil, outcome
		}
		return resp, outcome
	}
	return nil, outcomeIgnored
}

// blockActions runs the buttons and menus of Ooda's messages. What they
// change shows in the message when the executor updates it; a refusal is
// told to the clicker alone, on the interaction's response_url.
func (h *SlackHandler) blockActions(ctx context.Context, cb slack.InteractionCallback) string {
	if cb.User.ID == "" {
		return outcomeMalformed
	}
	outcome := outcomeIgnored
	for _, a := range cb.ActionCallback.BlockActions {
		var reply command.Reply
		switch a.ActionID {
		case blockkit.ActionTakeRole:
			reply = h.takeRole(ctx, cb, a.Value)
		case blockkit.ActionSetStatus:
			reply = h.setStatus(ctx, cb, a.SelectedOption.Value)
		case blockkit.ActionDeclareFromSignal:
			reply = h.declareFromSignal(ctx, cb, a)
		default:
			continue
		}
		outcome = replyOutcome(reply)
		if reply.Code != http.StatusOK {
			h.followUp(cb.ResponseURL, reply.Text)
		}
	}
	return outcome
}

// parseActionValue reads a button or option value: "<incident number>:<role or status>".
func parseActionValue(v string) (uint64, string, bool) {
	num, rest, ok := strings.Cut(v, ":")
	n, err := strconv.ParseUint(num, 10, 64)
	if !ok || err != nil || n == 0 || rest == "" {
		return 0, "", false
	}
	return n, rest, true
}

// takeRole gives the clicker the role an "I'll take it" button offers.
func (h *SlackHandler) takeRole(ctx context.Context, cb slack.InteractionCallback, value string) command.Reply {
	n, name, ok := parseActionValue(value)
	r, err := roles.Parse(name)
	if !ok || err != nil {
		return command.Reply{Code: http.StatusBadRequest, Text: "That button is out of date; use `/incident role <role> @you`."}
	}
	inc, reply, ok := h.actionTarget(ctx, n)
	if !ok {
		return reply
	}
	// "take" is decided on the state inside the store's transaction, so
	// of two people clicking at once one gets the role and the other is
	// told who was quicker; neither takes it over from the other.
	return h.cfg.Dispatcher.Run(ctx, h.actionRequest(cb, blockkit.ActionTakeRole, inc, string(r)),
		command.Command{Verb: command.VerbTake, Incident: n, Role: r, User: cb.User.ID})
}

// setStatus moves the incident to the status picked in the kickoff menu.
func (h *SlackHandler) setStatus(ctx context.Context, cb slack.InteractionCallback, value string) command.Reply {
	n, name, ok := parseActionValue(value)
	st, err := incident.ParseStatus(name)
	if !ok || err != nil {
		return command.Reply{Code: http.StatusBadRequest, Text: "That menu is out of date; use `/incident status investigating|identified|monitoring|resolved`."}
	}
	inc, reply, ok := h.actionTarget(ctx, n)
	if !ok {
		return reply
	}
	return h.cfg.Dispatcher.Run(ctx, h.actionRequest(cb, blockkit.ActionSetStatus, inc, string(st)),
		command.Command{Verb: command.VerbStatus, Incident: n, Status: st})
}

// actionTarget reads the incident an action is about.
func (h *SlackHandler) actionTarget(ctx context.Context, n uint64) (incident.Incident, command.Reply, bool) {
	inc, err := h.cfg.Store.Incident(ctx, n)
	if err != nil {
		return inc, h.cfg.Dispatcher.Failed(ctx, n, err), false
	}
	return inc, command.Reply{}, true
}

// actionRequest is the request an action stands for. Its key is the
// interaction: who did what to which incident, as the incident stood when
// they clicked. A double click sends two interactions with different
// trigger ids but the same key, so it records once; the same click on a
// later state (a role taken back after a handover) is a new action.
func (h *SlackHandler) actionRequest(cb slack.InteractionCallback, action string, inc incident.Incident, value string) command.Request {
	return command.Request{
		User:    cb.User.ID,
		Channel: cmp.Or(cb.Container.ChannelID, cb.Channel.ID),
		Source:  timeline.SourceCommand,
		Key:     fmt.Sprintf("slack:action:%s:%d:%s:%s@%d", action, inc.Number, value, cb.User.ID, inc.LastSeq),
		At:      h.cfg.Now().UTC(),
	}
}
