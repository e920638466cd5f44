package blockkit

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// SLONotice is the SLO channel's message for n: what changed, the
// burn rate of each window, the budget left and how long it lasts, and
// the file the SLO comes from.
func SLONotice(n slo.Notice, open []incident.Incident) Message {
	r := n.Result
	name := "*" + mrkdwn.Escape(n.SLO) + "*"
	var head string
	switch n.Kind {
	case slo.NoticeRecovery:
		head = fmt.Sprintf(":white_check_mark: SLO %s recovered: %s", name, levelChange(n))
	case slo.NoticeWarning, slo.NoticeRepeat:
		still := ""
		if n.Kind == slo.NoticeRepeat {
			still = "still "
		}
		switch n.To {
		case slo.LevelPage:
			head = fmt.Sprintf(":rotating_light: SLO %s is %sburning its error budget fast: *page*%s", name, still, wasLevel(n))
		case slo.LevelTicket:
			head = fmt.Sprintf(":warning: SLO %s is %sburning its error budget: *ticket*%s", name, still, wasLevel(n))
		case slo.LevelNoData:
			head = fmt.Sprintf(":grey_question: SLO %s %shas *no data*: its queries return nothing, so it cannot page%s", name, still, wasLevel(n))
		default:
			head = fmt.Sprintf(":warning: SLO %s: %s", name, levelChange(n))
		}
	case slo.NoticeFreeze:
		head = fmt.Sprintf(":lock: SLO %s: the deploy freeze of `%s` changed", name, mrkdwn.Escape(n.Service))
	}
	var b strings.Builder
	b.WriteString(head)
	if a := r.Alert; a.Name != "" && (n.To == slo.LevelPage || n.To == slo.LevelTicket) {
		fmt.Fprintf(&b, "\n%s: %s and %s both above %s", a.Name, slo.FormatWindow(a.Window.Long), slo.FormatWindow(a.Window.Short), slo.FormatBurn(a.Threshold))
	}
	if burns := burnLine(r); burns != "" {
		b.WriteString("\nBurn rate: " + burns)
	}
	b.WriteString("\n" + budgetLine(r))
	switch n.Freeze {
	case slo.FreezeStarted:
		fmt.Fprintf(&b, "\n:no_entry: *Deploy freeze for `%s`*: its error budget is spent. Deploys wait until it comes back; pipelines can gate on `ooda freeze check --service %s`.", mrkdwn.Escape(n.Service), mrkdwn.Escape(n.Service))
	case slo.FreezeEnded:
		fmt.Fprintf(&b, "\n:unlock: *Deploy freeze for `%s` ended*: some error budget is back.", mrkdwn.Escape(n.Service))
	}
	blocks := []slack.Block{mrkdwnSection(b.String())}
	if n.Kind != slo.NoticeRecovery && n.To == slo.LevelPage {
		if len(open) == 0 {
			blocks = append(blocks, DeclareSignalBlock(n.Service, n.Service+" SLO burning", timeline.SourceSLO))
		} else {
			blocks = append(blocks, contextMrkdwn(openLine(n.Service, open, "this warning is in its timeline")))
		}
	}
	blocks = append(blocks, contextMrkdwn(fmt.Sprintf("SLO file `%s` · objective %s%% · evaluated at %s",
		mrkdwn.Escape(n.File), strconv.FormatFloat(r.Objective, 'f', -1, 64), mrkdwn.Clock(n.At))))
	return Message{Text: mrkdwn.Clip(mrkdwn.Escape(NoticeText(n)), maxFallbackText), Blocks: blocks}
}

// burnLine lists the burn rate of each alert window, shortest first: "5m
// 15.0× · 30m 6.20× · …". The period's window is the budget's, not a burn.
func burnLine(r slo.Result) string {
	if len(r.Windows) < 2 {
		return ""
	}
	var parts []string
	for _, w := range r.Windows[:len(r.Windows)-1] {
		parts = append(parts, slo.FormatWindow(w.Window)+" "+slo.FormatBurn(w.Burn))
	}
	return strings.Join(parts, " · ")
}

// budgetLine says how much of the period's budget is left and how long
// it lasts at the current burn.
func budgetLine(r slo.Result) string {
	period := ""
	if len(r.Windows) > 0 {
		period = " (" + slo.FormatWindow(r.Windows[len(r.Windows)-1].Window) + ")"
	}
	if math.IsNaN(r.BudgetRemaining) {
		return "Error budget left" + period + ": no data"
	}
	s := "Error budget left" + period + ": " + slo.FormatBudget(r.BudgetRemaining)
	switch {
	case r.Exhausted():
		s += " (spent)"
	case r.Exhausts:
		s += ", exhausted in " + slo.FormatDuration(r.ExhaustsIn) + " at " + slo.FormatBurn(r.Burn)
	}
	return s
}

// wasLevel says what the level was before, " (was ok)", when it changed
// from a known one.
func wasLevel(n slo.Notice) string {
	if n.From == "" || n.From == n.To {
		return ""
	}
	return " (was " + string(n.From) + ")"
}

func levelChange(n slo.Notice) string {
	if n.From == "" || n.From == n.To {
		return string(n.To)
	}
	return string(n.From) + " → " + string(n.To)
}

// NoticeText is a notice in words, without markup: the observe entry
// an open incident of the service gets, and the message's fallback text.
func NoticeText(n slo.Notice) string {
	r := n.Result
	var b strings.Builder
	switch n.Kind {
	case slo.NoticeRecovery:
		fmt.Fprintf(&b, "SLO %s recovered (%s).", n.SLO, levelChange(n))
	case slo.NoticeFreeze:
		fmt.Fprintf(&b, "SLO %s: deploy freeze %s.", n.SLO, n.Freeze)
	default:
		still := ""
		if n.Kind == slo.NoticeRepeat {
			still = "still "
		}
		fmt.Fprintf(&b, "SLO %s is %sat %s%s.", n.SLO, still, n.To, wasLevel(n))
	}
	if burns := burnLine(r); burns != "" {
		b.WriteString(" Burn rate " + burns + ".")
	}
	b.WriteString(" " + budgetLine(r) + ".")
	switch n.Freeze {
	case slo.FreezeStarted:
		fmt.Fprintf(&b, " Deploy freeze for %s: its error budget is spent.", n.Service)
	case slo.FreezeEnded:
		fmt.Fprintf(&b, " Deploy freeze for %s ended.", n.Service)
	}
	fmt.Fprintf(&b, " SLO file: %s.", n.File)
	return b.String()
}
