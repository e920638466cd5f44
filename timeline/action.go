package timeline

// The changes an action_updated event records (its AttrChange). The state
// changes are named after the states they lead to.
const (
	ActionChangeDone   = "done"
	ActionChangeWontDo = "wontdo"
	ActionChangeReopen = "reopen"
	ActionChangeOwner  = "owner"
	ActionChangeDue    = "due"
	ActionChangeLink   = "link"
	// The ticket changes: a ticket is asked for (when the item is added
	// with a tracker configured, or with /incident action ticket), created
	// or failed for good by the executor, and closed or reopened in its
	// tracker (which closes or reopens the item).
	ActionChangeTicket        = "ticket"
	ActionChangeTicketCreated = "ticket_created"
	ActionChangeTicketFailed  = "ticket_failed"
	ActionChangeTicketState   = "ticket_state"
	// ActionChangeTicketCloseFailed: closing the ticket of an item done
	// in Ooda failed for good (the token may not close it).
	ActionChangeTicketCloseFailed = "ticket_close_failed"
)

// appendActionUpdate appends the sentence of an action_updated event:
//
//	Action 3 done
//	Action 3 won't be done: superseded by the queue rewrite
//	Action 3 owner: U1 → U2
//	Action 3 due: 2026-12-20 → 2026-12-27
func appendActionUpdate(b []byte, e *Event, user func(string) string) []byte {
	b = append(b, "Action "...)
	b = append(b, e.Attr(AttrActionID)...)
	switch e.Attr(AttrChange) {
	case ActionChangeDone:
		b = append(b, " done"...)
	case ActionChangeWontDo:
		b = append(b, " won't be done"...)
		b = appendText(b, e.Text)
	case ActionChangeReopen:
		b = append(b, " reopened"...)
	case ActionChangeOwner:
		b = append(b, " owner: "...)
		if prev := e.Attr(AttrPrevious); prev != "" {
			b = append(b, user(prev)...)
			b = append(b, " → "...)
		}
		b = append(b, user(e.Attr(AttrOwner))...)
	case ActionChangeDue:
		due := e.Attr(AttrDue)
		if due == "" {
			due = "none"
		}
		b = append(b, " due: "...)
		b = appendChange(b, "", e.Attr(AttrPrevious), due)
	case ActionChangeLink:
		b = append(b, " linked: "...)
		b = append(b, e.Attr(AttrURL)...)
	case ActionChangeTicket:
		b = append(b, " ticket requested"...)
	case ActionChangeTicketCreated:
		b = append(b, " ticket "...)
		b = append(b, ticketName(e)...)
		b = append(b, " opened: "...)
		b = append(b, e.Attr(AttrURL)...)
	case ActionChangeTicketFailed:
		b = append(b, " ticket failed"...)
		b = appendText(b, e.Attr(AttrError))
	case ActionChangeTicketCloseFailed:
		b = append(b, " ticket "...)
		b = append(b, ticketName(e)...)
		b = append(b, " could not be closed"...)
		b = appendText(b, e.Attr(AttrError))
	case ActionChangeTicketState:
		b = append(b, " ticket "...)
		b = append(b, ticketName(e)...)
		if e.Attr(AttrState) == "closed" {
			b = append(b, " closed in its tracker"...)
		} else {
			b = append(b, " reopened in its tracker"...)
		}
		switch e.Attr(AttrStatus) {
		case ActionChangeDone:
			b = append(b, "; the action is done"...)
		case ActionChangeReopen:
			b = append(b, "; the action is open again"...)
		}
	default:
		b = append(b, " changed"...)
		b = appendText(b, e.Text)
	}
	return b
}

// TicketName is how people name ticket id of project: OPS-12 on Jira,
// acme/ops#42 on GitHub and GitLab, whose ids are numbers.
func TicketName(project, id string) string {
	if id == "" || !isDigits(id) {
		return id
	}
	return project + "#" + id
}

// ticketName is the name of a ticket event's ticket.
func ticketName(e *Event) string { return TicketName(e.Attr(AttrProject), e.Attr(AttrTicket)) }

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
