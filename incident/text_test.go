package incident_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// TestTypedTextHoldsNoControlCharacter: what a person types is refused
// when it holds a character that could rewrite a terminal or reorder what
// a reader sees, with a sentence naming the character and where it is.
// Titles are one line; notes keep their line breaks and tabs.
func TestTypedTextHoldsNoControlCharacter(t *testing.T) {
	m := incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: "req-1"}
	declares := []struct {
		name string
		d    incident.Declaration
		msg  string
	}{
		{"terminal title escape", incident.Declaration{Title: "db down \x1b]0;pwned\x07"}, "the title has U+001B (escape, which starts a terminal escape sequence) at character 9"},
		{"NUL", incident.Declaration{Title: "a\x00b"}, "U+0000 (NUL) at character 2"},
		{"C1 CSI", incident.Declaration{Title: "x\u009b31m"}, "U+009B (C1 control sequence introducer) at character 2"},
		{"right-to-left override", incident.Declaration{Title: "invoice \u202egpj.exe"}, "U+202E (right-to-left override) at character 9"},
		{"two-line title", incident.Declaration{Title: "Checkout\nis down"}, "the title has U+000A (line break) at character 9; a title is one line"},
		{"tab in a title", incident.Declaration{Title: "Checkout\tdown"}, "U+0009 (tab)"},
		{"service with a line break", incident.Declaration{Title: "x", Service: "check\nout"}, "the service name has U+000A (line break)"},
		{"description with a bell", incident.Declaration{Title: "x", Description: "ding\x07"}, "the description has U+0007 (bell) at character 5"},
	}
	for _, tt := range declares {
		t.Run(tt.name, func(t *testing.T) {
			ch, err := incident.Declare(number, tt.d, m)
			requireUserError(t, err, incident.ErrInvalid, tt.msg)
			require.Empty(t, ch.Events)
		})
	}

	r := declare(t, incident.Declaration{Title: "Checkout down"})
	inc := &r.inc
	_, err := inc.AddEntry(timeline.PhaseObserve, "5xx at 12%\x1b[2J", false, r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "the entry has U+001B")
	_, err = inc.PostUpdate("we are \u2066on it", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "the update has U+2066 (left-to-right isolate) at character 8")
	_, err = inc.Resolve("fixed\x08\x08\x08", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "the summary has U+0008 (backspace)")
	_, err = inc.AddAction("rotate keys\x7f", "", "", r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "U+007F (delete)")

	// Line breaks and tabs are text; a Windows line end is a line end.
	ch := r.commit(inc.AddEntry(timeline.PhaseObserve, "errors:\r\n\t5xx at 12%\r\n\t4xx flat", false, r.meta("U1")))
	require.Equal(t, "errors:\n\t5xx at 12%\n\t4xx flat", ch.Events[0].Text)
	// A lone carriage return moves a terminal's cursor: refused.
	_, err = inc.AddEntry(timeline.PhaseObserve, "ok\rFAKE", false, r.meta("U1"))
	requireUserError(t, err, incident.ErrInvalid, "U+000D (carriage return) at character 3")

	// A link cannot carry one either.
	require.False(t, incident.IsWebLink("https://wiki.example.com/\u202epm"))
}

func TestRequestOfReadsTheFingerprintFromTheKey(t *testing.T) {
	m := incident.Meta{At: t0, Actor: "api:oncall", Source: timeline.SourceAPI, Key: "api:oncall:my#key", Fingerprint: "sha256:00ff"}
	ch, err := incident.Declare(number, incident.Declaration{Title: "Checkout down"}, m)
	require.NoError(t, err)
	for _, e := range ch.Events {
		require.Equal(t, "sha256:00ff", incident.RequestOf(e), e.Key)
		require.Equal(t, "api:oncall:my#key", incident.CommandKey(e), e.Key)
	}
	m.Fingerprint = ""
	ch, err = incident.Declare(number, incident.Declaration{Title: "Checkout down"}, m)
	require.NoError(t, err)
	require.Equal(t, "api:oncall:my#key", ch.Events[0].Key, "without a fingerprint the key is the request's")
	require.Empty(t, incident.RequestOf(ch.Events[0]))
	require.Equal(t, "api:oncall:my#key", incident.CommandKey(ch.Events[0]))
	require.Equal(t, "slack:T1", incident.CommandKey(timeline.Event{Key: "slack:T1#2"}))
}
