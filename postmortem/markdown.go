package postmortem

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Markdown renders the draft as CommonMark with GitHub's tables, for a
// repository, a wiki or a Slack file. Everything people typed (titles,
// entries, names) is escaped so it reads as text: it cannot open a
// heading, a list, a table cell, a link, an image or raw HTML.
func (d Doc) Markdown() []byte {
	w := mdWriter{b: make([]byte, 0, 4096+d.Events*96)}
	w.header(&d)
	w.summary(&d)
	w.impact(&d)
	w.rootCause(&d)
	w.trigger(&d)
	w.timeline(&d)
	w.lessons(&d)
	w.actions(&d)
	w.corrections(&d)
	w.review(&d)
	return w.b
}

type mdWriter struct{ b []byte }

func (w *mdWriter) raw(s string) { w.b = append(w.b, s...) }

// text appends user text, escaped, where it cannot start a block.
func (w *mdWriter) text(s string) { w.b = appendMarkdownText(w.b, s, mdInline) }

// heading appends a heading with a blank line before and after it.
func (w *mdWriter) heading(level int, title string) {
	if len(w.b) > 0 && !bytes.HasSuffix(w.b, []byte("\n\n")) {
		w.b = append(w.b, '\n')
	}
	w.b = append(w.b, "######"[:level]...)
	w.b = append(w.b, ' ')
	w.b = append(w.b, title...)
	w.b = append(w.b, "\n\n"...)
}

// prompt appends Ooda's own guidance in italics; `…` in it is code.
func (w *mdWriter) prompt(s string) {
	w.raw("*")
	w.promptText(s)
	w.raw("*\n")
}

func (w *mdWriter) promptText(s string) {
	for i, part := range strings.Split(s, "`") {
		if i%2 == 1 {
			w.raw("`" + part + "`")
			continue
		}
		// text trims what surrounds user text; here the spaces around a
		// code span are Ooda's own and must stay.
		trimmed := strings.TrimLeft(part, " ")
		if len(trimmed) < len(part) && i > 0 {
			w.raw(" ")
		}
		w.text(trimmed)
	}
}

// item appends "- **Label:** " followed by user text, or the fallback in
// italics when the text is empty.
func (w *mdWriter) item(label, value, fallback string) {
	w.raw("- **" + label + ":** ")
	if value == "" {
		w.raw("*")
		w.text(fallback)
		w.raw("*")
	} else {
		w.text(value)
	}
	w.raw("\n")
}

func (w *mdWriter) header(d *Doc) {
	w.raw("# ")
	w.b = appendMarkdownText(w.b, docTitle(d), mdHeading)
	w.raw("\n\n*Draft written by Ooda from the incident's timeline")
	if !d.GeneratedAt.IsZero() {
		w.raw(" on " + d.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	}
	w.raw(". Check the facts, replace the prompts in italics, and keep it blameless: describe what the system and the process allowed, not who did what.*\n")
	if d.Private {
		w.raw("\n> **Private incident.** Share this draft only with people who may see the incident channel.\n")
	}
}

func (w *mdWriter) summary(d *Doc) {
	s := &d.Summary
	w.heading(2, SectionSummary)
	w.item("What", s.Title, "no title")
	if s.Description != "" {
		w.item("Declared with", s.Description, "")
	}
	w.item("Resolution", s.Resolution, s.Prompt)
	w.item("Start", timeOrEmpty(s.Start), "unknown")
	w.item("End", timeOrEmpty(s.End), "not resolved yet")
	w.item("Duration", s.Duration.String(), "")
	w.item("Service", s.Service, "not recorded")
	w.item("Channel", channelLabel(*s), "not created")
	w.item("Severity", severityLabel(*s), "unknown")
	w.item("Status", s.Status, "unknown")
	w.item("People involved", strconv.Itoa(s.People), "")
}

func (w *mdWriter) impact(d *Doc) {
	im := &d.Impact
	w.heading(2, SectionImpact)
	if im.CustomerImpacting {
		w.item("Customer-impacting", "yes", "")
		w.item("Impact", im.Text, "not described")
	} else {
		w.item("Customer-impacting", "no", "")
	}
	w.item("Duration of impact", impactDuration(*im), "")
	w.item("Error budget spent", budgetLabel(im.Budget), "")
	w.raw("\n")
	w.prompt(im.Prompt)
}

func (w *mdWriter) entries(es []Entry, describe func(*Entry) string) {
	for i := range es {
		e := &es[i]
		w.raw("- ")
		w.b = appendMarkdownText(w.b, e.Text, mdBlockStart)
		w.raw(" — *")
		w.text(describe(e))
		w.raw("*\n")
	}
	if len(es) > 0 {
		w.raw("\n")
	}
}

func (w *mdWriter) rootCause(d *Doc) {
	rc := &d.RootCause
	w.heading(2, SectionRootCause)
	switch {
	case rc.Confirmed:
		w.raw("Marked as the root cause during the incident:\n\n")
	case len(rc.Entries) > 0:
		w.raw("Candidate causes, from the orient entries:\n\n")
	}
	w.entries(rc.Entries, func(e *Entry) string { return entryCredit(*e, d.Timeline.SpansDays) })
	w.prompt(rc.Prompt)
}

func (w *mdWriter) trigger(d *Doc) {
	t := &d.Trigger
	w.heading(2, SectionTrigger)
	if t.Entry != nil {
		w.entries([]Entry{*t.Entry}, func(e *Entry) string { return entryCredit(*e, d.Timeline.SpansDays) })
	}
	w.prompt(t.Prompt)
}

func (w *mdWriter) timeline(d *Doc) {
	tl := &d.Timeline
	w.heading(2, SectionTimeline)
	if len(tl.Minutes) == 0 {
		w.prompt("The timeline is empty.")
		return
	}
	w.raw(timelineIntro(*tl))
	w.raw("\n\n| Time (UTC) | T+ | Phase | Role | Entry |\n|---|---|---|---|---|\n")
	for i := range tl.Minutes {
		m := &tl.Minutes[i]
		if m.SilenceBefore.Known {
			w.raw("| ⋯ | | | | *")
			w.raw(m.SilenceBefore.String())
			w.raw(" without entries* |\n")
		}
		for j := range m.Entries {
			e := &m.Entries[j]
			if j == 0 {
				w.raw("| " + m.Clock + " | " + m.Offset + " | ")
			} else {
				w.raw("| | | ")
			}
			w.raw(phaseLabel(e.Phase))
			w.raw(" | ")
			w.raw(e.Role)
			w.raw(" | ")
			w.text(e.Text)
			w.raw(" |\n")
		}
	}
}

func (w *mdWriter) lessons(d *Doc) {
	l := &d.Lessons
	w.heading(2, SectionLessons)
	for _, p := range l.Prompts {
		w.heading(3, p.Heading)
		w.prompt(p.Text)
	}
	w.heading(3, "Key times")
	w.raw("| Measure | From | To | Time | Note |\n|---|---|---|---|---|\n")
	for _, k := range l.KeyTimes {
		w.raw("| " + k.Name + " | " + k.From + " | " + k.To + " | " + k.Elapsed.String() + " | ")
		w.text(k.Note)
		w.raw(" |\n")
	}
}

func (w *mdWriter) actions(d *Doc) {
	a := &d.Actions
	w.heading(2, SectionActions)
	if len(a.Items) == 0 {
		w.prompt(a.Prompt)
		return
	}
	w.raw("| Done | # | Action | Owner | Priority | Due | Status | Ticket |\n|:---:|---|---|---|---|---|---|---|\n")
	for _, it := range a.Items {
		if it.Done {
			w.raw("| \\[x\\] | ")
		} else {
			w.raw("| \\[ \\] | ")
		}
		w.raw(strconv.Itoa(it.ID) + " | ")
		w.text(it.Text)
		w.raw(" | ")
		if it.Owner == "" {
			w.raw("*unassigned*")
		} else {
			w.text(it.Owner)
		}
		w.raw(" | ")
		w.text(priorityLabel(it))
		w.raw(" | " + dueLabel(it) + " | ")
		w.text(stateLabel(it))
		w.raw(" | ")
		if t := it.Ticket; t != nil {
			w.ticket(*t)
			if it.Link != "" && it.Link != t.URL {
				w.raw("; ")
			}
		}
		if it.Ticket == nil || it.Link != it.Ticket.URL {
			if autolinkable(it.Link) {
				// An autolink: the address as it is, no escape inside.
				w.raw("<" + it.Link + ">")
			} else {
				w.text(it.Link)
			}
		}
		w.raw(" |\n")
	}
}

func (w *mdWriter) review(d *Doc) {
	w.raw("\n---\n\n" + reviewBegin + "\n")
	w.heading(2, "Review note")
	w.raw("*For the authors; delete this note before publishing.*\n\n")
	fs := d.Review.Findings
	if len(fs) == 0 {
		w.raw(reviewClean + "\n\n")
	} else {
		w.raw(reviewIntro(len(fs)) + "\n\n")
		w.raw("| Where | Phrase | Text | Suggestion |\n|---|---|---|---|\n")
		for i := range fs {
			f := &fs[i]
			w.raw("| ")
			w.text(findingWhere(*f))
			w.raw(" | ")
			w.text(f.Phrase)
			w.raw(" | ")
			w.text(f.Text)
			w.raw(" | ")
			w.text(f.Suggestion)
			w.raw(" |\n")
		}
		w.raw("\n")
	}
	if n := d.Review.UnresolvedNames; n > 0 {
		w.raw(unresolvedNote(n) + "\n\n")
	}
	w.raw(reviewAgain + "\n" + reviewEnd + "\n")
}

// Where user text lands in Markdown, which decides what must be escaped.
const (
	mdInline     = iota // after other text on its line, or in a table cell
	mdBlockStart        // at the start of a block, such as a list item's content
	mdHeading           // in a heading, which ends at the line's end
)

// appendMarkdownText appends user text so that Markdown shows it as it was
// typed. Every ASCII character CommonMark, GitHub's extensions (tables,
// strikethrough, math) or raw HTML give a meaning is backslash-escaped; at
// the start of a block a list or setext marker is escaped too. Newlines
// become <br> (a space in a heading), so the text never starts a block of
// its own; control characters and the Unicode bidirectional controls,
// which could reorder what a reader sees, become U+FFFD.
func appendMarkdownText(b []byte, s string, where int) []byte {
	s = strings.TrimLeft(s, " \t")
	if s != "" && where == mdBlockStart {
		switch c := s[0]; {
		case c == '-' || c == '+' || c == '=':
			b = append(b, '\\')
		case c >= '0' && c <= '9':
			n := 0
			for n < len(s) && n < 10 && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n < len(s) && (s[n] == '.' || s[n] == ')') {
				b = append(b, s[:n]...)
				b = append(b, '\\', s[n])
				s = s[n+1:]
			}
		}
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var rep string
		switch {
		case c >= 0x80:
			if n := timeline.ControlLen(s, i); n > 0 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i += n - 1
				start = i + 1
			}
			continue
		case c >= 0x20 && c != 0x7f && !mdSpecial(c):
			continue
		case mdSpecial(c):
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
			start = i + 1
			continue
		case c == '\n' && where == mdHeading:
			rep = " "
		case c == '\n':
			rep = "<br>"
		case c == '\r':
			rep = ""
		case c == '\t':
			rep = " "
		default:
			rep = "\uFFFD"
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// mdSpecial reports whether c can carry meaning in GitHub Markdown inline
// text: emphasis, code, links, images, raw HTML, entities, headings,
// tables, strikethrough, math, and the escape character itself.
func mdSpecial(c byte) bool {
	switch c {
	case '\\', '`', '*', '_', '[', ']', '<', '>', '#', '|', '~', '&', '$':
		return true
	}
	return false
}

// docTitle is the document's title: "Post-mortem: INC-7 — Checkout down".
func docTitle(d *Doc) string {
	parts := make([]string, 0, 2)
	for _, p := range []string{d.Incident, d.Title} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "Post-mortem"
	}
	return "Post-mortem: " + strings.Join(parts, " — ")
}

// The review note's fixed sentences, shared by the renderers.
const (
	reviewClean = "The blameless check found no phrase that blames people."
	reviewAgain = "Run `ooda postmortem lint FILE.md` on the edited draft before publishing."
)

// unresolvedNote says how many people the draft shows by member ID.
func unresolvedNote(n int) string {
	if n == 1 {
		return "1 person is shown by their Slack member ID: Ooda could not look up their name (Slack was unreachable and had not named them before). Replace the ID with their name before publishing."
	}
	return strconv.Itoa(n) + " people are shown by their Slack member ID: Ooda could not look up their names (Slack was unreachable and had not named them before). Replace the IDs with their names before publishing."
}

func reviewIntro(n int) string {
	if n == 1 {
		return "The blameless check found 1 phrase that puts the focus on a person. Reword it in terms of the system and the process:"
	}
	return "The blameless check found " + strconv.Itoa(n) + " phrases that put the focus on people. Reword them in terms of the system and the process:"
}

func findingWhere(f ReviewFinding) string {
	s := f.Section + ", " + f.Where
	if f.Line > 1 {
		s += ", line " + strconv.Itoa(f.Line)
	}
	return s
}

func timelineIntro(tl Timeline) string {
	s := "Times are UTC"
	if !tl.Start.IsZero() {
		s += "; T+ counts from the declaration at " + tl.Start.Format("2006-01-02 15:04")
	}
	return s + ". Each entry is attributed to the role that acted at that moment; silences longer than " +
		tl.Gap.String() + " are marked; Ooda's own bookkeeping is left out."
}

func timeOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func channelLabel(s Summary) string {
	switch {
	case s.ChannelID == "":
		return ""
	case s.ChannelName == "":
		return s.ChannelID
	}
	return "#" + s.ChannelName + " (" + s.ChannelID + ")"
}

func severityLabel(s Summary) string {
	if s.Severity == 0 {
		return ""
	}
	l := "SEV" + strconv.Itoa(s.Severity)
	if s.WorstSeverity != 0 && s.WorstSeverity < s.Severity {
		l += " (worst SEV" + strconv.Itoa(s.WorstSeverity) + ")"
	}
	return l
}

func impactDuration(im Impact) string {
	if !im.CustomerImpacting {
		return "none recorded"
	}
	if !im.Duration.Known {
		if im.CustomerImpacting && !im.Start.IsZero() {
			return "unknown: the incident has not reached monitoring or resolved since the impact was recorded"
		}
		return "unknown"
	}
	return im.Duration.String() + " (from the impact being recorded at " + timeOrEmpty(im.Start) + " to " + im.EndedBy + " at " + timeOrEmpty(im.End) + ")"
}

func budgetLabel(b *BudgetSpent) string {
	if b == nil {
		return "unknown: no SLO is known for this service"
	}
	return strconv.FormatFloat(b.Spent*100, 'f', 1, 64) + "% of the " + b.SLO + " error budget"
}

// entryCredit says what an entry quoted outside the timeline is, who made
// it and when: "orient entry by the Commander, 00:02 UTC".
func entryCredit(e Entry, spansDays bool) string {
	switch e.Role {
	case "alert", "SLO", "Ooda":
		return e.Source + ", " + clockUTC(e.At, spansDays)
	case "responder":
		return e.Source + " by a responder, " + clockUTC(e.At, spansDays)
	}
	if e.Role == "Commander" {
		return e.Source + " by the Commander, " + clockUTC(e.At, spansDays)
	}
	return e.Source + " by " + e.Role + ", " + clockUTC(e.At, spansDays)
}

func phaseLabel(p string) string {
	if p == "" {
		return "—"
	}
	return p
}

func priorityLabel(it ActionItem) string {
	if it.DefaultPriority {
		return it.Priority + " (default)"
	}
	return it.Priority
}

// ticket writes an item's ticket: its name, state and page (an
// autolink, as every link of the draft), or that it is pending or failed.
func (w *mdWriter) ticket(t Ticket) {
	if t.Name != "" {
		w.text(t.Name)
		w.raw(" ")
	}
	w.text(t.Label())
	if autolinkable(t.URL) {
		w.raw(" <" + t.URL + ">")
	}
}
