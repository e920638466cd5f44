package timeline

import (
	"strconv"
	"time"
)

// People correct what they typed: an entry amended (new text, a new time,
// or both), an entry struck, or an entry written after the fact with the
// time it happened (backdated). The original is never lost: an amendment or
// a strike is an event of its own that names the entry it corrects, and a
// backdated entry carries the time it was written. Correct reads them into
// the entries people see and into the audit trail that says what was
// changed, by whom and when; the incident's fold (the audit trail) and
// every view of the timeline (Build) use it, so they cannot disagree.

// Attribute keys of corrections. AttrEntry, AttrAt and AttrPreviousAt are
// on the correction events, AttrWrittenAt on a backdated entry; AttrPrevious
// (the entry's text before the correction) is on both correction kinds.
const (
	AttrEntry      = "entry"       // the sequence number of the entry corrected
	AttrAt         = "at"          // an amended entry's new time, RFC 3339
	AttrPreviousAt = "previous_at" // its time before, RFC 3339
	AttrWrittenAt  = "written_at"  // when a backdated entry was written, RFC 3339
)

// Marks Correct puts on the entries it hands back; the log never holds
// them. AttrStruckBy and AttrReason are set on a struck entry, which only
// a view built with Options.IncludeStruck shows.
const (
	AttrAmended  = "amended"   // "true": the text or time is not what was first written
	AttrStruck   = "struck"    // "true"
	AttrStruckBy = "struck_by" // who struck it
	AttrReason   = "reason"    // why, when they said
)

// CorrectionKind says what a correction did.
type CorrectionKind string

// The corrections.
const (
	CorrectionAmended   CorrectionKind = "amended"
	CorrectionStruck    CorrectionKind = "struck"
	CorrectionBackdated CorrectionKind = "backdated"
)

// Correction is one line of an incident's audit trail: what was changed
// in which entry, by whom, and when. Its JSON field names are a contract
// with the API and exports.
type Correction struct {
	// Kind is amended, struck or backdated.
	Kind CorrectionKind `json:"kind"`
	// Entry is the sequence number of the entry corrected (shown as #12).
	Entry uint64 `json:"entry"`
	// Seq is the event that records the correction: the amendment or the
	// strike, or the backdated entry itself.
	Seq uint64 `json:"seq"`
	// By is who made it (a Slack user id, or "api:<token>").
	By string `json:"by"`
	// At is when it was made; for a backdated entry, when it was written.
	At time.Time `json:"at"`
	// Previous is the entry's text before an amendment or a strike, and
	// Text its new text after an amendment ("" when only its time changed).
	Previous string `json:"previous,omitempty"`
	Text     string `json:"text,omitempty"`
	// EntryAt is the time the entry carries after an amendment that moved
	// it, or the time a backdated entry is dated; PreviousAt is the time an
	// amendment moved it from.
	EntryAt    time.Time `json:"entry_at,omitzero"`
	PreviousAt time.Time `json:"previous_at,omitzero"`
	// Reason is why an entry was struck, when someone said.
	Reason string `json:"reason,omitempty"`
}

// Correctable reports whether people may amend or strike e: an entry a
// person typed into the loop (observe, orient, decide, act) or a note.
// What Ooda recorded (statuses, roles, declarations, alerts, SLO warnings,
// captured Slack messages, which follow their edits in the transcript) is
// the record of what happened and is not theirs to rewrite.
func Correctable(e Event) bool {
	return e.Kind == KindLoopEntry && (e.Source == SourceCommand || e.Source == SourceAPI)
}

// CorrectionOf reads the audit line e records: an amendment, a strike, or
// a backdated entry. It reports false for any other event.
func CorrectionOf(e Event) (Correction, bool) {
	c := Correction{Seq: e.Seq, By: e.Actor, At: e.At}
	switch e.Kind {
	case KindEntryAmended:
		c.Kind, c.Entry = CorrectionAmended, attrSeq(e)
		c.Previous, c.Text = e.Attr(AttrPrevious), e.Text
		c.EntryAt, c.PreviousAt = attrTime(e, AttrAt), attrTime(e, AttrPreviousAt)
	case KindEntryStruck:
		c.Kind, c.Entry = CorrectionStruck, attrSeq(e)
		c.Previous, c.Reason = e.Attr(AttrPrevious), e.Text
	case KindLoopEntry:
		written := attrTime(e, AttrWrittenAt)
		if written.IsZero() {
			return Correction{}, false
		}
		c.Kind, c.Entry, c.At, c.EntryAt = CorrectionBackdated, e.Seq, written, e.At
	default:
		return Correction{}, false
	}
	return c, true
}

// Correct returns events as people should read them, with the audit trail
// they hold, in the order the corrections were made. An amended entry
// carries its latest text and time and AttrAmended; a struck entry is left
// out, unless keepStruck, when it is kept with AttrStruck, AttrStruckBy and
// AttrReason; the amendments and strikes themselves are left out (the
// audit trail tells them). events must be in sequence order; they are not
// modified, and when nothing was corrected they are returned as they are.
func Correct(events []Event, keepStruck bool) ([]Event, []Correction) {
	n := 0
	for i := range events {
		if isCorrection(&events[i]) {
			n++
		}
	}
	if n == 0 {
		return events, nil
	}
	audit := make([]Correction, 0, n)
	out := make([]Event, 0, len(events))
	at := make(map[uint64]int) // entry seq → its index in out
	struck := make(map[uint64]bool)
	for i := range events {
		e := events[i]
		c, ok := CorrectionOf(e)
		if ok {
			audit = append(audit, c)
		}
		if !ok || c.Kind == CorrectionBackdated {
			if Correctable(e) {
				at[e.Seq] = len(out)
			}
			out = append(out, e)
			continue
		}
		j, found := at[c.Entry]
		if !found {
			// The log was validated as it was written; a correction of
			// an entry it does not hold corrects nothing.
			continue
		}
		t := &out[j]
		t.Attrs = cloneAttrs(t.Attrs)
		switch c.Kind {
		case CorrectionAmended:
			if c.Text != "" {
				t.Text = c.Text
			}
			if !c.EntryAt.IsZero() {
				t.At = c.EntryAt
			}
			t.Attrs[AttrAmended] = "true"
		case CorrectionStruck:
			struck[c.Entry] = true
			t.Attrs[AttrStruck] = "true"
			t.Attrs[AttrStruckBy] = c.By
			t.Attrs[AttrReason] = c.Reason
		}
	}
	if !keepStruck && len(struck) > 0 {
		kept := out[:0]
		for _, e := range out {
			if !struck[e.Seq] {
				kept = append(kept, e)
			}
		}
		out = kept
	}
	return out, audit
}

// isCorrection reports whether e is a correction or a backdated entry.
func isCorrection(e *Event) bool {
	switch e.Kind {
	case KindEntryAmended, KindEntryStruck:
		return true
	case KindLoopEntry:
		return e.Attrs[AttrWrittenAt] != ""
	}
	return false
}

// Struck reports whether Correct marked e as struck.
func (e Event) Struck() bool { return e.Attr(AttrStruck) == "true" }

func attrSeq(e Event) uint64 {
	n, _ := strconv.ParseUint(e.Attr(AttrEntry), 10, 64)
	return n
}

// attrTime reads an RFC 3339 time attribute; zero when it is absent.
func attrTime(e Event, k string) time.Time {
	v := e.Attr(k)
	if v == "" {
		// Most entries carry none: no parse, and no error to allocate.
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// FormatTime writes a time for an attribute, as attrTime reads it.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func cloneAttrs(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// appendCorrectionMarks appends what a reader of a corrected entry needs
// to know: " (amended)", " (written 14:10 UTC)" for an entry written after
// the time it carries, " (struck by U1: reason)".
func appendCorrectionMarks(b []byte, e *Event, user func(string) string) []byte {
	if e.Attr(AttrAmended) == "true" {
		b = append(b, " (amended)"...)
	}
	if w := attrTime(*e, AttrWrittenAt); !w.IsZero() {
		b = append(b, " (written "...)
		if w.Format(time.DateOnly) != e.At.UTC().Format(time.DateOnly) {
			b = w.AppendFormat(b, "2006-01-02 ")
		}
		b = w.AppendFormat(b, "15:04 UTC)")
	}
	if e.Struck() {
		b = append(b, " (struck"...)
		if by := e.Attr(AttrStruckBy); by != "" {
			b = append(b, " by "...)
			b = append(b, user(by)...)
		}
		if r := e.Attr(AttrReason); r != "" {
			b = append(b, ": "...)
			b = append(b, r...)
		}
		b = append(b, ')')
	}
	return b
}

// appendCorrectionEvent describes an amendment or a strike as the channel
// line and the bookkeeping view show it: "Amended #12: new text",
// "Struck #12: wrong incident".
func appendCorrectionEvent(b []byte, e *Event) []byte {
	if e.Kind == KindEntryStruck {
		b = append(b, "Struck #"...)
	} else {
		b = append(b, "Amended #"...)
	}
	b = append(b, e.Attr(AttrEntry)...)
	if at := attrTime(*e, AttrAt); !at.IsZero() {
		b = append(b, " to "...)
		b = at.AppendFormat(b, "15:04 UTC")
	}
	return appendText(b, e.Text)
}
