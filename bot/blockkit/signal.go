package blockkit

import (
	"strings"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// ActionDeclareFromSignal is the action id of the "Declare incident"
// button that SLO warnings and alert triage signals carry. Its value is
// the service; the block holding it carries the suggested title after
// signalBlockPrefix.
const ActionDeclareFromSignal = "ooda_declare_from_slo"

// signalBlockPrefix starts the block id of the button's actions block,
// followed by the title the declare form suggests. Slack sends the block
// id back with the click, so the button needs no state of Ooda's.
const signalBlockPrefix = "ooda_signal:"

// maxBlockID is Slack's limit on a block id.
const maxBlockID = 255

// DeclareSignalBlock is the "Declare incident" button for service, whose
// form suggests title and SEV2. The block id also says what kind of signal
// it is (slo or alert), so the incident records where it came from.
func DeclareSignalBlock(service, title string, source timeline.Source) slack.Block {
	btn := slack.NewButtonBlockElement(ActionDeclareFromSignal, service, plainText("Declare incident"))
	btn.Style = slack.StyleDanger
	prefix := signalBlockPrefix + string(source) + ":"
	id := prefix + mrkdwn.Clip(title, maxBlockID-utf8.RuneCountInString(prefix))
	return slack.NewActionBlock(id, btn)
}

// SignalKey is the idempotency key of a declaration from the signal
// posted at ts in channel: the message itself, so two clicks on it, or two
// forms it opened, declare once. An alert group's next notification reads
// it back to tell which group the incident was declared from.
func SignalKey(channel, ts string) string { return "slack:signal:" + channel + ":" + ts }

// SignalSource is the kind of signal a button's block id names.
func SignalSource(blockID string) timeline.Source {
	rest, _ := strings.CutPrefix(blockID, signalBlockPrefix)
	switch {
	case strings.HasPrefix(rest, string(timeline.SourceAlert)+":"):
		return timeline.SourceAlert
	}
	return timeline.SourceSLO
}

// SignalTitle is the title a declaration from a signal suggests: the one
// its block carries, else "<service> SLO burning".
func SignalTitle(blockID, service string) string {
	t, ok := strings.CutPrefix(blockID, signalBlockPrefix)
	for _, src := range []timeline.Source{timeline.SourceSLO, timeline.SourceAlert} {
		t = strings.TrimPrefix(t, string(src)+":")
	}
	if ok && strings.TrimSpace(t) != "" {
		return mrkdwn.Clip(strings.TrimSpace(t), incident.MaxTitle)
	}
	if service == "" {
		return "Alert firing"
	}
	return mrkdwn.Clip(service+" SLO burning", incident.MaxTitle)
}

// SignalDeclareSeverity is the severity a declaration from a signal
// suggests: a burning SLO or a firing alert is a major problem until
// someone says otherwise.
const SignalDeclareSeverity = 2

// WebLink returns s when it is an absolute http(s) address safe to put in
// a Slack link, else "".
func WebLink(s string) string {
	if incident.IsWebLink(s) {
		return s
	}
	return ""
}
