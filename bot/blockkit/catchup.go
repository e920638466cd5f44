package blockkit

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
	"github.com/slack-go/slack"
)

// CatchUp is the catch-up message for the events at seqs.
func CatchUp(inc incident.Incident, events []timeline.Event, seqs string) Message {
	want := make(map[uint64]bool)
	for _, s := range strings.Split(seqs, ",") {
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			want[n] = true
		}
	}
	var told []timeline.Event
	for _, ev := range events {
		if want[ev.Seq] {
			told = append(told, ev)
		}
	}
	if len(told) == 0 {
		return Message{Text: fmt.Sprintf("%s: entries recorded while Slack was unreachable are in `/incident timeline`.", inc.ID)}
	}
	first, last := told[0].At.UTC(), told[len(told)-1].At.UTC()
	layout := "15:04"
	if first.YearDay() != last.YearDay() || first.Year() != last.Year() {
		layout = "Jan 2 15:04"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "While Slack was unreachable, %s–%s UTC, %d %s recorded in %s:",
		first.Format(layout), last.Format(layout), len(told), mrkdwn.Plural(len(told), "entry was", "entries were"), inc.ID)
	for i, ev := range told {
		if i == catchUpMaxLines {
			fmt.Fprintf(&b, "\n…and %d more.", len(told)-i)
			break
		}
		phase := ""
		if ev.Phase != timeline.PhaseNone {
			phase = "_" + string(ev.Phase) + "_ "
		}
		fmt.Fprintf(&b, "\n• %s %s%s: %s", ev.At.UTC().Format("15:04"), phase, mrkdwn.Mention(ev.Actor), mrkdwn.Escape(timeline.Describe(ev)))
	}
	b.WriteString("\nThe whole timeline: `/incident timeline`.")
	text := b.String()
	return Message{
		Text:   fmt.Sprintf("While Slack was unreachable, %d entries were recorded in %s.", len(told), inc.ID),
		Blocks: []slack.Block{mrkdwnSection(mrkdwn.Clip(text, 3000))},
	}
}

// catchUpMaxLines bounds the message; the rest is left to /incident timeline.
const catchUpMaxLines = 40
