package timeline

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The characters no text Ooda keeps or shows may carry: the C0 controls
// (NUL, BEL, the ESC that starts every ANSI escape sequence, …) but for
// newline and tab, DEL, the C1 controls (U+0080–U+009F, which some
// terminals read as escape sequences too), the Unicode bidirectional
// embeddings, overrides and isolates, which reorder what a reader sees
// ("Trojan Source"), and the Unicode line and paragraph separators, which
// break a line where nothing shows it.
//
// What people type through /incident, the API and the CLI is checked with
// FirstControl and refused with a sentence naming the character; text
// captured from Slack is kept as it was sent and passed through Clean on
// its way out.

// ControlLen returns the byte length of the control character at s[i]
// when there is one there, and 0 otherwise. Newline and tab are not
// controls here: a reader sees them, and the renderers place them.
func ControlLen(s string, i int) int { return controlLen(s, i) }

func controlLen[S string | []byte](s S, i int) int {
	c := s[i]
	switch {
	case c < 0x20:
		if c == '\n' || c == '\t' {
			return 0
		}
		return 1
	case c == 0x7f:
		return 1
	case c < 0x80:
		return 0
	case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
		return 2 // C1 controls U+0080–U+009F
	case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] >= 0xa8 && s[i+2] <= 0xae:
		return 3 // U+2028–U+2029 separators, U+202A–U+202E embeddings and overrides
	case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x81 && s[i+2] >= 0xa6 && s[i+2] <= 0xa9:
		return 3 // U+2066–U+2069 isolates
	}
	return 0
}

// HasControl reports whether s holds a control character (ControlLen).
func HasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if ControlLen(s, i) > 0 {
			return true
		}
	}
	return false
}

// Clean returns s with every control character replaced by U+FFFD, so
// what it was is still visible but it does nothing; a carriage return is
// dropped (a Windows line end is a line end). Newlines and tabs stay.
// Text without controls is returned as it is, without a copy.
func Clean(s string) string {
	if !HasControl(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	start := 0
	for i := 0; i < len(s); i++ {
		n := ControlLen(s, i)
		if n == 0 {
			continue
		}
		b.WriteString(s[start:i])
		if s[i] != '\r' {
			b.WriteString("\uFFFD")
		}
		i += n - 1
		start = i + 1
	}
	b.WriteString(s[start:])
	return b.String()
}

// Control is a character in typed text that Ooda refuses, and where it
// is: Pos counts characters from 1, as a person would.
type Control struct {
	Rune rune
	Pos  int
}

// FirstControl finds the first character of s a person may not type into
// text of its kind: any control character, and in a one-line text (a
// title, a service name) also a newline or a tab. A carriage return just
// before a newline is allowed in multi-line text, which Normalize then
// drops.
func FirstControl(s string, oneLine bool) (Control, bool) {
	pos := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		pos++
		bad := ControlLen(s, i) > 0
		switch {
		case r == '\n' || r == '\t':
			bad = oneLine
		case r == '\r' && !oneLine && i+1 < len(s) && s[i+1] == '\n':
			bad = false
		}
		if bad {
			return Control{Rune: r, Pos: pos}, true
		}
		i += size
	}
	return Control{}, false
}

// Normalize turns Windows line ends into newlines.
func Normalize(s string) string { return strings.ReplaceAll(s, "\r\n", "\n") }

// Name says what the character is, with its code point: "U+001B (escape)".
func (c Control) Name() string {
	name := controlNames[c.Rune]
	switch {
	case name != "":
	case c.Rune < 0x20 || c.Rune == 0x7f:
		name = "a control character"
	case c.Rune >= 0x80 && c.Rune <= 0x9f:
		name = "a C1 control character"
	default:
		name = "a bidirectional control"
	}
	return fmt.Sprintf("U+%04X (%s)", c.Rune, name)
}

var controlNames = map[rune]string{
	0x00: "NUL", 0x07: "bell", 0x08: "backspace", 0x09: "tab", 0x0a: "line break",
	0x0b: "vertical tab", 0x0c: "form feed", 0x0d: "carriage return",
	0x1b: "escape, which starts a terminal escape sequence", 0x7f: "delete",
	0x9b:   "C1 control sequence introducer",
	0x2028: "line separator", 0x2029: "paragraph separator",
	0x202a: "left-to-right embedding", 0x202b: "right-to-left embedding",
	0x202c: "pop directional formatting", 0x202d: "left-to-right override",
	0x202e: "right-to-left override", 0x2066: "left-to-right isolate",
	0x2067: "right-to-left isolate", 0x2068: "first strong isolate",
	0x2069: "pop directional isolate",
}
