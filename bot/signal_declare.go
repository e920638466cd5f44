package bot

import (
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/blockkit"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// declareSignalCallbackID is the callback id of the declare form a
// signal's button opens. Its private metadata is a signalForm.
const declareSignalCallbackID = "ooda_declare_from_signal"

// signalForm is the private metadata of the declare form a signal's
// button opened: where the button was, and the key of the click.
type signalForm struct {
	Channel string `json:"channel"`
	Key     string `json:"key"`
	// The signal itself, recorded as the incident's first observation so
	// its timeline and post-mortem start where the trouble was seen.
	Source timeline.Source `json:"source,omitempty"`
	Text   string          `json:"text,omitempty"`
	TS     string          `json:"ts,omitempty"`
}

// maxSignalText bounds the signal copied into the form's private
// metadata, which Slack limits to 3,000 characters.
const maxSignalText = 2000

// signalOf reads the signal a button was on from its interaction.
func signalOf(cb slack.InteractionCallback, a *slack.BlockAction, channel, key string) signalForm {
	return signalForm{
		Channel: channel, Key: key, Source: blockkit.SignalSource(a.BlockID),
		Text: mrkdwn.Clip(mrkdwn.Unescape(cb.Message.Text), maxSignalText),
		TS:   cmp.Or(cb.Container.MessageTs, cb.Message.Timestamp),
	}
}

// recordSignal adds the signal to the incident a click declared, as an
// observation at the time it was posted (before the declaration, which is
// what "time to declare" measures). It is keyed by the click, so it is
// recorded once however often the declaration is replayed.
func (h *SlackHandler) recordSignal(ctx context.Context, reply command.Reply, sig signalForm) {
	n, err := incident.ParseID(reply.Incident)
	if err != nil || strings.TrimSpace(sig.Text) == "" {
		return
	}
	m := incident.Meta{At: slackTime(sig.TS, h.cfg.Now()), Actor: incident.Bot, Source: sig.Source, Key: sig.Key + ":signal"}
	if _, err := h.cfg.Store.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseObserve, sig.Text, false, m)
	}); err != nil {
		h.cfg.Logger.WarnContext(ctx, "could not record the signal in the incident it declared", "incident", reply.Incident, "err", err)
	}
}

// declareFromSignal answers a "Declare incident" button on an SLO warning
// or an alert triage signal: it opens the declare form prefilled with the
// service, SEV2 and a title, or, when no form can be opened (no Slack
// client, Slack known to be down), declares at once. Either way the
// declaration is keyed by the button's message, so a double click, or two
// people clicking, declare once.
func (h *SlackHandler) declareFromSignal(ctx context.Context, cb slack.InteractionCallback, a *slack.BlockAction) command.Reply {
	service := strings.TrimSpace(a.Value)
	if utf8.RuneCountInString(service) > maxServiceName {
		return command.Reply{Code: http.StatusBadRequest, Text: "That button is out of date; declare with `/incident declare sev2 --service NAME <title>`."}
	}
	cmd := command.Command{Verb: command.VerbDeclare, Severity: blockkit.SignalDeclareSeverity, Service: service, Title: blockkit.SignalTitle(a.BlockID, service)}
	channel := cmp.Or(cb.Container.ChannelID, cb.Channel.ID)
	key := signalClickKey(cb, channel)
	sig := signalOf(cb, a, channel, key)
	if h.openSignalForm(cb, cmd, sig) {
		return command.Reply{Code: http.StatusOK}
	}
	reply := h.cfg.Dispatcher.Run(ctx, command.Request{
		User: cb.User.ID, Channel: channel, Source: timeline.SourceCommand, Key: key, At: h.cfg.Now().UTC(),
	}, cmd)
	if reply.Code == http.StatusOK {
		h.recordSignal(ctx, reply, sig)
		h.followUp(cb.ResponseURL, reply.Text)
	}
	return reply
}

// signalClickKey is the key of a declaration from a signal's button: the
// message the button is on. Without one (never seen from Slack) every
// click is its own.
func signalClickKey(cb slack.InteractionCallback, channel string) string {
	if ts := cmp.Or(cb.Container.MessageTs, cb.Message.Timestamp); ts != "" {
		return blockkit.SignalKey(channel, ts)
	}
	return "slack:signal:trigger:" + cb.TriggerID
}

// openSignalForm opens the prefilled declare form in the background and
// reports whether it tried (see openDeclareForm).
func (h *SlackHandler) openSignalForm(cb slack.InteractionCallback, cmd command.Command, meta signalForm) bool {
	if h.cfg.Slack == nil || h.slackDown() || cb.TriggerID == "" {
		return false
	}
	view, err := declareSignalModal(cmd, meta)
	if err != nil {
		return false
	}
	return h.background(viewOpenTimeout, func(ctx context.Context) {
		err := h.call(ctx, "views.open", false, func(ctx context.Context) error {
			_, err := h.cfg.Slack.OpenViewContext(ctx, cb.TriggerID, view)
			return err
		})
		if err == nil {
			return
		}
		h.cfg.Logger.WarnContext(ctx, "could not open the declare form of a signal", "err", err.Error())
		h.followUp(cb.ResponseURL, "Ooda could not open the declare form: Slack did not answer in time. Declare with the command instead: `/incident declare sev2 --service "+mrkdwn.Escape(cmd.Service)+" "+mrkdwn.Escape(cmd.Title)+"`")
	})
}

// declareSignalModal is the declare form, prefilled from a signal.
func declareSignalModal(cmd command.Command, meta signalForm) (slack.ModalViewRequest, error) {
	md, err := json.Marshal(meta)
	if err != nil {
		return slack.ModalViewRequest{}, err
	}
	v := prefilledDeclareModal(cmd, meta.Channel)
	v.CallbackID = declareSignalCallbackID
	v.PrivateMetadata = string(md)
	return v, nil
}

// prefilledDeclareModal is the declare form with cmd's title, service and
// severity filled in.
func prefilledDeclareModal(cmd command.Command, channel string) slack.ModalViewRequest {
	v := declareModal(channel)
	for _, b := range v.Blocks.BlockSet {
		in, ok := b.(*slack.InputBlock)
		if !ok {
			continue
		}
		switch el := in.Element.(type) {
		case *slack.PlainTextInputBlockElement:
			switch in.BlockID {
			case declareTitle:
				el.InitialValue = cmd.Title
			case declareService:
				el.InitialValue = cmd.Service
			}
		case *slack.SelectBlockElement:
			if in.BlockID == declareSeverity && cmd.Severity >= 1 && cmd.Severity <= len(el.Options) {
				el.InitialOption = el.Options[cmd.Severity-1]
			}
		}
	}
	return v
}

// submitDeclareSignal declares the incident a signal's form describes,
// under the key of the click that opened it: two forms opened by a double
// click declare once.
func (h *SlackHandler) submitDeclareSignal(ctx context.Context, cb slack.InteractionCallback) (*slack.ViewSubmissionResponse, string) {
	var meta signalForm
	if cb.User.ID == "" || cb.View.ID == "" || json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta) != nil || meta.Key == "" {
		return nil, outcomeMalformed
	}
	cmd, errs := readDeclareForm(cb.View)
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), outcomeRefused
	}
	reply := h.cfg.Dispatcher.Run(ctx, command.Request{
		User: cb.User.ID, Channel: meta.Channel, Source: timeline.SourceCommand, Key: meta.Key, At: h.cfg.Now().UTC(),
	}, cmd)
	if reply.Code != http.StatusOK {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{declareTitle: reply.Text}), replyOutcome(reply)
	}
	h.recordSignal(ctx, reply, meta)
	return nil, outcomeOK
}
