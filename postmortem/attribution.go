package postmortem

import (
	"strings"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// roleOf attributes e to the role its actor held just before it: a
// post-mortem is about what the Commander, Comms and Ops did, not about
// which person did it. Entries no person made are attributed to what made
// them.
func roleOf(e *timeline.Event, h roles.Holders) string {
	switch {
	case e.Source == timeline.SourceAlert:
		return "alert"
	case e.Source == timeline.SourceSLO:
		return "SLO"
	case e.Actor == incident.Bot, e.Source == timeline.SourceSystem, e.Source == timeline.SourceReminder:
		return "Ooda"
	case !incident.IsPerson(e.Actor):
		return "responder"
	}
	mask := 0
	if h.Commander == e.Actor {
		mask |= 1
	}
	if h.Comms == e.Actor {
		mask |= 2
	}
	if h.Ops == e.Actor {
		mask |= 4
	}
	switch mask {
	case 1:
		return "Commander"
	case 2:
		return "Comms"
	case 3:
		return "Commander/Comms"
	case 4:
		return "Ops"
	case 5:
		return "Commander/Ops"
	case 6:
		return "Comms/Ops"
	case 7:
		return "Commander/Comms/Ops"
	}
	return "responder"
}

// describe says what e records, in one sentence. Names appear where a
// reader needs them to follow the story (who took a role, who handed it
// over, who owns an action); every other entry is the role's.
func (d *drafter) describe(e *timeline.Event) string {
	switch e.Kind {
	case timeline.KindRoleAssigned:
		role := roles.Role(e.Attr(timeline.AttrRole)).Title()
		u, prev := e.Attr(timeline.AttrUser), e.Attr(timeline.AttrPrevious)
		switch {
		case u == "" && prev != "":
			return role + " is vacant (was " + d.name(prev) + ")"
		case u == "":
			return role + " is vacant"
		case prev != "":
			return "Handover: " + role + " from " + d.name(prev) + " to " + d.name(u)
		}
		return d.name(u) + " is " + role
	case timeline.KindActionAdded:
		var b strings.Builder
		b.WriteString("Action")
		if id := e.Attr(timeline.AttrActionID); id != "" {
			b.WriteString(" " + id)
		}
		prio, owner := e.Attr(timeline.AttrPriority), e.Attr(timeline.AttrOwner)
		switch {
		case prio != "" && owner != "":
			b.WriteString(" (" + prio + ", owner " + d.name(owner) + ")")
		case prio != "":
			b.WriteString(" (" + prio + ")")
		case owner != "":
			b.WriteString(" (owner " + d.name(owner) + ")")
		}
		if e.Text != "" {
			b.WriteString(": " + d.plain(e.Text))
		}
		return b.String()
	}
	return d.plain(timeline.Describe(*e))
}

// plain turns the markup Slack puts in message text into what it shows:
// <@U123> becomes @name, <#C1|ops> #ops, <https://x|label> "label (https://x)".
// Anything else between angle brackets is what someone typed and stays as
// it is; the renderers escape it.
func (d *drafter) plain(s string) string {
	if strings.IndexByte(s, '<') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '>')
		if j < 0 {
			break
		}
		if rep, ok := d.slackToken(s[i+1 : i+1+j]); ok {
			b.WriteString(s[:i])
			b.WriteString(rep)
			s = s[i+1+j+1:]
			continue
		}
		b.WriteString(s[:i+1])
		s = s[i+1:]
	}
	b.WriteString(s)
	return b.String()
}

// slackToken reads the inside of one <…> token of Slack markup.
func (d *drafter) slackToken(tok string) (string, bool) {
	if tok == "" || strings.ContainsAny(tok, "<\n") {
		return "", false
	}
	body, label, hasLabel := strings.Cut(tok, "|")
	switch {
	case body[0] == '@' && isSlackID(body[1:], "UW"):
		n := d.name(body[1:])
		if n == body[1:] && hasLabel && label != "" {
			n = strings.TrimPrefix(label, "@")
		}
		// A name that says its handle ("Alice Chen (@alice)") needs no @.
		if !strings.Contains(n, "@") {
			n = "@" + n
		}
		return n, true
	case body[0] == '#' && isSlackID(body[1:], "CG"):
		if hasLabel && label != "" {
			return "#" + label, true
		}
		return body, true
	case body[0] == '!':
		switch body {
		case "!here", "!channel", "!everyone":
			return "@" + body[1:], true
		}
		if hasLabel && (strings.HasPrefix(body, "!subteam^") || strings.HasPrefix(body, "!date^")) {
			return label, true
		}
	case strings.HasPrefix(body, "http://"), strings.HasPrefix(body, "https://"), strings.HasPrefix(body, "mailto:"):
		if strings.ContainsAny(body, " \t") {
			return "", false
		}
		if hasLabel && label != "" && label != body {
			return label + " (" + body + ")", true
		}
		return body, true
	}
	return "", false
}

// isSlackID reports whether s looks like a Slack id whose first letter is
// one of first: "U0ABC123".
func isSlackID(s, first string) bool {
	if len(s) < 3 || strings.IndexByte(first, s[0]) < 0 {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
