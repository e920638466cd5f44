package incident

import (
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Corrections: the author of a loop entry or note, or the Commander, may
// amend it (new text, a new time, or both) or strike it, and anyone may
// write an entry after the fact with the time it happened. Each correction
// is an event of its own that names the entry (timeline.Correct reads
// them); the entry's event is never rewritten, so the original stays in
// the log and the audit trail (Incident.Corrections) says who changed
// what, and when.

// Bounds on the time a backdated entry may carry.
const (
	// MaxClockAgo bounds a time of day (--at 14:02): it means the latest
	// such time, and one further back than this is more likely a slip (a
	// local time, a time still to come) than yesterday; a date says that.
	MaxClockAgo = 12 * time.Hour
	// MaxBeforeDeclaration bounds how long before the declaration an entry
	// may be dated. Signals come before declarations, and "time to
	// declare" is measured from the first one; a day earlier belongs to
	// another story.
	MaxBeforeDeclaration = 24 * time.Hour
)

// When is the time a backdated entry happened, as a person wrote it: a UTC
// time of day ("14:02"), a time before now ("-5m", "-1h30m") or a date and
// time ("2026-11-26T14:02Z"). The zero When means now.
type When struct {
	// Text is what was typed; a When parsed from it is equal to this one.
	Text string

	clock time.Duration // since midnight UTC, for a time of day
	ago   time.Duration // before now, for "-5m"
	exact time.Time     // for a date and time
}

// IsZero reports whether w says nothing: the entry is dated now.
func (w When) IsZero() bool { return w.Text == "" }

// whenLayouts are the date-and-time forms --at reads; without a zone, UTC.
var whenLayouts = []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04"}

// ParseWhen reads the time given with --at. What it cannot read is refused
// with a sentence showing what to write.
func ParseWhen(s string) (When, error) {
	w := When{Text: s}
	switch {
	case s == "":
		return When{}, invalid("--at needs a time: `--at 14:02` (UTC) or `--at -5m`")
	case s[0] == '+':
		return When{}, invalid("an entry is dated when it happened, which is not in the future: `--at -5m` is five minutes ago")
	case s[0] == '-':
		d, err := time.ParseDuration(s[1:])
		if err != nil || strings.HasPrefix(s[1:], "-") || strings.HasPrefix(s[1:], "+") {
			return When{}, invalid("%q is not a time before now; write it like `--at -5m` or `--at -1h30m`", s)
		}
		w.ago = d
		return w, nil
	}
	if t, err := time.Parse("15:04", strings.TrimSuffix(strings.TrimSuffix(s, "Z"), "UTC")); err == nil {
		w.clock = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
		return w, nil
	}
	for _, layout := range whenLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			w.exact = t.UTC()
			return w, nil
		}
	}
	if _, err := time.ParseDuration(s); err == nil {
		return When{}, invalid("%q would be in the future; write a time before now with a minus sign: `--at -%s`", s, s)
	}
	return When{}, invalid("%q is not a time; write a UTC time of day (`--at 14:02`), a time before now (`--at -5m`) or a date and time (`--at 2026-11-26T14:02Z`)", s)
}

// resolve turns w into a time, given that it is now.
func (w When) resolve(now time.Time) (time.Time, error) {
	now = now.UTC()
	switch {
	case w.IsZero():
		return now, nil
	case !w.exact.IsZero():
		return w.exact, nil
	case w.ago != 0 || w.Text[0] == '-':
		return now.Add(-w.ago), nil
	}
	y, m, d := now.Date()
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(w.clock)
	if t.After(now) {
		t = t.AddDate(0, 0, -1)
	}
	if now.Sub(t) > MaxClockAgo {
		return time.Time{}, invalid("%s UTC was %s ago (it is %s UTC now). A time of day means one within the last %d hours, and an entry cannot be dated in the future: for an earlier day write the date, `--at %s`",
			w.Text, timeline.Minutes(now.Sub(t)), now.Format("15:04"), int(MaxClockAgo.Hours()), t.Format("2006-01-02T15:04Z"))
	}
	return t, nil
}

// dated resolves w at the command's time and checks the incident may
// carry an entry then: not in the future, nor long before its declaration.
func (inc *Incident) dated(w When, m Meta) (time.Time, error) {
	at, err := w.resolve(m.At)
	if err != nil {
		return time.Time{}, err
	}
	if at.After(m.At) {
		return time.Time{}, invalid("%s is in the future (it is %s now); an entry is dated when it happened: `--at -5m`, `--at 14:02` (UTC)",
			stamp(at, m.At), stamp(m.At, at))
	}
	if !inc.DeclaredAt.IsZero() && at.Before(inc.DeclaredAt.Add(-MaxBeforeDeclaration)) {
		return time.Time{}, invalid("%s is more than %d hours before %s was declared (%s); an entry of that time belongs to another incident, or give the time you meant",
			stamp(at, inc.DeclaredAt), int(MaxBeforeDeclaration.Hours()), inc.ID, stamp(inc.DeclaredAt, at))
	}
	return at, nil
}

// stamp renders t to the minute, with its date when other falls on
// another UTC day: "14:02 UTC", "2026-11-25 14:02 UTC".
func stamp(t, other time.Time) string {
	t, other = t.UTC(), other.UTC()
	if t.Format(time.DateOnly) != other.Format(time.DateOnly) {
		return t.Format("2006-01-02 15:04 UTC")
	}
	return t.Format("15:04 UTC")
}

// AddEntryAt records a loop entry, as AddEntry does, dated when it
// happened: the event carries that time and the time it was written
// (timeline.AttrWrittenAt), and the audit trail names it. A zero When is
// AddEntry.
func (inc *Incident) AddEntryAt(phase timeline.Phase, text string, cause bool, when When, m Meta) (Change, error) {
	if when.IsZero() {
		return inc.AddEntry(phase, text, cause, m)
	}
	if err := checkMeta(m); err != nil {
		return Change{}, err
	}
	ch, err := inc.AddEntry(phase, text, cause, m)
	if err != nil {
		return Change{}, err
	}
	at, err := inc.dated(when, m)
	if err != nil {
		return Change{}, err
	}
	e := &ch.Events[0]
	attrs := make(map[string]string, len(e.Attrs)+1)
	for k, v := range e.Attrs {
		attrs[k] = v
	}
	attrs[timeline.AttrWrittenAt] = timeline.FormatTime(m.At)
	e.At, e.Attrs = at, attrs
	return ch, nil
}

// Amend corrects entry seq: its text, its time (when, if not zero), or
// both. entry is the event the log holds under seq, nil when it holds none:
// an event never changes once written, so the caller reads it before the
// transaction, and what may have changed since (a strike, an amendment,
// the Commander) is decided here, on the state.
func (inc *Incident) Amend(seq uint64, entry *timeline.Event, text string, when When, m Meta) (Change, error) {
	if err := inc.mayCorrect(seq, entry, "amend", m); err != nil {
		return Change{}, err
	}
	cur := inc.correctedEntry(*entry)
	if cur.struck != nil {
		return Change{}, refused("#%d was struck by %s at %s, so it stays as it was; if what it said still holds, write it again: `/incident %s <text>`",
			seq, who(cur.struck.By), stamp(cur.struck.At, m.At), verbOf(*entry))
	}
	if strings.TrimSpace(text) == "" && when.IsZero() {
		return Change{}, invalid("write the new text after the entry number: `/incident amend #%d <new text>`, or give a new time: `/incident amend #%d --at 14:02`", seq, seq)
	}
	attrs := map[string]string{timeline.AttrEntry: strconv.FormatUint(seq, 10), timeline.AttrPrevious: cur.text}
	newText := ""
	if strings.TrimSpace(text) != "" {
		t, err := checkText("entry", text, MaxText)
		if err != nil {
			return Change{}, err
		}
		if t != cur.text {
			newText = t
		}
	}
	if !when.IsZero() {
		at, err := inc.dated(when, m)
		if err != nil {
			return Change{}, err
		}
		if !at.Equal(cur.at) {
			attrs[timeline.AttrAt] = timeline.FormatTime(at)
			attrs[timeline.AttrPreviousAt] = timeline.FormatTime(cur.at)
		}
	}
	if newText == "" && attrs[timeline.AttrAt] == "" {
		return Change{}, refused("#%d already says that; nothing was changed", seq)
	}
	b := newBuilder(inc, m)
	b.line(b.event(timeline.KindEntryAmended, timeline.PhaseNone, newText, attrs))
	return b.ch, nil
}

// Strike marks entry seq as struck, with an optional reason: the timeline
// and the post-mortem leave it out and the audit trail keeps it, with what
// it said. entry is as for Amend.
func (inc *Incident) Strike(seq uint64, entry *timeline.Event, reason string, m Meta) (Change, error) {
	if err := inc.mayCorrect(seq, entry, "strike", m); err != nil {
		return Change{}, err
	}
	cur := inc.correctedEntry(*entry)
	if cur.struck != nil {
		return Change{}, refused("#%d is already struck (by %s at %s)", seq, who(cur.struck.By), stamp(cur.struck.At, m.At))
	}
	r, err := checkOptional("reason", reason, MaxText, false)
	if err != nil {
		return Change{}, err
	}
	b := newBuilder(inc, m)
	b.line(b.event(timeline.KindEntryStruck, timeline.PhaseNone, r, map[string]string{
		timeline.AttrEntry: strconv.FormatUint(seq, 10), timeline.AttrPrevious: cur.text,
	}))
	return b.ch, nil
}

// mayCorrect decides whether m's actor may amend or strike entry seq.
func (inc *Incident) mayCorrect(seq uint64, entry *timeline.Event, verb string, m Meta) error {
	if err := checkMeta(m); err != nil {
		return err
	}
	if inc.Status == StatusClosed {
		where := ""
		if inc.PostmortemURL != "" {
			where = " at " + inc.PostmortemURL
		}
		return refused("%s is closed: its post-mortem is published%s, and the timeline it was written from no longer changes. Correct the published post-mortem itself", inc.ID, where)
	}
	if entry == nil || seq == 0 || entry.Seq != seq || seq > inc.LastSeq {
		return invalid("%s has no entry #%d; `/incident timeline` shows each entry's number", inc.ID, seq)
	}
	if !timeline.Correctable(*entry) || entry.Actor == Bot {
		return refused("%s; only the observe, orient, decide and act entries and notes people type can be amended or struck. To add to the record, `/incident note <text>`",
			notCorrectable(*entry))
	}
	if m.Actor != entry.Actor && (inc.Roles.Commander == "" || m.Actor != inc.Roles.Commander) {
		cmdr := "there is no Commander now"
		if inc.Roles.Commander != "" {
			cmdr = "the Commander is " + who(inc.Roles.Commander)
		}
		return refused("only the entry's author (%s) or the Commander can %s #%d, and %s; ask one of them", who(entry.Actor), verb, seq, cmdr)
	}
	return nil
}

// notCorrectable says what an entry people may not correct is.
func notCorrectable(e timeline.Event) string {
	n := "#" + strconv.FormatUint(e.Seq, 10)
	switch {
	case e.Kind == timeline.KindMessageCaptured:
		return n + " is a Slack message Ooda captured: the channel's transcript follows its edits, so edit it in Slack"
	case e.Kind == timeline.KindEntryAmended || e.Kind == timeline.KindEntryStruck:
		return n + " is itself a correction, of #" + e.Attr(timeline.AttrEntry) + "; correct that entry instead"
	case e.Source == timeline.SourceAlert:
		return n + " is what an alert said, as Ooda recorded it"
	case e.Source == timeline.SourceSLO:
		return n + " is an SLO warning, as Ooda recorded it"
	}
	return n + " was recorded by Ooda (" + strings.ReplaceAll(string(e.Kind), "_", " ") + ")"
}

// corrected is an entry as its corrections left it.
type corrected struct {
	text   string
	at     time.Time
	struck *timeline.Correction
}

// correctedEntry applies the audit trail to e.
func (inc *Incident) correctedEntry(e timeline.Event) corrected {
	c := corrected{text: e.Text, at: e.At}
	for i := range inc.Corrections {
		k := &inc.Corrections[i]
		if k.Entry != e.Seq {
			continue
		}
		switch k.Kind {
		case timeline.CorrectionAmended:
			if k.Text != "" {
				c.text = k.Text
			}
			if !k.EntryAt.IsZero() {
				c.at = k.EntryAt
			}
		case timeline.CorrectionStruck:
			c.struck = k
		}
	}
	return c
}

// who names an actor in a reply: a Slack mention, or the API token.
func who(actor string) string {
	if name, ok := strings.CutPrefix(actor, "api:"); ok {
		return "the API token " + strconv.Quote(name)
	}
	if !IsPerson(actor) {
		return actor
	}
	return "<@" + actor + ">"
}

// verbOf is the command that writes an entry like e.
func verbOf(e timeline.Event) string {
	if e.Phase == timeline.PhaseNone {
		return "note"
	}
	return string(e.Phase)
}
