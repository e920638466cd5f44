package mrkdwn_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/mrkdwn"
)

func TestClip(t *testing.T) {
	cases := []struct {
		name  string
		s     string
		limit int
		want  string
	}{
		// Short strings are left alone; the limit counts runes, not bytes.
		{"empty", "", 0, ""},
		{"fits", "abc", 3, "abc"},
		{"fits in runes, not in bytes", "héllo wörld", 11, "héllo wörld"},
		{"no room at all", "abc", 0, ""},
		{"room for the ellipsis only", "abc", 1, "…"},
		{"one over", "abcd", 3, "ab…"},

		// Entities are kept whole or dropped whole, including their ";".
		{"entity cut in half", "fish &amp; chips", 8, "fish…"},
		{"entity ends the head", "fish &amp; chips", 11, "fish &amp;…"},
		{"entity before the cut word", "fish &amp; chips", 12, "fish &amp;…"},
		{"escaped markup", "x &lt;y&gt; z and more", 13, "x &lt;y&gt;…"},

		// Mentions and links are kept whole or dropped whole.
		{"mention cut in half", "ping <@U0ALICE0001> now", 12, "ping…"},
		{"mention ends the head", "ping <@U0ALICE0001> now please", 20, "ping <@U0ALICE0001>…"},
		{"link label with spaces", "see <https://a.example|the status page>, now", 40, "see <https://a.example|the status page>…"},

		// A word is not cut in half when a boundary is near the limit…
		{"word boundary", "the quick brown fox jumps", 14, "the quick…"},
		{"cut already on a boundary", "hello world foo", 12, "hello world…"},
		{"multibyte word boundary", "héllo wörld über alles", 9, "héllo…"},
		// …but a long word is cut rather than giving up most of the text.
		{"long word", "a " + strings.Repeat("x", 30), 25, "a " + strings.Repeat("x", 22) + "…"},
		// Separators are not left before the ellipsis.
		{"trailing punctuation", "alpha: beta gamma", 10, "alpha…"},
		{"trailing semicolon in plain text", "one; two three four", 6, "one…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := mrkdwn.Clip(c.s, c.limit)
			require.Equal(t, c.want, got)
			require.LessOrEqual(t, utf8.RuneCountInString(got), c.limit)
		})
	}
}

func TestClipPlainText(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"Checkout p99 latency > 2s & error rate up on every pod in eu-west-1", 40, "Checkout p99 latency > 2s & error rate…"},
		{"if x < 3 then the pool starves and every request waits", 30, "if x < 3 then the pool…"},
		{"a &amp; b &lt;c&gt; <@U0ALICE0001> and more text here", 30, "a &amp; b &lt;c&gt;…"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := mrkdwn.Clip(tt.in, tt.limit)
			require.Equal(t, tt.want, got)
			require.LessOrEqual(t, utf8.RuneCountInString(got), tt.limit)
		})
	}
}

func TestLink(t *testing.T) {
	for _, tc := range []struct{ url, text, want string }{
		{"https://github.example/acme/ops/issues/1", "acme/ops#1", "<https://github.example/acme/ops/issues/1|acme/ops#1>"},
		{"https://jira.example/browse/OPS-1?a=1&b=2", "OPS-1 <b>", "<https://jira.example/browse/OPS-1?a=1&amp;b=2|OPS-1 &lt;b&gt;>"},
		{"https://jira.example/browse/OPS-1?b=<2>", "OPS-1", "OPS-1"},
		{"https://x.example/a|b", "name", "name"},
		{"javascript:alert(1)", "name", "name"},
		{"", "OPS-1", "OPS-1"},
	} {
		require.Equal(t, tc.want, mrkdwn.Link(tc.url, tc.text), tc.url)
	}
}
