package blockkit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/prometheus/common/model"
	"github.com/slack-go/slack"
)

// Alert is what a triage signal shows of an Alertmanager alert.
type Alert struct {
	Name    string // its alertname, or what stands for it
	Summary string // its summary or description annotation
	Span    string // when it fired and, resolved, for how long
	Service string // the service its labels name, or ""
	// Resolved says the alert has ended: its signal is a short reply in
	// the firing signal's thread.
	Resolved     bool
	StartsAt     time.Time
	GeneratorURL string
	Labels       map[string]string
}

// AlertSignal is a triage signal: an alert that no open incident covers,
// with a button to declare one. A resolution is a short reply in the
// signal's thread.
func AlertSignal(al Alert) Message {
	name := mrkdwn.Escape(al.Name)
	if al.Resolved {
		text := fmt.Sprintf(":white_check_mark: Resolved: *%s* (%s).", name, al.Span)
		return Message{Text: fmt.Sprintf("Resolved: %s (%s).", name, al.Span), Blocks: []slack.Block{mrkdwnSection(text)}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, ":bell: *Alert firing: %s*", name)
	if al.Service != "" {
		fmt.Fprintf(&b, " · service `%s`", mrkdwn.Escape(al.Service))
	}
	if sev := al.Labels["severity"]; sev != "" {
		fmt.Fprintf(&b, " · severity %s", mrkdwn.Escape(sev))
	}
	if s := al.Summary; s != "" {
		b.WriteString("\n" + quoteLines(mrkdwn.Escape(s)))
	}
	if link := WebLink(al.GeneratorURL); link != "" {
		// Inside a link Slack reads the same entities as anywhere else.
		fmt.Fprintf(&b, "\n<%s|Source>", mrkdwn.Escape(link))
	}
	var labels []string
	for k, v := range al.Labels {
		if k != model.AlertNameLabel {
			labels = append(labels, k+"="+v)
		}
	}
	slices.Sort(labels)
	ctxLine := "No open incident covers it"
	if al.Service != "" {
		ctxLine = "No open incident for `" + mrkdwn.Escape(al.Service) + "`"
	}
	if !al.StartsAt.IsZero() {
		ctxLine += " · firing since " + mrkdwn.Clock(al.StartsAt)
	}
	if len(labels) > 0 {
		ctxLine += " · `" + mrkdwn.Escape(mrkdwn.Clip(strings.Join(labels, " "), 500)) + "`"
	}
	title := al.Name + " firing"
	if al.Service != "" {
		title = al.Service + ": " + title
	}
	fallback := "Alert firing: " + al.Name
	if al.Service != "" {
		fallback += " (service " + al.Service + ")"
	}
	return Message{Text: mrkdwn.Clip(mrkdwn.Escape(fallback), maxFallbackText), Blocks: []slack.Block{
		mrkdwnSection(b.String()),
		DeclareSignalBlock(al.Service, title, timeline.SourceAlert),
		contextMrkdwn(ctxLine),
	}}
}
