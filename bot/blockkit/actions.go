package blockkit

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// DueGroup is one incident's overdue items in a reminder.
type DueGroup struct {
	Incident incident.Incident
	Items    []incident.Action
}

// The bounds of an overdue-items reminder: a person owning more items
// than a message can list gets the first ones and a command that lists
// the rest. Every line stays short enough that a section of
// maxDuePerSection lines and its heading fit maxSectionText.
const (
	maxDueItems      = 20
	maxDuePerSection = 8
	maxDueLine       = 300
)

// ActionsDue is the direct message that reminds a person, on their day,
// of the action items they own that are overdue: grouped by incident,
// most overdue first as given, each with its priority and how long ago it
// was due, and the commands that settle one. The caller names only
// incidents the person may see.
func ActionsDue(day string, groups []DueGroup) Message {
	total := 0
	for _, g := range groups {
		total += len(g.Items)
	}
	head := fmt.Sprintf(":alarm_clock: *You own %d overdue action %s.* Finish %s, give %s a new day, or say why %s won't be done:",
		total, mrkdwn.Plural(total, "item", "items"), mrkdwn.Plural(total, "it", "them"), mrkdwn.Plural(total, "it", "them"), mrkdwn.Plural(total, "it", "they"))
	blocks := []slack.Block{mrkdwnSection(head)}
	var fallback []string
	shown := 0
	var example *DueGroup
	for gi := range groups {
		g := &groups[gi]
		if shown == maxDueItems {
			break
		}
		var b strings.Builder
		b.WriteString("*" + g.Incident.ID + "* " + mrkdwn.Clip(mrkdwn.Quote(g.Incident.Title), 160))
		if g.Incident.ChannelID != "" {
			b.WriteString(" <#" + g.Incident.ChannelID + ">")
		}
		for i, a := range g.Items {
			if i == maxDuePerSection || shown == maxDueItems {
				break
			}
			line := fmt.Sprintf("• %d · %s · due %s (%s): %s", a.ID, g.Incident.ActionPriority(a), dayName(a.Due), overdueBy(a.Due, day), mrkdwn.Escape(a.Text))
			b.WriteString("\n" + mrkdwn.Clip(line, maxDueLine))
			fallback = append(fallback, fmt.Sprintf("%s #%d", g.Incident.ID, a.ID))
			shown++
			if example == nil {
				example = g
			}
		}
		blocks = append(blocks, mrkdwnSection(b.String()))
	}
	if shown < total {
		blocks = append(blocks, mrkdwnSection(fmt.Sprintf("…and %d more. `/incident actions mine overdue` lists them all.", total-shown)))
	}
	if example != nil {
		id, n := example.Incident.ID, example.Items[0].ID
		blocks = append(blocks, contextMrkdwn(fmt.Sprintf(
			"`/incident action %s done %d` · `/incident action %s due %d +7d` · `/incident action %s wontdo %d <reason>` · `/incident actions mine`. "+
				"Ooda reminds you on working days while an item you own is overdue.", id, n, id, n, id, n)))
	}
	text := fmt.Sprintf("You own %d overdue action %s: %s.", total, mrkdwn.Plural(total, "item", "items"), strings.Join(fallback, ", "))
	if shown < total {
		text = strings.TrimSuffix(text, ".") + fmt.Sprintf(" and %d more.", total-shown)
	}
	return Message{Text: mrkdwn.Clip(text, maxFallbackText), Blocks: blocks}
}

// dayName writes a day (incident.DayLayout) as "Thu 10 Dec 2026".
func dayName(day string) string {
	d, err := time.Parse(incident.DayLayout, day)
	if err != nil {
		return mrkdwn.Escape(day)
	}
	return d.Format("Mon 2 Jan 2006")
}

// overdueBy says how long before today (a day) due was: "3 days ago".
func overdueBy(due, today string) string {
	d, err1 := time.Parse(incident.DayLayout, due)
	t, err2 := time.Parse(incident.DayLayout, today)
	if err1 != nil || err2 != nil {
		return "overdue"
	}
	days := int(t.Sub(d).Hours() / 24)
	if days <= 1 {
		return "yesterday"
	}
	return fmt.Sprintf("%d days ago", days)
}

// actionLine says what an action_updated event changed, for the line
// posted in the incident channel.
func actionLine(e timeline.Event) string {
	who := mrkdwn.Mention(e.Actor)
	id := mrkdwn.Escape(e.Attr(timeline.AttrActionID))
	switch e.Attr(timeline.AttrChange) {
	case timeline.ActionChangeDone:
		return fmt.Sprintf("%s marked action %s done", who, id)
	case timeline.ActionChangeWontDo:
		return fmt.Sprintf("%s marked action %s won't do: %s", who, id, mrkdwn.Escape(e.Text))
	case timeline.ActionChangeReopen:
		return fmt.Sprintf("%s reopened action %s", who, id)
	case timeline.ActionChangeOwner:
		return fmt.Sprintf("%s gave action %s to %s", who, id, mrkdwn.Mention(e.Attr(timeline.AttrOwner)))
	case timeline.ActionChangeDue:
		if due := e.Attr(timeline.AttrDue); due != "" {
			return fmt.Sprintf("%s made action %s due %s", who, id, dayName(due))
		}
		return fmt.Sprintf("%s removed action %s's due day", who, id)
	case timeline.ActionChangeLink:
		return fmt.Sprintf("%s linked action %s to %s", who, id, mrkdwn.Escape(e.Attr(timeline.AttrURL)))
	case timeline.ActionChangeTicket:
		return fmt.Sprintf("%s asked for a ticket for action %s", who, id)
	case timeline.ActionChangeTicketCreated:
		return fmt.Sprintf("Action %s is tracked in %s", id, ticketLink(e))
	case timeline.ActionChangeTicketFailed:
		return fmt.Sprintf("Ooda could not open the ticket of action %s: %s. Once the cause is fixed, `/incident action ticket %s` tries again.",
			id, mrkdwn.Clip(mrkdwn.Escape(e.Attr(timeline.AttrError)), 300), id)
	case timeline.ActionChangeTicketCloseFailed:
		return fmt.Sprintf("Ooda could not close %s, the ticket of action %s: %s. Close it in the tracker.",
			ticketLink(e), id, mrkdwn.Clip(mrkdwn.Escape(e.Attr(timeline.AttrError)), 300))
	case timeline.ActionChangeTicketState:
		switch {
		case e.Attr(timeline.AttrState) == "closed" && e.Attr(timeline.AttrStatus) == timeline.ActionChangeDone:
			return fmt.Sprintf("%s was closed in its tracker: action %s is done", ticketLink(e), id)
		case e.Attr(timeline.AttrStatus) == timeline.ActionChangeReopen:
			return fmt.Sprintf("%s was reopened in its tracker: action %s is open again", ticketLink(e), id)
		}
	}
	return who + ": " + mrkdwn.Escape(timeline.Describe(e))
}

// ticketLink names a ticket event's ticket, linked to its page when the
// event has a web address.
func ticketLink(e timeline.Event) string {
	return mrkdwn.Link(e.Attr(timeline.AttrURL), timeline.TicketName(e.Attr(timeline.AttrProject), e.Attr(timeline.AttrTicket)))
}
