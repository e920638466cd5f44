// Package mrkdwn holds the text Ooda writes in Slack's mrkdwn: escaping
// what people typed, mentions, and the one clipper that keeps text within
// a limit without cutting an entity or a <…> markup in half.
//
// Replies to every transport (Slack, the API, the CLI) and Block Kit
// messages are written with it, so it imports only the domain
// (incident); never slack-go, the store or anything that does I/O.
package mrkdwn

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// escaper escapes the three characters Slack's mrkdwn treats as control
// characters, so text a user typed can never become a <!channel> ping or
// a <https://evil|trusted> link when the bot echoes it.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// unescaper undoes Escape, for text Slack delivered escaped.
var unescaper = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">")

// Escape makes user text safe to echo into a Slack message: Slack's
// markup characters are escaped, and control characters (timeline.Clean:
// terminal escapes, bidirectional overrides) are replaced, for text
// captured from Slack is stored as it was sent.
func Escape(s string) string { return escaper.Replace(timeline.Clean(s)) }

// Unescape reads text as Slack delivers it (with &amp;, &lt; and &gt;)
// back into what the person typed.
func Unescape(s string) string { return unescaper.Replace(s) }

// Link writes text linked to url, both escaped: <url|text>. An address
// that is not http(s), or that holds a "|" (which would end it early),
// gives the text alone.
func Link(url, text string) string {
	if !incident.IsWebLink(url) || strings.Contains(url, "|") {
		return Escape(text)
	}
	return "<" + Escape(url) + "|" + Escape(text) + ">"
}

// Quote escapes s and puts it in quotation marks.
func Quote(s string) string { return "“" + Escape(s) + "”" }

// Mention renders a user id as a Slack mention, or "nobody"; an actor
// that is not a person (Ooda, an API token) is written out, escaped.
func Mention(u string) string {
	if u == "" {
		return "nobody"
	}
	if !incident.IsPerson(u) {
		return Escape(u)
	}
	return "<@" + u + ">"
}

// Plural picks one or many by n.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Clip cuts s to at most limit characters (runes), the last of them an
// ellipsis. It never leaves half an entity (&amp;) or half a <…> markup
// (a mention, a link) behind, ends on a whole word when one ends near the
// limit, and drops the spaces and commas before the ellipsis.
// Slack's limits count characters, so that is what limit counts.
func Clip(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	if limit < 1 {
		return ""
	}
	cut, n := 0, 0
	for i := range s {
		if n == limit-1 { // room for the ellipsis
			cut = i
			break
		}
		n++
	}
	head := s[:cut]
	// Back off only from what really is markup or an entity cut in two:
	// plain text has its < and & too ("p99 > 2s & rising").
	if i := strings.LastIndexByte(head, '<'); i >= 0 && markupAt(s, i) && !strings.Contains(head[i:], ">") {
		head = head[:i]
	}
	if i := strings.LastIndexByte(head, '&'); i >= 0 && entityAt(s, i) && !strings.Contains(head[i:], ";") {
		head = head[:i]
	}
	// A word cut in half reads worse than a few characters given up. The
	// head already ends a word when a space follows it, and a space inside
	// a <…> markup (a link's label) is no place to end.
	if s[len(head)] != ' ' {
		if i := strings.LastIndexByte(head, ' '); i > 0 && i > len(head)-wordSlack && !inMarkup(s, i) {
			head = head[:i]
		}
	}
	return trimEnd(head) + "…"
}

// markupAt reports whether a Slack markup (<@U…>, <#C…>, <!here>,
// <https://…|label>) starts at s[i].
func markupAt(s string, i int) bool {
	rest := s[i+1:]
	end := strings.IndexAny(rest, ">\n")
	if end < 0 || rest[end] != '>' {
		return false
	}
	switch {
	case strings.HasPrefix(rest, "@"), strings.HasPrefix(rest, "#"), strings.HasPrefix(rest, "!"),
		strings.HasPrefix(rest, "http://"), strings.HasPrefix(rest, "https://"), strings.HasPrefix(rest, "mailto:"):
		return true
	}
	return false
}

// entityAt reports whether an entity (&amp; &lt; &gt; &#39;) starts at s[i].
func entityAt(s string, i int) bool {
	rest := s[i+1:]
	for j := 0; j < len(rest) && j < 8; j++ {
		c := rest[j]
		switch {
		case c == ';':
			return j > 0
		case c == '#' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return false
}

// inMarkup reports whether s[pos] is inside a <…> markup.
func inMarkup(s string, pos int) bool {
	j := strings.LastIndexByte(s[:pos], '<')
	return j >= 0 && !strings.Contains(s[j:pos], ">") && markupAt(s, j)
}

// trimEnd drops the spaces and punctuation before the ellipsis, but not
// the ";" that ends an entity (&amp;).
func trimEnd(s string) string {
	for s != "" {
		switch s[len(s)-1] {
		case ' ', ',', ':':
		case ';':
			if i := strings.LastIndexByte(s, '&'); i >= 0 && !strings.ContainsAny(s[i:len(s)-1], " ;") {
				return s
			}
		default:
			return s
		}
		s = s[:len(s)-1]
	}
	return s
}

// wordSlack is how many bytes Clip gives up to end on a whole word.
const wordSlack = 16

// Duration writes d to the minute: "1 h 05 min" or "7 min".
func Duration(d time.Duration) string { return timeline.Minutes(d.Round(time.Minute)) }

// Clock writes t as Slack messages show times: "09:42 UTC".
func Clock(t time.Time) string { return t.UTC().Format("15:04") + " UTC" }
