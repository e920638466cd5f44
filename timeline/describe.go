package timeline

import "strings"

// Describe says what e records in one plain sentence, without Slack markup
// and without its phase, which renderers show in a column of their own:
//
//	Declared SEV2 "Checkout down" (service checkout)
//	U123 is Commander (handover from U999)
//	Status: investigating → identified
//
// Users appear as the ids the event carries; WriteText resolves them to
// names.
func Describe(e Event) string {
	return string(appendDescription(make([]byte, 0, 64+len(e.Text)), &e, nil))
}

// appendDescription appends Describe's sentence to b, passing every user id
// through name when it is not nil. It appends rather than returns a string
// so WriteText renders thousands of events without a string per event.
func appendDescription(b []byte, e *Event, name func(string) string) []byte {
	user := func(u string) string {
		if name == nil {
			return u
		}
		return name(u)
	}
	switch e.Kind {
	case KindDeclared:
		b = append(b, "Declared "...)
		if e.Attr(AttrPrivate) == "true" {
			b = append(b, "private "...)
		}
		if sev := e.Attr(AttrSeverity); sev != "" {
			b = append(b, "SEV"...)
			b = append(b, sev...)
			b = append(b, ' ')
		}
		b = append(b, '"')
		b = append(b, e.Attr(AttrTitle)...)
		b = append(b, '"')
		// Only triage is worth saying: investigating is how people declare.
		if e.Attr(AttrStatus) == "triage" {
			b = append(b, " in triage"...)
		}
		if s := e.Attr(AttrService); s != "" {
			b = append(b, " (service "...)
			b = append(b, s...)
			b = append(b, ')')
		}
		b = appendText(b, e.Text)
	case KindRoleAssigned:
		u, prev := e.Attr(AttrUser), e.Attr(AttrPrevious)
		if u == "" {
			b = appendRole(b, e.Attr(AttrRole))
			b = append(b, " is vacant"...)
			if prev != "" {
				b = append(b, " (was "...)
				b = append(b, user(prev)...)
				b = append(b, ')')
			}
			break
		}
		b = append(b, user(u)...)
		b = append(b, " is "...)
		b = appendRole(b, e.Attr(AttrRole))
		if prev != "" {
			b = append(b, " (handover from "...)
			b = append(b, user(prev)...)
			b = append(b, ')')
		}
	case KindStatusChanged:
		b = append(b, "Status: "...)
		b = appendChange(b, "", e.Attr(AttrPrevious), e.Attr(AttrStatus))
	case KindSeverityChanged:
		b = append(b, "Severity: "...)
		b = appendChange(b, "SEV", e.Attr(AttrPrevious), e.Attr(AttrSeverity))
	case KindImpactSet:
		b = append(b, "Impact"...)
		b = appendText(b, e.Text)
	case KindLoopEntry:
		switch {
		case e.Attr(AttrCause) == "true":
			b = append(b, "Root cause: "...)
		case e.Phase == PhaseNone:
			b = append(b, "Note: "...)
		}
		b = append(b, e.Text...)
		b = appendCorrectionMarks(b, e, user)
	case KindEntryAmended, KindEntryStruck:
		b = appendCorrectionEvent(b, e)
	case KindActionAdded:
		b = append(b, "Action"...)
		if id := e.Attr(AttrActionID); id != "" {
			b = append(b, ' ')
			b = append(b, id...)
		}
		prio, owner := e.Attr(AttrPriority), e.Attr(AttrOwner)
		if prio != "" || owner != "" {
			b = append(b, " ("...)
			b = append(b, prio...)
			if owner != "" {
				if prio != "" {
					b = append(b, ", "...)
				}
				b = append(b, "owner "...)
				b = append(b, user(owner)...)
			}
			b = append(b, ')')
		}
		b = appendText(b, e.Text)
	case KindActionUpdated:
		b = appendActionUpdate(b, e, user)
	case KindUpdatePosted:
		b = append(b, "Update"...)
		b = appendText(b, e.Text)
	case KindResolved:
		b = append(b, "Resolved"...)
		b = appendText(b, e.Text)
	case KindReopened:
		b = append(b, "Reopened"...)
	case KindClosed:
		b = append(b, "Closed"...)
		if u := e.Attr(AttrURL); u != "" {
			b = append(b, "; post-mortem at "...)
			b = append(b, u...)
		}
	case KindChannelCreated:
		b = append(b, "Channel "...)
		if c := e.Attr(AttrChannel); c != "" {
			b = append(b, c...)
			b = append(b, ' ')
		}
		b = append(b, "created"...)
	case KindParticipant:
		b = append(b, user(e.Attr(AttrUser))...)
		b = append(b, " joined"...)
	case KindMemberLeft:
		b = append(b, user(e.Attr(AttrUser))...)
		b = append(b, " left the channel"...)
	case KindMembersAdded, KindMembersSynced:
		if e.Kind == KindMembersAdded {
			b = append(b, "Invited "...)
		} else {
			b = append(b, "Channel members: "...)
		}
		for i, u := range Users(e.Attr(AttrUsers)) {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = append(b, user(u)...)
		}
	case KindMessageCaptured:
		switch e.Source {
		case SourcePin:
			b = append(b, "Pinned"...)
		case SourceReaction:
			b = append(b, "Marked"...)
		default:
			b = append(b, "Captured"...)
		}
		b = appendText(b, e.Text)
	case KindEffectFailed:
		b = append(b, "Effect "...)
		if f := e.Attr(AttrEffect); f != "" {
			b = append(b, f...)
			b = append(b, ' ')
		}
		b = append(b, "failed"...)
		b = appendText(b, e.Attr(AttrError))
	case KindNudged:
		b = append(b, "Reminder"...)
		if e.Text == "" {
			if k := e.Attr(AttrNudge); k != "" {
				b = append(b, " ("...)
				b = append(b, k...)
				b = append(b, ')')
			}
		}
		b = appendText(b, e.Text)
	case KindPostmortemRequested:
		b = append(b, "Post-mortem draft requested"...)
	case KindBudgetBreached:
		b = append(b, "Error budget"...)
		b = appendText(b, e.Text)
	case KindPostmortemDrafted:
		b = append(b, "Post-mortem draft uploaded"...)
		if u := e.Attr(AttrURL); u != "" {
			b = append(b, ": "...)
			b = append(b, u...)
		}
	default:
		// A kind this build does not know (an export from a newer Ooda)
		// still reads as something.
		b = append(b, e.Kind...)
		b = appendText(b, e.Text)
	}
	return b
}

// appendText appends ": text", or nothing when text is empty.
func appendText(b []byte, text string) []byte {
	if text == "" {
		return b
	}
	b = append(b, ": "...)
	return append(b, text...)
}

// appendChange appends "prev → now", or just now when there was no prev.
func appendChange(b []byte, prefix, prev, now string) []byte {
	if prev != "" {
		b = append(b, prefix...)
		b = append(b, prev...)
		b = append(b, " → "...)
	}
	b = append(b, prefix...)
	return append(b, now...)
}

// appendRole appends a role name as people read it ("Commander"), without
// importing roles: the timeline sits below every package that uses it.
func appendRole(b []byte, role string) []byte {
	if role == "" {
		return append(b, "a role"...)
	}
	if c := role[0]; 'a' <= c && c <= 'z' {
		b = append(b, c-'a'+'A')
		return append(b, role[1:]...)
	}
	return append(b, role...)
}

// Users reads a users attribute: comma-separated ids, blanks dropped.
func Users(attr string) []string {
	var out []string
	for u := range strings.SplitSeq(attr, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}
