package bot

import (
	"fmt"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// slackEscaper escapes the three characters Slack's mrkdwn treats as
// control characters, so text a user typed can never become a
// <!channel> ping or a <https://evil|trusted> link when the bot echoes it.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape makes user text safe to echo into a Slack message.
func Escape(s string) string { return slackEscaper.Replace(s) }

// Quote escapes s and puts it in quotation marks.
func Quote(s string) string { return "“" + Escape(s) + "”" }

// mention renders a user id as a Slack mention, or "nobody".
func mention(u string) string {
	if u == "" {
		return "nobody"
	}
	if !incident.IsPerson(u) {
		return Escape(u)
	}
	return "<@" + u + ">"
}

// RolesText lists who holds each role.
func RolesText(inc incident.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s roles:", inc.ID)
	for _, r := range roles.All {
		fmt.Fprintf(&b, "\n• %s: %s", r.Title(), mention(inc.Roles.Get(r)))
	}
	if empty := inc.Roles.Empty(); len(empty) > 0 {
		fmt.Fprintf(&b, "\nTake one with `/incident role %s @you`.", empty[0])
	}
	return b.String()
}

// TimelineText renders the minute-by-minute timeline as Slack mrkdwn: a
// line per minute with its clock and offset, the entries under it, and
// silent stretches marked.
func TimelineText(inc incident.Incident, events []timeline.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%s timeline* — %s", inc.ID, Quote(inc.Title))
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{})
	if len(view.Minutes) == 0 {
		b.WriteString("\nNo entries yet.")
	}
	for _, m := range view.Minutes {
		if m.Silence > 0 {
			fmt.Fprintf(&b, "\n_· · · %s without entries · · ·_", humanDuration(m.Silence))
		}
		fmt.Fprintf(&b, "\n*%s* `%s`", view.Clock(m), m.OffsetLabel())
		for _, e := range m.Events {
			phase := ""
			if e.Phase != timeline.PhaseNone {
				phase = "_" + string(e.Phase) + "_ "
			}
			fmt.Fprintf(&b, "\n    %s%s: %s", phase, mention(e.Actor), Escape(timeline.Describe(e)))
		}
	}
	return b.String()
}

// humanDuration renders d as "1 h 05 min" or "7 min".
func humanDuration(d time.Duration) string { return timeline.Minutes(d.Round(time.Minute)) }
