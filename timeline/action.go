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
	default:
		b = append(b, " changed"...)
		b = appendText(b, e.Text)
	}
	return b
}
