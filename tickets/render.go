package tickets

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/incident"
)

// MaxTitle bounds a ticket's title, in characters: GitHub takes 256,
// Jira 255.
const MaxTitle = 250

// The labels every ticket carries besides its severity and priority.
const LabelIncident = "incident"

// Page is what Render needs besides the incident and its item.
type Page struct {
	// Key is the create_ticket effect's key; Create adds its marker.
	Key string
	// Kind is the tracker's kind: it decides the body's markup (Markdown,
	// or Jira's wiki text) and names the tracker to people.
	Kind string
	// Assignee is the owner's account in the tracker, "" for none.
	Assignee string
	// OwnerName is how people know the item's owner ("" for no owner).
	OwnerName string
	// IncidentURL is the incident's page and ChannelURL its Slack
	// channel; "" leaves the link out.
	IncidentURL string
	ChannelURL  string
}

// KindName is how people write a tracker kind: GitHub, GitLab, Jira.
func KindName(kind string) string {
	switch kind {
	case KindGitHub:
		return "GitHub"
	case KindGitLab:
		return "GitLab"
	case KindJira:
		return "Jira"
	}
	return kind
}

// Render builds the ticket of item a of inc. A private incident's ticket
// carries the item's own text, priority, due day and owner, and the
// incident's number: never its title, impact, service, channel or
// timeline, because the tracker's readers are not the channel's members.
func Render(inc incident.Incident, a incident.Action, p Page) NewTicket {
	m := markup{jira: p.Kind == KindJira}
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteByte('\n') }

	if inc.Private {
		line(fmt.Sprintf("Action item %d of %s, a private incident.", a.ID, inc.ID))
	} else {
		line(fmt.Sprintf("Action item %d of %s: %s", a.ID, inc.ID, m.text(inc.Title)))
	}
	line("")
	if a.Text != oneLine(a.Text) || utf8.RuneCountInString(a.Text) > MaxTitle {
		// The title lost some of it.
		line(m.text(a.Text))
		line("")
	}
	priority := inc.ActionPriority(a)
	due := "no due day"
	if a.Due != "" {
		due = "due " + a.Due
	}
	line(m.item("Priority: " + priority + ", " + due))
	switch {
	case a.Owner == "":
		line(m.item("Owner: nobody yet; name one in Slack with /incident action owner " + strconv.Itoa(a.ID) + " @someone"))
	case p.Assignee != "":
		line(m.item("Owner: " + m.text(ownerName(p.OwnerName, a.Owner)) + " (assigned)"))
	default:
		line(m.item("Owner in Slack: " + m.text(ownerName(p.OwnerName, a.Owner)) + " — not mapped to a " + KindName(p.Kind) + " account; add them to the accounts file"))
	}
	if p.IncidentURL != "" {
		line(m.item("Incident: " + m.link(inc.ID, p.IncidentURL)))
	}
	if !inc.Private {
		if p.ChannelURL != "" {
			line(m.item("Slack channel: " + m.link("the incident channel", p.ChannelURL)))
		}
		if pm := postmortemURL(inc, p.IncidentURL); pm != "" {
			line(m.item("Post-mortem: " + m.link("the post-mortem", pm)))
		}
		if strings.TrimSpace(inc.Impact) != "" {
			line("")
			line(m.bold("Impact:") + " " + m.text(inc.Impact))
		}
	}
	line("")
	b.WriteString(fmt.Sprintf("Opened by Ooda. Closing this ticket marks action %d done in Ooda.", a.ID))

	return NewTicket{
		Key:      p.Key,
		Title:    Title(a.Text),
		Body:     b.String(),
		Labels:   Labels(inc, a),
		Assignee: p.Assignee,
	}
}

// Labels are a ticket's labels: incident, the incident's severity (sev2)
// and the item's working priority (P1).
func Labels(inc incident.Incident, a incident.Action) []string {
	labels := []string{LabelIncident}
	if inc.Severity > 0 {
		labels = append(labels, "sev"+strconv.Itoa(inc.Severity))
	}
	return append(labels, inc.ActionPriority(a))
}

// Title is the ticket title of an item's text: one line, at most MaxTitle
// characters, clipped on a rune boundary with an ellipsis.
func Title(text string) string {
	t := oneLine(text)
	if utf8.RuneCountInString(t) <= MaxTitle {
		return t
	}
	rs := []rune(t)[:MaxTitle-1]
	return strings.TrimRight(string(rs), " ") + "…"
}

// oneLine folds runs of whitespace, line breaks included, into one space.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// postmortemURL is the published post-mortem, else the incident page's
// post-mortem view, else "".
func postmortemURL(inc incident.Incident, incidentURL string) string {
	if inc.PostmortemURL != "" {
		return inc.PostmortemURL
	}
	if incidentURL != "" {
		return strings.TrimRight(incidentURL, "/") + "/postmortem"
	}
	return ""
}

func ownerName(name, id string) string {
	if strings.TrimSpace(name) != "" {
		return name
	}
	return id
}

// markup writes Markdown (GitHub, GitLab) or Jira's wiki text.
type markup struct{ jira bool }

// text makes people's text inert: one line, no markup, no mentions, and
// no marker that Find could mistake for another ticket's key.
func (m markup) text(s string) string {
	s = strings.ReplaceAll(oneLine(s), MarkerPrefix, "ooda-key ")
	specials := "\\`*_[]<>@#|!~"
	if m.jira {
		specials = "\\[]{}|*_+^~!-"
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(specials, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (m markup) item(s string) string {
	if m.jira {
		return "* " + s
	}
	return "- " + s
}

func (m markup) bold(s string) string {
	if m.jira {
		return "*" + s + "*"
	}
	return "**" + s + "**"
}

func (m markup) link(text, url string) string {
	if m.jira {
		return "[" + text + "|" + url + "]"
	}
	return "[" + text + "](" + url + ")"
}
