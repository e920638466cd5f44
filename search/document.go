package search

import (
	"slices"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Field says where in an incident a line was written.
type Field string

// The fields a hit's line may come from.
const (
	FieldTitle       Field = "title"
	FieldImpact      Field = "impact"
	FieldRootCause   Field = "root cause"
	FieldTrigger     Field = "trigger"
	FieldResolution  Field = "resolution"
	FieldDescription Field = "description"
	FieldUpdate      Field = "update"
	FieldTimeline    Field = "timeline"
)

// The fields as a line stores them, in the order a document holds its
// lines: a tie between two lines goes to the first.
const (
	fTitle uint8 = iota
	fImpact
	fRootCause
	fTrigger
	fResolution
	fDescription
	fUpdate
	fTimeline
)

// fieldOf names the field f.
func fieldOf(f uint8) Field {
	switch f {
	case fTitle:
		return FieldTitle
	case fImpact:
		return FieldImpact
	case fRootCause:
		return FieldRootCause
	case fTrigger:
		return FieldTrigger
	case fResolution:
		return FieldResolution
	case fDescription:
		return FieldDescription
	case fUpdate:
		return FieldUpdate
	}
	return FieldTimeline
}

// similarWeight is how much a word counts in Similar, by field: the title
// names the incident and counts twice; impact, trigger and root cause
// once; the rest not at all.
func similarWeight(f uint8) float32 {
	switch f {
	case fTitle:
		return 2
	case fImpact, fTrigger, fRootCause:
		return 1
	}
	return 0
}

// doc is what the index keeps of one incident: the fields results need,
// the fields the access rule needs, and its lines, packed into one string.
type doc struct {
	inc   incident.Incident // trimmed: see trim
	text  string            // every line, one after the other
	lines []line
	sim   []simTerm // its words in the fields Similar reads, by term id (state.vector)
}

// line is one line of a doc: text[previous end:end].
type line struct {
	end   uint32
	field uint8
	at    int64 // when it was written, Unix nanoseconds
}

// lineText returns line i's text.
func (d *doc) lineText(i int) string {
	start := uint32(0)
	if i > 0 {
		start = d.lines[i-1].end
	}
	return d.text[start:d.lines[i].end]
}

// rootCause is the incident's root cause as one line: its cause entries
// joined by "; ", or "" when none was marked.
func (d *doc) rootCause() string {
	var causes []string
	for i := range d.lines {
		if d.lines[i].field == fRootCause {
			causes = append(causes, d.lineText(i))
		}
	}
	return strings.Join(causes, "; ")
}

// trim keeps what results show and what Admits reads, so the index does
// not hold actions, participants or the audit trail of every incident.
func trim(inc incident.Incident) incident.Incident {
	return incident.Incident{
		Number: inc.Number, ID: inc.ID, Title: inc.Title, Status: inc.Status,
		Severity: inc.Severity, Private: inc.Private, Service: inc.Service,
		Roles: inc.Roles, DeclaredAt: inc.DeclaredAt, ResolvedAt: inc.ResolvedAt,
		Members: slices.Clip(slices.Clone(inc.Members)), MembersKnown: inc.MembersKnown,
		DeclaredBy: inc.DeclaredBy, PostmortemURL: inc.PostmortemURL,
	}
}

// newDoc reads an incident and its events, in sequence order, into the
// lines the index keeps. Corrections apply: a struck entry is left out
// and an amended one reads as amended. The root cause and the trigger
// follow the post-mortem draft's rule (postmortem.Draft), which they must
// agree with: the root cause is every orient entry marked as the cause;
// the trigger is the earliest observation (typed or captured), alert or
// SLO warning whose text is not also a cause.
func newDoc(inc incident.Incident, events []timeline.Event) *doc {
	events, _ = timeline.Correct(events, false)
	var (
		causes      []int
		trigger     = -1
		impact      = -1
		resolution  = -1
		description = -1
	)
	for i := range events {
		e := &events[i]
		switch {
		case e.Bookkeeping():
		case e.Kind == timeline.KindLoopEntry && e.Phase == timeline.PhaseOrient && e.Attr(timeline.AttrCause) == "true":
			causes = append(causes, i)
		case e.Kind == timeline.KindImpactSet:
			impact = i
		case e.Kind == timeline.KindResolved && e.Text != "":
			resolution = i
		case e.Kind == timeline.KindDeclared && e.Text != "":
			description = i
		}
	}
	isCause := func(text string) bool {
		t := strings.TrimSpace(text)
		for _, c := range causes {
			if strings.EqualFold(strings.TrimSpace(events[c].Text), t) {
				return true
			}
		}
		return false
	}
	for i := range events {
		e := &events[i]
		if e.Bookkeeping() || !isTrigger(e) || isCause(e.Text) {
			continue
		}
		if trigger < 0 || e.At.Before(events[trigger].At) {
			trigger = i
		}
	}

	b := docBuilder{pieces: make([]piece, 0, 8+len(events))}
	b.add(fTitle, inc.Title, inc.DeclaredAt)
	if impact >= 0 {
		b.add(fImpact, events[impact].Text, events[impact].At)
	}
	for _, c := range causes {
		b.add(fRootCause, events[c].Text, events[c].At)
	}
	if trigger >= 0 {
		e := &events[trigger]
		text := e.Text
		if e.Kind == timeline.KindDeclared {
			// Declared from an alert: the alert is the title and its text.
			text = e.Attr(timeline.AttrTitle)
			if e.Text != "" {
				text += ": " + e.Text
			}
		}
		b.add(fTrigger, text, e.At)
	}
	if resolution >= 0 {
		b.add(fResolution, events[resolution].Text, events[resolution].At)
	}
	if description >= 0 && description != trigger {
		b.add(fDescription, events[description].Text, events[description].At)
	}
	for i := range events {
		e := &events[i]
		if i == trigger || e.Bookkeeping() {
			continue
		}
		switch e.Kind {
		case timeline.KindUpdatePosted:
			b.add(fUpdate, e.Text, e.At)
		case timeline.KindLoopEntry, timeline.KindMessageCaptured:
			if !slices.Contains(causes, i) {
				b.add(fTimeline, e.Text, e.At)
			}
		}
	}
	return b.doc(trim(inc))
}

// isTrigger reports whether e can be the trigger, as the post-mortem
// draft decides it: an observe entry (typed or captured), an alert or an
// SLO warning.
func isTrigger(e *timeline.Event) bool {
	switch {
	case e.Source == timeline.SourceAlert, e.Source == timeline.SourceSLO:
		return true
	case e.Kind == timeline.KindLoopEntry, e.Kind == timeline.KindMessageCaptured:
		return e.Phase == timeline.PhaseObserve
	}
	return false
}

// docBuilder gathers a doc's lines, to pack them into one string of
// exactly their length.
type docBuilder struct {
	pieces []piece
	size   int
}

type piece struct {
	text  string
	field uint8
	at    int64
}

func (b *docBuilder) add(field uint8, text string, at time.Time) {
	text = strings.TrimSpace(text)
	if text == "" {
		return
	}
	b.pieces = append(b.pieces, piece{text: text, field: field, at: unixNano(at)})
	b.size += len(text)
}

func (b *docBuilder) doc(inc incident.Incident) *doc {
	var text strings.Builder
	text.Grow(b.size)
	lines := make([]line, len(b.pieces))
	for i, p := range b.pieces {
		text.WriteString(p.text)
		lines[i] = line{end: uint32(text.Len()), field: p.field, at: p.at}
	}
	return &doc{inc: inc, text: text.String(), lines: lines}
}

// unixNano and fromUnixNano keep a time in 8 bytes, the zero time as 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
