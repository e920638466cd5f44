package timeline

import (
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// TextOptions says how WriteText renders a view.
type TextOptions struct {
	// Color marks phases, bookkeeping and silences with ANSI escapes, for a
	// terminal.
	Color bool
	// Name turns a user id into the name to show. It is called once per
	// distinct id; nil, or an empty name, shows the id as it is.
	Name func(actor string) string
	// Numbers shows each entry people may correct with its number, #12,
	// in a column of its own: what `/incident amend` and `strike` take.
	Numbers bool
}

// ANSI escapes WriteText uses when TextOptions.Color is set.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

// phaseColor gives each OODA phase its own colour, so the turns of the loop
// stand out when scrolling through a long incident.
func phaseColor(p Phase) string {
	switch p {
	case PhaseObserve:
		return "\x1b[36m" // cyan
	case PhaseOrient:
		return "\x1b[33m" // yellow
	case PhaseDecide:
		return "\x1b[35m" // magenta
	case PhaseAct:
		return "\x1b[32m" // green
	}
	return ""
}

// phaseWidth is the width of the phase column: len("observe").
const phaseWidth = 7

// flushAt is how much rendered text WriteText buffers before writing it, so
// a long incident is written in a few large writes and a bounded buffer.
const flushAt = 32 << 10

// WriteText renders the view as plain text for a terminal or a file: a
// header per minute with its clock and offset, one indented line per event
// with its phase, actor and description, and a line marking each silence:
//
//	14:05  T+00:05
//	  observe  U123  Checkout error rate at 12%
//	  · · · 47 min without entries · · ·
//	14:52  T+00:52
//	  act      U123  Rolled back to v41
//
// Control characters in user text are replaced, so a message cannot move the
// cursor or recolour a responder's terminal. An empty view writes nothing.
func (v View) WriteText(w io.Writer, opts TextOptions) error {
	r := textRenderer{
		w:      w,
		color:  opts.Color,
		lookup: opts.Name,
		names:  make(map[string]string),
		buf:    make([]byte, 0, flushAt+4<<10),
	}
	// The actor column is as wide as the longest name shown; resolving
	// every actor up front also fills the name cache.
	width := 0
	for i := range v.Minutes {
		for j := range v.Minutes[i].Events {
			if n := utf8.RuneCountInString(r.actor(v.Minutes[i].Events[j].Actor)); n > width {
				width = n
			}
		}
	}
	indent := 2 + phaseWidth + 2 + width + 2
	if opts.Numbers {
		r.numWidth = v.numberWidth()
		if r.numWidth > 0 {
			indent += r.numWidth + 1
		}
	}
	user := r.user // one method value, not one per event
	for i := range v.Minutes {
		m := &v.Minutes[i]
		if m.Silence > 0 {
			r.silence(m.Silence)
		}
		if r.color {
			r.buf = append(r.buf, ansiBold...)
		}
		r.buf = v.appendClock(r.buf, *m)
		if r.color {
			r.buf = append(r.buf, ansiReset...)
		}
		r.buf = append(r.buf, "  "...)
		r.buf = appendOffset(r.buf, m.Offset)
		r.buf = append(r.buf, '\n')
		for j := range m.Events {
			e := &m.Events[j]
			r.event(e, width, indent, user)
			if len(r.buf) >= flushAt {
				if err := r.flush(); err != nil {
					return err
				}
			}
		}
	}
	return r.flush()
}

// textRenderer holds WriteText's buffers, so rendering allocates per view
// and per distinct name, not per event.
type textRenderer struct {
	w       io.Writer
	color   bool
	lookup  func(string) string
	names   map[string]string // id → cleaned display name
	buf     []byte            // rendered text not yet written
	scratch []byte            // one description before it is cleaned
	// numWidth is the width of the number column, 0 without one.
	numWidth int
}

// user resolves and cleans a user id, once per id.
func (r *textRenderer) user(id string) string {
	if n, ok := r.names[id]; ok {
		return n
	}
	n := id
	if r.lookup != nil && id != "" {
		// A user the directory does not know is still someone: show the id.
		if looked := r.lookup(id); looked != "" {
			n = looked
		}
	}
	n = string(appendClean(nil, n, -1))
	r.names[id] = n
	return n
}

// actor is the actor column's text: an event without an actor still fills
// the column so the descriptions stay aligned.
func (r *textRenderer) actor(id string) string {
	if id == "" {
		return "-"
	}
	return r.user(id)
}

func (r *textRenderer) event(e *Event, width, indent int, user func(string) string) {
	dim := r.color && e.Bookkeeping()
	if dim {
		r.buf = append(r.buf, ansiDim...)
	}
	r.buf = append(r.buf, "  "...)
	if r.numWidth > 0 {
		n := len(r.buf)
		if Correctable(*e) && !e.Struck() {
			r.buf = append(r.buf, '#')
			r.buf = strconv.AppendUint(r.buf, e.Seq, 10)
		}
		r.buf = appendSpaces(r.buf, r.numWidth+1-(len(r.buf)-n))
	}
	phase := string(e.Phase)
	if phase == "" {
		phase = "-"
	}
	if c := phaseColor(e.Phase); r.color && !dim && c != "" {
		r.buf = append(r.buf, c...)
		r.buf = append(r.buf, phase...)
		r.buf = append(r.buf, ansiReset...)
	} else {
		r.buf = append(r.buf, phase...)
	}
	r.buf = appendSpaces(r.buf, phaseWidth-utf8.RuneCountInString(phase)+2)
	a := r.actor(e.Actor)
	r.buf = append(r.buf, a...)
	r.buf = appendSpaces(r.buf, width-utf8.RuneCountInString(a)+2)
	r.scratch = appendDescription(r.scratch[:0], e, user)
	r.buf = appendClean(r.buf, r.scratch, indent)
	if dim {
		r.buf = append(r.buf, ansiReset...)
	}
	r.buf = append(r.buf, '\n')
}

func (r *textRenderer) silence(d time.Duration) {
	if r.color {
		r.buf = append(r.buf, ansiDim...)
	}
	r.buf = append(r.buf, "  · · · "...)
	r.buf = AppendMinutes(r.buf, d)
	r.buf = append(r.buf, " without entries · · ·"...)
	if r.color {
		r.buf = append(r.buf, ansiReset...)
	}
	r.buf = append(r.buf, '\n')
}

func (r *textRenderer) flush() error {
	if len(r.buf) == 0 {
		return nil
	}
	_, err := r.w.Write(r.buf)
	r.buf = r.buf[:0]
	if err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// appendClean appends s with every control character made harmless: a
// newline continues the text on a line indented by indent spaces (or
// becomes a space when indent is negative), a tab becomes a space, a
// carriage return is dropped, and any other control (ControlLen: C0 and
// C1 controls, the ESC of every ANSI sequence among them, bidirectional
// overrides) becomes U+FFFD. Safe runs are appended whole, which keeps
// the common case a single copy.
func appendClean[S string | []byte](b []byte, s S, indent int) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		n := controlLen(s, i)
		if n == 0 && c != '\n' && c != '\t' {
			continue
		}
		b = append(b, s[start:i]...)
		switch {
		case c == '\n' && indent >= 0:
			b = append(b, '\n')
			b = appendSpaces(b, indent)
		case c == '\n' || c == '\t':
			b = append(b, ' ')
		case c == '\r':
		default:
			b = append(b, "\uFFFD"...)
		}
		if n > 1 {
			i += n - 1
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

func appendSpaces(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// Minutes renders d, truncated to the minute, as people say it: "47 min",
// "2 h 05 min". Replies, reminders and post-mortems all use it.
func Minutes(d time.Duration) string { return string(AppendMinutes(nil, d)) }

// AppendMinutes appends Minutes(d) to b.
func AppendMinutes(b []byte, d time.Duration) []byte {
	m := int64(d / time.Minute)
	if m < 60 {
		b = strconv.AppendInt(b, m, 10)
		return append(b, " min"...)
	}
	b = strconv.AppendInt(b, m/60, 10)
	b = append(b, " h "...)
	b = appendTwoDigits(b, m%60)
	return append(b, " min"...)
}

// numberWidth is the width of the widest entry number shown, "#12" is 3;
// 0 when no entry shown may be corrected.
func (v View) numberWidth() int {
	w := 0
	for i := range v.Minutes {
		for j := range v.Minutes[i].Events {
			if e := &v.Minutes[i].Events[j]; Correctable(*e) && !e.Struck() {
				w = max(w, 1+len(strconv.FormatUint(e.Seq, 10)))
			}
		}
	}
	return w
}
