package bot

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// command runs a slash command, whichever transport brought it, and
// returns the reply to answer with: nil when the declare form opens
// instead. It commits locally and never waits on Slack.
func (h *SlackHandler) command(ctx context.Context, sc slack.SlashCommand, transport string) (*SlashReply, string) {
	if sc.UserID == "" || sc.TriggerID == "" {
		return nil, outcomeMalformed
	}
	reply := h.cfg.Dispatcher.Handle(ctx, command.Request{
		Text:    mrkdwn.Unescape(sc.Text),
		User:    sc.UserID,
		Channel: sc.ChannelID,
		Source:  timeline.SourceCommand,
		// A trigger id is unique per invocation; Slack reuses it when it
		// redelivers the same one.
		Key: "slack:" + sc.TriggerID,
		At:  h.cfg.Now().UTC(),
	})
	outcome := replyOutcome(reply)
	if reply.OpenDeclareForm && h.openDeclareForm(sc, transport) {
		return nil, outcome
	}
	return ephemeral(reply.Text), outcome
}

// ephemeral is a reply only its asker sees. Every reply is one: what a
// command changes is posted in the incident channel by the executor, so
// an in-channel echo would say it twice, and errors are nobody else's
// business.
func ephemeral(text string) *SlashReply {
	return &SlashReply{ResponseType: slack.ResponseTypeEphemeral, Text: safeReplyText(text)}
}

func replyOutcome(r command.Reply) string {
	switch {
	case r.Code >= 500:
		return outcomeError
	case r.Code >= 400:
		return outcomeRefused
	}
	return outcomeOK
}

// openDeclareForm opens the declare modal in the background and reports
// whether it tried; when it did not (no Slack client, Slack known to be
// down, too much in flight), the caller answers with the typed grammar.
// A failure after trying is followed up on the command's response_url.
func (h *SlackHandler) openDeclareForm(sc slack.SlashCommand, transport string) bool {
	if h.cfg.Slack == nil || h.slackDown() {
		return false
	}
	view := declareModal(sc.ChannelID)
	return h.background(viewOpenTimeout, func(ctx context.Context) {
		err := h.call(ctx, "views.open", false, func(ctx context.Context) error {
			_, err := h.cfg.Slack.OpenViewContext(ctx, sc.TriggerID, view)
			return err
		})
		if err == nil {
			return
		}
		h.cfg.Logger.WarnContext(ctx, "could not open the declare form", "transport", transport, "err", err.Error())
		h.followUp(sc.ResponseURL, "Ooda could not open the declare form: Slack did not answer in time. Declare with the command instead: "+command.VerbUsage("declare"))
	})
}

// The declare modal: its callback id, and the block (and action) id of
// each input, which view_submission errors refer to.
const (
	declareCallbackID  = "ooda_declare"
	declareTitle       = "title"
	declareSeverity    = "severity"
	declareService     = "service"
	declarePrivate     = "private"
	declareDescription = "description"
	maxServiceName     = 100
)

// declareModal is the form `/incident declare` opens without a title. Its
// private metadata is the channel the command was typed in.
func declareModal(channel string) slack.ModalViewRequest {
	text := func(s string) *slack.TextBlockObject {
		return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
	}
	title := slack.NewPlainTextInputBlockElement(text("Checkout is failing for EU customers"), declareTitle)
	title.MaxLength = incident.MaxTitle

	var sevs []*slack.OptionBlockObject
	for sev, what := range []string{"SEV1 — critical, customers cannot use the product", "SEV2 — major, a core feature is down", "SEV3 — minor, degraded or partial", "SEV4 — low, no customer impact yet"} {
		sevs = append(sevs, slack.NewOptionBlockObject(strconv.Itoa(sev+1), text(what), nil))
	}
	severity := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, text("Severity"), declareSeverity, sevs...)
	severity.InitialOption = sevs[incident.DefaultSeverity-1]

	service := slack.NewPlainTextInputBlockElement(text("checkout"), declareService)
	service.MaxLength = maxServiceName

	private := slack.NewCheckboxGroupsBlockElement(declarePrivate,
		slack.NewOptionBlockObject("private", text("Private: a private channel, kept out of the announcement channel"), nil))

	description := slack.NewPlainTextInputBlockElement(text("What do you see? Alerts, symptoms, who is affected"), declareDescription)
	description.Multiline = true
	description.MaxLength = incident.MaxText

	optional := func(b *slack.InputBlock) *slack.InputBlock { b.Optional = true; return b }
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      declareCallbackID,
		Title:           text("Declare an incident"),
		Submit:          text("Declare"),
		Close:           text("Cancel"),
		PrivateMetadata: channel,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock(declareTitle, text("Title"), nil, title),
			slack.NewInputBlock(declareSeverity, text("Severity"), nil, severity),
			optional(slack.NewInputBlock(declareService, text("Service"), nil, service)),
			optional(slack.NewInputBlock(declarePrivate, text("Visibility"), nil, private)),
			optional(slack.NewInputBlock(declareDescription, text("Description"), nil, description)),
		}},
	}
}

// readDeclareForm reads a submitted declare form into a declare command.
// errs maps the block id of each bad input to what to change.
func readDeclareForm(v slack.View) (cmd command.Command, errs map[string]string) {
	errs = map[string]string{}
	value := func(block string) slack.BlockAction {
		if v.State == nil {
			return slack.BlockAction{}
		}
		return v.State.Values[block][block]
	}
	cmd = command.Command{Verb: command.VerbDeclare}
	cmd.Title = strings.TrimSpace(value(declareTitle).Value)
	switch n := utf8.RuneCountInString(cmd.Title); {
	case n == 0:
		errs[declareTitle] = "An incident needs a title: what is broken, for whom."
	case n > incident.MaxTitle:
		errs[declareTitle] = "Keep the title under " + strconv.Itoa(incident.MaxTitle) + " characters."
	}
	if s := value(declareSeverity).SelectedOption.Value; s != "" {
		sev, ok := command.ParseSeverity(s)
		if !ok {
			errs[declareSeverity] = "Pick a severity from SEV1 to SEV4."
		}
		cmd.Severity = sev
	}
	cmd.Service = strings.TrimSpace(value(declareService).Value)
	if utf8.RuneCountInString(cmd.Service) > maxServiceName {
		errs[declareService] = "Keep the service name under " + strconv.Itoa(maxServiceName) + " characters."
	}
	cmd.Private = len(value(declarePrivate).SelectedOptions) > 0
	cmd.Text = strings.TrimSpace(value(declareDescription).Value)
	if utf8.RuneCountInString(cmd.Text) > incident.MaxText {
		errs[declareDescription] = "Keep the description under " + strconv.Itoa(incident.MaxText) + " characters."
	}
	return cmd, errs
}

// submitDeclare declares the incident a submitted form describes. A bad
// input keeps the form open with the problem shown beside it.
func (h *SlackHandler) submitDeclare(ctx context.Context, cb slack.InteractionCallback) (*slack.ViewSubmissionResponse, string) {
	if cb.User.ID == "" || cb.View.ID == "" {
		return nil, outcomeMalformed
	}
	cmd, errs := readDeclareForm(cb.View)
	if len(errs) > 0 {
		return slack.NewErrorsViewSubmissionResponse(errs), outcomeRefused
	}
	reply := h.cfg.Dispatcher.Run(ctx, command.Request{
		User:    cb.User.ID,
		Channel: cb.View.PrivateMetadata,
		Source:  timeline.SourceCommand,
		// A view id names one opened form: submitting it twice declares once.
		Key: "slack:view:" + cb.View.ID,
		At:  h.cfg.Now().UTC(),
	}, cmd)
	if reply.Code != http.StatusOK {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{declareTitle: reply.Text}), replyOutcome(reply)
	}
	return nil, outcomeOK
}

// replyMarkupRE matches the only markup a reply to Slack may carry: user
// and channel mentions the bot wrote itself.
var replyMarkupRE = regexp.MustCompile(`^<(?:@[UW][A-Z0-9]+|#[CG][A-Z0-9]+(?:\|[^<>|]*)?)>`)

// safeReplyText defangs any Slack markup in a reply that is not a user or
// channel mention: "<!channel>", "<!here>", "<https://evil|bank>". Replies
// escape user text where they compose it; this is the edge's guarantee
// that nothing a user typed, quoted back in any reply, pings a channel or
// disguises a link.
func safeReplyText(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		if m := replyMarkupRE.FindString(s); m != "" {
			b.WriteString(m)
			s = s[len(m):]
			continue
		}
		b.WriteString("&lt;")
		s = s[1:]
	}
}
