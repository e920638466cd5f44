package postmortem

import (
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// SectionCorrections heads the note that ends a draft whose timeline was
// corrected: entries amended, struck or written after the fact. It is not
// one of Sections(): a draft nothing was corrected in has no such note,
// and its JSON an empty list.
//
// The timeline shows each entry as corrected and leaves a struck entry
// out altogether, as it leaves out the root cause and trigger it might
// have been: a reader of a post-mortem wants the story as it is now
// known, not the slips made telling it, and a struck line still on the
// page would be read, quoted and linted as if it held. Nothing is hidden
// by that: this note says what each struck entry said, who struck it,
// when and why, and an amended or backdated entry in the timeline says so
// where it stands.
const SectionCorrections = "Corrections"

// Correction is one line of the Corrections note.
type Correction struct {
	// Kind is amended, struck or backdated.
	Kind string `json:"kind"`
	// Entry is the corrected entry's sequence number in the incident's
	// log, as `/incident timeline` shows it (#12).
	Entry uint64 `json:"entry"`
	// By is who made the correction, by name, with the role they held
	// then; ByID their id.
	By   string `json:"by"`
	ByID string `json:"by_id"`
	// At is when the correction was made; for a backdated entry, when it
	// was written.
	At time.Time `json:"at"`
	// Previous is the entry's text before an amendment or a strike; Text
	// its text after an amendment, "" when only its time changed.
	Previous string `json:"previous,omitempty"`
	Text     string `json:"text,omitempty"`
	// EntryAt is the time the entry carries after the correction, and
	// PreviousAt the time it carried before an amendment moved it.
	EntryAt    time.Time `json:"entry_at,omitzero"`
	PreviousAt time.Time `json:"previous_at,omitzero"`
	// Reason is why an entry was struck, when someone said.
	Reason string `json:"reason,omitempty"`
	// Summary says it all in one sentence, as the Markdown and HTML show it.
	Summary string `json:"summary"`
}

// correctionsIntro opens the note in every format.
const correctionsIntro = "Entries changed after they were written. The timeline above shows them as corrected, without the struck ones; the incident's record keeps every version."

// corrections writes the note from the audit trail the timeline view
// read (timeline.View.Corrections). events is the log, for what the
// corrected entries were and the roles their correctors held.
func (d *drafter) corrections(audit []timeline.Correction, events []timeline.Event, start time.Time, spansDays bool) []Correction {
	out := make([]Correction, 0, len(audit))
	if len(audit) == 0 {
		return out
	}
	entries := make(map[uint64]*timeline.Event, len(audit))
	for _, c := range audit {
		entries[c.Entry] = nil
	}
	for i := range events {
		if _, ok := entries[events[i].Seq]; ok {
			entries[events[i].Seq] = &events[i]
		}
	}
	// The audit trail is in sequence order, so one walk of the log gives
	// each correction the roles held just before it.
	var holders roles.Holders
	next := 0
	for _, c := range audit {
		for ; next < len(events) && events[next].Seq < c.Seq; next++ {
			if e := &events[next]; e.Kind == timeline.KindRoleAssigned {
				holders = holders.With(roles.Role(e.Attr(timeline.AttrRole)), e.Attr(timeline.AttrUser))
			}
		}
		k := Correction{
			Kind: string(c.Kind), Entry: c.Entry, ByID: c.By, At: c.At.UTC(),
			Previous: d.plain(c.Previous), Text: d.plain(c.Text),
			EntryAt: utc(c.EntryAt), PreviousAt: utc(c.PreviousAt), Reason: d.plain(c.Reason),
			By: d.corrector(c.By, holders),
		}
		k.Summary = correctionSummary(k, entries[c.Entry], start, spansDays)
		where := "#" + strconv.FormatUint(c.Entry, 10)
		for _, s := range []string{k.Previous, k.Reason} {
			if fs := Lint(s); len(fs) > 0 {
				d.addFindings(SectionCorrections, where, fs)
			}
		}
		out = append(out, k)
	}
	return out
}

// corrector names who made a correction: "Alice Chen (Commander)", a
// person without a role as "Bob (responder)", an API token by its name.
func (d *drafter) corrector(actor string, h roles.Holders) string {
	if name, ok := strings.CutPrefix(actor, "api:"); ok {
		return "the API token " + name
	}
	if !incident.IsPerson(actor) {
		return actor
	}
	return d.name(actor) + " (" + roleOf(&timeline.Event{Actor: actor, Source: timeline.SourceCommand}, h) + ")"
}

// correctionSummary is the note's sentence for k; entry is the corrected
// entry as first written (nil when the log does not hold it).
func correctionSummary(k Correction, entry *timeline.Event, start time.Time, spansDays bool) string {
	clock := func(t time.Time) string {
		return clockUTC(t, spansDays || (!start.IsZero() && t.UTC().Format(time.DateOnly) != start.UTC().Format(time.DateOnly)))
	}
	var b strings.Builder
	b.WriteString("#" + strconv.FormatUint(k.Entry, 10))
	if entry != nil {
		b.WriteString(" (" + entryKind(entry))
		if k.Kind != string(timeline.CorrectionBackdated) {
			b.WriteString(" of " + clock(entry.At))
		}
		b.WriteString(")")
	}
	switch timeline.CorrectionKind(k.Kind) {
	case timeline.CorrectionAmended:
		b.WriteString(" amended by " + k.By + " at " + clock(k.At) + ": ")
		var what []string
		if k.Text != "" {
			what = append(what, "was “"+k.Previous+"”, now “"+k.Text+"”")
		}
		if !k.EntryAt.IsZero() {
			what = append(what, "moved from "+clock(k.PreviousAt)+" to "+clock(k.EntryAt))
		}
		b.WriteString(strings.Join(what, "; ") + ".")
	case timeline.CorrectionStruck:
		b.WriteString(" struck by " + k.By + " at " + clock(k.At))
		if k.Reason != "" {
			b.WriteString(" (" + k.Reason + ")")
		}
		b.WriteString(". It said “" + k.Previous + "”.")
	case timeline.CorrectionBackdated:
		b.WriteString(" written by " + k.By + " at " + clock(k.At) + ", dated " + clock(k.EntryAt) + ", when it happened.")
	}
	return b.String()
}

// entryKind names a loop entry as the note does: "act entry", "note".
func entryKind(e *timeline.Event) string {
	switch {
	case e.Phase == timeline.PhaseNone:
		return "note"
	case e.Attr(timeline.AttrCause) == "true":
		return "root cause"
	}
	return string(e.Phase) + " entry"
}

func (w *mdWriter) corrections(d *Doc) {
	if len(d.Corrections) == 0 {
		return
	}
	w.heading(2, SectionCorrections)
	w.text(correctionsIntro)
	w.raw("\n\n")
	for _, c := range d.Corrections {
		w.raw("- ")
		w.b = appendMarkdownText(w.b, c.Summary, mdBlockStart)
		w.raw("\n")
	}
}

// correctionsHTML is the note in the HTML draft, a template of its own
// that the main one calls after the action items.
const correctionsHTML = `{{define "corrections"}}{{with .Corrections}}
<section id="corrections">
<h2>` + SectionCorrections + `</h2>
<p class="intro">` + correctionsIntro + `</p>
<ul>
{{range .}}<li class="text">{{t .Summary}}</li>
{{end}}</ul>
</section>
{{- end}}{{end}}`
