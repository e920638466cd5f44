package main

import (
	"bytes"
	"io"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/timeline"
)

// terminalWriter stands between what the CLI prints and the terminal:
// every control character (timeline.ControlLen: C0 and C1 controls, the
// ESC of every escape sequence, bidirectional overrides) becomes U+FFFD
// and a carriage return is dropped, so nothing the server sends (a title,
// a note, a message captured from Slack) can set the window's title,
// clear the screen, move the cursor or reorder a line. Newlines and tabs
// pass. With sgr set, the colour sequences the CLI writes itself
// (ESC [ digits ; m) pass too; the server's text reaches the writer
// already cleaned by timeline's renderer, so only the CLI's own are left.
//
// A character or a colour sequence split across two writes is held until
// the next one; Flush writes what is left.
type terminalWriter struct {
	w    io.Writer
	sgr  bool
	tail []byte
	out  []byte
}

func newTerminalWriter(w io.Writer, sgr bool) *terminalWriter {
	return &terminalWriter{w: w, sgr: sgr}
}

// maxSGR bounds a colour sequence the writer waits for: the CLI's are
// under ten bytes.
const maxSGR = 32

func (t *terminalWriter) Write(p []byte) (int, error) {
	buf := p
	if len(t.tail) > 0 {
		buf = append(t.tail, p...)
		t.tail = nil
	}
	out := t.out[:0]
	for i := 0; i < len(buf); {
		c := buf[i]
		switch {
		case c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7f):
			out = append(out, c)
			i++
			continue
		case c == '\r':
			i++
			continue
		case c == 0x1b && t.sgr:
			n, complete := sgrLen(buf[i:])
			if !complete && len(buf)-i < maxSGR {
				t.tail = append(t.tail, buf[i:]...)
				i = len(buf)
				continue
			}
			if n > 0 {
				out = append(out, buf[i:i+n]...)
				i += n
				continue
			}
		case c >= 0x80:
			if !utf8.FullRune(buf[i:]) {
				t.tail = append(t.tail, buf[i:]...)
				i = len(buf)
				continue
			}
			r, size := utf8.DecodeRune(buf[i:])
			if r != utf8.RuneError && timeline.ControlLen(string(buf[i:i+size]), 0) == 0 {
				out = append(out, buf[i:i+size]...)
				i += size
				continue
			}
			out = append(out, "\uFFFD"...)
			i += size
			continue
		}
		out = append(out, "\uFFFD"...)
		i++
	}
	t.out = out
	if _, err := t.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes what a last write left unfinished, made harmless.
func (t *terminalWriter) Flush() error {
	if len(t.tail) == 0 {
		return nil
	}
	tail := t.tail
	t.tail = nil
	_, err := t.w.Write(bytes.Repeat([]byte("\uFFFD"), utf8.RuneCount(tail)))
	return err
}

// sgrLen returns the length of the colour sequence b starts with (ESC [
// digits and semicolons, then m), or 0 when it is none. complete is false
// when b ends before it could tell.
func sgrLen(b []byte) (n int, complete bool) {
	if len(b) < 2 {
		return 0, false
	}
	if b[1] != '[' {
		return 0, true
	}
	for i := 2; i < len(b); i++ {
		switch c := b[i]; {
		case c == 'm':
			return i + 1, true
		case c == ';' || (c >= '0' && c <= '9'):
		default:
			return 0, true
		}
	}
	return 0, false
}
