package command

import (
	"fmt"
	"strings"
	"unicode/utf8"

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
	view := timeline.Build(events, inc.DeclaredAt, timeline.Options{IncludeStruck: true})
	if len(view.Minutes) == 0 {
		b.WriteString("\nNo entries yet.")
	}
	for _, m := range view.Minutes {
		if m.Silence > 0 {
			fmt.Fprintf(&b, "\n_· · · %s without entries · · ·_", mrkdwn.Duration(m.Silence))
		}
		fmt.Fprintf(&b, "\n*%s* `%s`", view.Clock(m), m.OffsetLabel())
		for _, e := range m.Events {
			b.WriteString("\n    " + entryLine(e))
		}
	}
	b.WriteString(timelineFooter(view))
	return b.String()
}

// The bounds of a `/incident list` reply. Slack cuts a message at 40,000
// characters, but an ephemeral reply longer than a screen is not read:
// a page holds listPageSize incidents and stays within maxListText, the
// size of a Block Kit section, so it is also ready to move into blocks.
// listFrame is what the headings and closing sentences may take; each
// line gets an equal share of the rest.
const (
	listPageSize = 15
	maxListText  = 3000
	listFrame    = 450
	maxListLine  = (maxListText - listFrame) / listPageSize
	// minListTitle keeps a recognisable part of the title however long
	// the rest of its line is.
	minListTitle = 16
)

// incidentList is what `/incident list` shows: the open incidents and
// the resolved ones whose post-mortem is overdue, each newest first,
// already narrowed to those the caller may see and to Severity.
type incidentList struct {
	Open, Overdue []incident.Incident
	Severity      int // 0: every severity
	Page          int // from 1
}

// Text renders the page: the open incidents first, then the overdue
// post-mortems, listPageSize lines in all, and how many more there are
// and the command that shows them.
func (l incidentList) Text() string {
	total := len(l.Open) + len(l.Overdue)
	pages := max(1, (total+listPageSize-1)/listPageSize)
	sev := ""
	if l.Severity != 0 {
		sev = fmt.Sprintf(" sev%d", l.Severity)
	}
	if l.Page > pages {
		if total == 0 {
			return fmt.Sprintf("There is no page %d: there are no open%s incidents and no overdue post-mortems.", l.Page, l.kind())
		}
		return fmt.Sprintf("There is no page %d: %s make %d page(s) of %d. `/incident list%s page %d` shows the last.",
			l.Page, l.counts(len(l.Open), len(l.Overdue), false, false), pages, listPageSize, sev, pages)
	}
	from := (l.Page - 1) * listPageSize
	to := min(from+listPageSize, total)
	open := l.Open[min(from, len(l.Open)):min(to, len(l.Open))]
	overdue := l.Overdue[max(from-len(l.Open), 0):max(to-len(l.Open), 0)]

	var b strings.Builder
	if l.Page == 1 && len(l.Open) == 0 {
		fmt.Fprintf(&b, "No open%s incidents.", l.kind())
	}
	if len(open) > 0 {
		fmt.Fprintf(&b, "%d open%s incident(s)", len(l.Open), l.kind())
		if len(open) < len(l.Open) {
			first := min(from, len(l.Open)) + 1
			fmt.Fprintf(&b, ", newest first (%d–%d)", first, first+len(open)-1)
		}
		b.WriteString(":")
	}
	for _, inc := range open {
		where := fmt.Sprintf(" — %s%s", inc.Status, listWhere(inc))
		b.WriteString("\n" + listLine(inc, where))
	}
	if len(overdue) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%d%s post-mortem(s) overdue", len(l.Overdue), l.kind())
		if len(overdue) < len(l.Overdue) {
			first := max(from-len(l.Open), 0) + 1
			fmt.Fprintf(&b, " (%d–%d)", first, first+len(overdue)-1)
		}
		b.WriteString(":")
	}
	for _, inc := range overdue {
		where := fmt.Sprintf(" — resolved %s, post-mortem due since %s UTC",
			inc.ResolvedAt.UTC().Format("Mon 2 Jan"), roles.PostmortemDueAt(inc.ResolvedAt).Format("Mon 2 Jan 15:04"))
		if inc.PostmortemDraftFileID != "" {
			where += " (drafted)"
		}
		b.WriteString("\n" + listLine(inc, where+listWhere(inc)))
	}
	if len(overdue) > 0 {
		b.WriteString("\nPublish one with `/incident postmortem publish INC-7 <url>`.")
	}
	if to < total {
		// Open incidents come first: any left means some were shown.
		fmt.Fprintf(&b, "\n…and %s. See the next %d with `/incident list%s page %d`",
			l.counts(max(len(l.Open)-to, 0), len(l.Overdue)-max(to-len(l.Open), 0), true, to > len(l.Open)),
			min(listPageSize, total-to), sev, l.Page+1)
		if l.Severity == 0 {
			b.WriteString(", or one severity with `/incident list sev1`")
		}
		b.WriteString(".")
	}
	return b.String()
}

// kind is the severity filter as the reply words it: " SEV1", or nothing.
func (l incidentList) kind() string {
	if l.Severity == 0 {
		return ""
	}
	return fmt.Sprintf(" SEV%d", l.Severity)
}

// counts words how many open incidents and overdue post-mortems there
// are, each group "more" when some of it was already shown.
func (l incidentList) counts(open, overdue int, openMore, overdueMore bool) string {
	more := func(b bool) string {
		if b {
			return "more "
		}
		return ""
	}
	var parts []string
	if open > 0 {
		parts = append(parts, fmt.Sprintf("%d %sopen%s incident(s)", open, more(openMore), l.kind()))
	}
	if overdue > 0 {
		parts = append(parts, fmt.Sprintf("%d %soverdue%s post-mortem(s)", overdue, more(overdueMore), l.kind()))
	}
	return strings.Join(parts, " and ")
}

// listLine is one incident of the list: its number, severity and title,
// then rest, within maxListLine characters. The title gives way first, so
// the status, the channel and the Commander stay readable.
func listLine(inc incident.Incident, rest string) string {
	head := fmt.Sprintf("• %s SEV%d ", inc.ID, inc.Severity)
	room := max(maxListLine-utf8.RuneCountInString(head+rest)-2, minListTitle)
	line := head + "“" + mrkdwn.Clip(mrkdwn.Escape(inc.Title), room) + "”" + rest
	return mrkdwn.Clip(line, maxListLine)
}

// listWhere is where an incident is worked and who commands it.
func listWhere(inc incident.Incident) string {
	var b strings.Builder
	if inc.ChannelID != "" {
		fmt.Fprintf(&b, " <#%s>", inc.ChannelID)
	}
	if inc.Roles.Commander != "" {
		fmt.Fprintf(&b, ", Commander <@%s>", inc.Roles.Commander)
	}
	return b.String()
}
