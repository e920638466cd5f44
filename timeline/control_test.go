package timeline_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/timeline"
)

func TestClean(t *testing.T) {
	tests := map[string]string{
		"plain text, ünïcode and emoji 👩‍🚒": "plain text, ünïcode and emoji 👩‍🚒",
		"line\nbreak\tand tab":              "line\nbreak\tand tab",
		"\x1b]0;pwned\x07title":             "\uFFFD]0;pwned\uFFFDtitle",
		"\x1b[31mred\x1b[0m":                "\uFFFD[31mred\uFFFD[0m",
		"nul\x00 del\x7f":                   "nul\uFFFD del\uFFFD",
		"c1 \u009b31m and \u0085":           "c1 \uFFFD31m and \uFFFD",
		"\u202eevil\u202c \u2066iso\u2069":  "\uFFFDevil\uFFFD \uFFFDiso\uFFFD",
		"sep\u2028line\u2029para":           "sep\uFFFDline\uFFFDpara",
		"windows\r\nline end":               "windows\nline end",
		// Characters near the controls' encodings are text.
		"\u00a0nbsp \u2027 \u202f \u2065 \u206a": "\u00a0nbsp \u2027 \u202f \u2065 \u206a",
	}
	for in, want := range tests {
		require.Equal(t, want, timeline.Clean(in), "%q", in)
		require.False(t, timeline.HasControl(timeline.Clean(in)), "%q", in)
	}
}

func TestFirstControl(t *testing.T) {
	c, bad := timeline.FirstControl("ab\ncd", true)
	require.True(t, bad)
	require.Equal(t, timeline.Control{Rune: '\n', Pos: 3}, c)
	_, bad = timeline.FirstControl("ab\ncd\te", false)
	require.False(t, bad, "notes keep line breaks and tabs")
	_, bad = timeline.FirstControl("ab\r\ncd", false)
	require.False(t, bad, "a Windows line end is a line end")
	c, bad = timeline.FirstControl("éé\u202e", false)
	require.True(t, bad)
	require.Equal(t, 3, c.Pos, "positions count characters, not bytes")
	require.Equal(t, "U+202E (right-to-left override)", c.Name())
}
