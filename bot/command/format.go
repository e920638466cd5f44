package command

import (
	"fmt"
	"strings"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// RolesText lists who holds each role.
func RolesText(inc incident.Incident) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s roles:", inc.ID)
	for _, r := range roles.All {
		fmt.Fprintf(&b, "\n• %s: %s", r.Title(), mrkdwn.Mention(inc.Roles.Get(r)))
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
	fmt.Fprintf(&b, "*%s timeline* — %s", inc.ID, mrkdwn.Quote(inc.Title))
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{})
	if len(view.Minutes) == 0 {
		b.WriteString("\nNo entries yet.")
	}
	for _, m := range view.Minutes {
		if m.Silence > 0 {
			fmt.Fprintf(&b, "\n_· · · %s without entries · · ·_", mrkdwn.Duration(m.Silence))
		}
		fmt.Fprintf(&b, "\n*%s* `%s`", view.Clock(m), m.OffsetLabel())
		for _, e := range m.Events {
			phase := ""
			if e.Phase != timeline.PhaseNone {
				phase = "_" + string(e.Phase) + "_ "
			}
			fmt.Fprintf(&b, "\n    %s%s: %s", phase, mrkdwn.Mention(e.Actor), mrkdwn.Escape(timeline.Describe(e)))
		}
	}
	return b.String()
}
