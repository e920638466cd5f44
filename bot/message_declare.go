package bot

import (
	"bytes"
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

// DeclareFromMessageCallbackID is the callback id of the message shortcut
// "Declare incident from this message", as manifest.yaml declares it.
const DeclareFromMessageCallbackID = "ooda_declare_from_message"

// declareMessageCallbackID is the callback id of the declare form the
// shortcut opens. Its private metadata is a messageForm.
const declareMessageCallbackID = "ooda_declare_message"

// messageForm is the private metadata of the declare form the shortcut
// opened: the message, and the key of the declaration.
type messageForm struct {
	Channel string `json:"channel"`
	TS      string `json:"ts"`
	Author  string `json:"author,omitempty"`
	// Text is the message as Slack delivered it (markup, entities),
	// clipped to fit the metadata.
	Text string `json:"text,omitempty"`
	// Domain is the workspace's slack.com subdomain, which makes the
	// message's permalink when chat.getPermalink cannot be asked.
	Domain string `json:"domain,omitempty"`
	Key    string `json:"key"`
}

// maxPrivateMetadata is Slack's limit on a view's private_metadata.
const maxPrivateMetadata = 3000

// messageKey is the key of a declaration from a message: the message and
// who declared it. Submitting the form twice, or two forms one person
// opened on the message, declare once; a colleague declaring from the
// same message declares their own (the thread reply of the first tells
// them one exists).
func messageKey(channel, ts, user string) string {
	return "slack:msgdeclare:" + channel + ":" + ts + ":" + user
}

// encode is the form's private metadata: JSON within Slack's 3,000
// characters, the message's text clipped until it fits.
func (f messageForm) encode() (string, error) {
	limit := maxSignalText
	for {
		g := f
		g.Text = mrkdwn.Clip(f.Text, limit)
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // < and > would take six characters each
		if err := enc.Encode(g); err != nil {
			return "", err
		}
		s := strings.TrimSpace(b.String())
		if utf8.RuneCountInString(s) <= maxPrivateMetadata || limit == 0 {
			return s, nil
		}
		limit = max(limit-limit/4-1, 0)
	}
}

// messageShortcut answers the "Declare incident from this message"
// shortcut: it opens the declare form with a title drawn from the
// message, SEV2 and public. Nothing is declared before the form is
// submitted. When the form cannot be opened (no Slack client, Slack known
// to be down or not answering), the person is told on the shortcut's
// response_url to declare with the command.
func (h *SlackHandler) messageShortcut(cb slack.InteractionCallback) string {
	if cb.CallbackID != DeclareFromMessageCallbackID {
		return outcomeIgnored
	}
	ts := cmp.Or(cb.MessageTs, cb.Message.Timestamp)
	if cb.User.ID == "" || cb.Channel.ID == "" || ts == "" {
		return outcomeMalformed
	}
	form := messageForm{
		Channel: cb.Channel.ID, TS: ts, Author: cb.Message.User, Text: cb.Message.Text,
		Domain: cb.Team.Domain, Key: messageKey(cb.Channel.ID, ts, cb.User.ID),
	}
	cmd := command.Command{
		Verb: command.VerbDeclare, Severity: blockkit.SignalDeclareSeverity,
		Title: blockkit.MessageTitle(cb.Message.Text, cb.Channel.Name),
	}
	fallback := "Ooda could not open the declare form: Slack did not answer in time. Declare with the command instead: `/incident declare sev2 " + mrkdwn.Escape(cmd.Title) + "`"
	if h.openMessageForm(cb, cmd, form, fallback) {
		return outcomeOK
	}
	h.followUp(cb.ResponseURL, fallback)
	return outcomeRefused
}

// openMessageForm opens the prefilled declare form in the background and
// reports whether it tried; a failure after trying is followed up with
// fallback on the shortcut's response_url.
func (h *SlackHandler) openMessageForm(cb slack.InteractionCallback, cmd command.Command, form messageForm, fallback string) bool {
	if h.cfg.Slack == nil || h.slackDown() || cb.TriggerID == "" {
		return false
	}
	md, err := form.encode()
	if err != nil {
		return false
	}
	view := declareMessageModal(cmd, form.Channel, md)
	return h.background(viewOpenTimeout, func(ctx context.Context) {
		err := h.call(ctx, "views.open", false, func(ctx context.Context) error {
			_, err := h.cfg.Slack.OpenViewContext(ctx, cb.TriggerID, view)
			return err
		})
		if err == nil {
			return
		}
		h.cfg.Logger.WarnContext(ctx, "could not open the declare form of a message", "err", err.Error())
		h.followUp(cb.ResponseURL, fallback)
	})
}

// declareMessageModal is the declare form, prefilled from a message.
func declareMessageModal(cmd command.Command, channel, metadata string) slack.ModalViewRequest {
	v := prefilledDeclareModal(cmd, channel)
	v.CallbackID = declareMessageCallbackID
	v.PrivateMetadata = metadata
	return v
}

// submitDeclareMessage declares the incident the shortcut's form
// describes, with the form's validation and errors, then records the
// message as the incident's first observation and asks for the reply in
// its thread.
func (h *SlackHandler) submitDeclareMessage(ctx context.Context, cb slack.InteractionCallback) (*slack.ViewSubmissionResponse, string) {
	var form messageForm
	if cb.User.ID == "" || cb.View.ID == "" || json.Unmarshal([]byte(cb.View.PrivateMetadata), &form) != nil ||
		form.Key == "" || form.Channel == "" || form.TS == "" {
		return nil, outcomeMalformed
	}
	cmd, errs := readDeclareForm(cb.View)
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), outcomeRefused
	}
	reply := h.cfg.Dispatcher.Run(ctx, command.Request{
		User: cb.User.ID, Channel: form.Channel, Source: timeline.SourceCommand, Key: form.Key, At: h.cfg.Now().UTC(),
	}, cmd)
	if reply.Code != http.StatusOK {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{declareTitle: reply.Text}), replyOutcome(reply)
	}
	h.recordMessage(ctx, reply, cb.User.ID, form)
	return nil, outcomeOK
}

// recordMessage records the message a declaration came from, once its
// permalink is known: chat.getPermalink in the background, so the form
// is answered without waiting on Slack, or, when Slack cannot be asked or
// does not answer, the link Slack's permalinks are made of
// (https://<domain>.slack.com/archives/<channel>/p<ts without its dot>),
// right for a message at the top of a channel of a standard workspace.
// It is keyed by the declaration, so a replayed submission records once.
func (h *SlackHandler) recordMessage(ctx context.Context, reply command.Reply, declarer string, form messageForm) {
	n, err := incident.ParseID(reply.Incident)
	if err != nil {
		return
	}
	fallback := messagePermalink(form.Domain, form.Channel, form.TS)
	record := func(ctx context.Context, link string) {
		m := incident.Meta{At: slackTime(form.TS, h.cfg.Now()), Actor: declarer, Source: timeline.SourceCommand, Key: form.Key + ":message"}
		msg := incident.SourceMessage{
			Channel: form.Channel, TS: form.TS,
			Text: blockkit.MessageObservation(form.Author, form.Channel, form.Text, link, incident.MaxText),
		}
		res, err := h.cfg.Store.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) {
			return inc.DeclaredFromMessage(msg, m)
		})
		if err != nil {
			h.cfg.Logger.WarnContext(ctx, "could not record the message an incident was declared from", "incident", reply.Incident, "err", err)
			return
		}
		if len(res.Effects) > 0 && h.cfg.Dispatcher.Committed != nil {
			h.cfg.Dispatcher.Committed()
		}
	}
	if h.cfg.Slack == nil || h.slackDown() {
		record(ctx, fallback)
		return
	}
	started := h.background(slackCallTimeout, func(ctx context.Context) {
		link := fallback
		err := h.call(ctx, "chat.getPermalink", true, func(ctx context.Context) error {
			got, err := h.cfg.Slack.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: form.Channel, Ts: form.TS})
			if err == nil && got != "" {
				link = got
			}
			return err
		})
		if err != nil {
			h.cfg.Logger.WarnContext(ctx, "could not ask Slack for a message's permalink; recording the link it is made of", "err", err.Error())
		}
		// The call may have used up the deadline; the commit is local and
		// needs a moment of its own.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), slackCallTimeout)
		defer cancel()
		record(rctx, link)
	})
	if !started {
		record(ctx, fallback)
	}
}

// messagePermalink is the link to message ts in channel as Slack makes
// it, or "" without the workspace's domain.
func messagePermalink(domain, channel, ts string) string {
	if domain == "" || channel == "" || ts == "" {
		return ""
	}
	return "https://" + domain + ".slack.com/archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
}
