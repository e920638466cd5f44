package postmortem_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// hostile is text that would change a document's structure if it were
// pasted in unescaped.
var hostile = []string{
	"<script>alert(1)</script>",
	"[click](javascript:alert(1))",
	"![img](https://evil.example/x.png)",
	"<img src=x onerror=alert(1)>",
	"# Heading\n## Another\n| a | b |\n|---|---|",
	"- item\n1. ordered\n> quote\n    code",
	"```\nfenced\n```",
	"**bold** _em_ ~~strike~~ `code` $x^2$ &lt; &amp;",
	"cell | breaker \\| escaped",
	"<!-- ooda:review -->",
	"line\n---\nsetext",
	"\u202eevil\u202c and \x1b[31mred",
}

func hostileIncident(t *testing.T) (*script, postmortem.Options) {
	s := declare(t, 9, incident.Declaration{Title: "# Pwned | x |", Service: "<b>svc</b>", Description: hostile[0]},
		incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	inc := &s.inc
	s.commit(inc.AssignRole(roles.Comms, bob, s.by(mins(1), alice)))
	s.commit(inc.AssignRole(roles.Commander, dave, s.by(mins(2), alice)))
	for i, h := range hostile {
		phase := []timeline.Phase{timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct}[i%4]
		if timeline.HasControl(h) {
			// Nobody can type control characters into Ooda; a message
			// captured from Slack is kept as it was sent.
			s.commit(inc.Record(timeline.KindMessageCaptured, phase, h,
				map[string]string{timeline.AttrChannel: "C0INC9", timeline.AttrTS: "1795734252.000100"}, s.by(mins(3+i), carol)))
			continue
		}
		s.commit(inc.AddEntry(phase, h, false, s.by(mins(3+i), carol)))
	}
	s.commit(inc.AddEntry(timeline.PhaseOrient, "[cause](javascript:alert(1)) | x", true, s.by(mins(30), dave)))
	s.commit(inc.SetImpact("- impact\n# heading", s.by(mins(31), dave)))
	s.commit(inc.AddAction("| broken | table |", carol, "", s.by(mins(32), dave)))
	s.commit(inc.AddAction("[click](javascript:alert(1))", bob, "P2", s.by(mins(33), dave)))
	s.commit(inc.Resolve("<script>alert(2)</script>", s.by(mins(34), dave)))
	opts := postmortem.Options{Now: generatedAt, Names: func(id string) string {
		return "**" + id + "**<img src=x onerror=alert(1)>\n# " + id + " | [x](javascript:alert(1))"
	}}
	return s, opts
}

var (
	unescapedTag  = regexp.MustCompile(`(^|[^\\])<(script|img|b>|!--)`)
	unescapedLink = regexp.MustCompile(`(^|[^\\])\]\(`)
)

func TestMarkdownInjectionIsNeutralised(t *testing.T) {
	s, opts := hostileIncident(t)
	md := string(postmortem.Draft(s.inc, s.events, opts).Markdown())

	var tableCols int
	for i, line := range strings.Split(md, "\n") {
		// Headings are Ooda's own and nothing else.
		if strings.HasPrefix(line, "#") {
			ok := strings.HasPrefix(line, "# Post-mortem: INC-9 — \\# Pwned \\| x \\|") ||
				regexp.MustCompile(`^##+ [A-Z][A-Za-z ]+$`).MatchString(line)
			require.True(t, ok, "line %d is a heading nobody asked for: %q", i+1, line)
		}
		// Raw HTML and links only appear escaped; the review markers and
		// <br> are Ooda's own.
		if line != "<!-- ooda:review -->" && line != "<!-- /ooda:review -->" {
			require.False(t, unescapedTag.MatchString(line), "line %d has raw HTML: %q", i+1, line)
		}
		require.False(t, unescapedLink.MatchString(line), "line %d has a link: %q", i+1, line)
		// A list item's content does not start another block.
		if rest, ok := strings.CutPrefix(line, "- "); ok && !strings.HasPrefix(rest, "**") {
			require.NotRegexp(t, `^([-+*>#]|\d+[.)]|    )`, rest, "line %d nests a block: %q", i+1, line)
		}
		// Every row of a table has as many cells as its header.
		if strings.HasPrefix(line, "|") {
			n := cells(line)
			if tableCols == 0 {
				tableCols = n
			}
			require.Equal(t, tableCols, n, "line %d breaks its table: %q", i+1, line)
		} else {
			tableCols = 0
		}
		require.NotContains(t, line, "\u202e", "bidirectional overrides are replaced")
		require.NotContains(t, line, "\x1b", "control characters are replaced")
	}
	require.Contains(t, md, `\<script\>alert(1)\</script\>`, "the text is still there, escaped")
	require.Contains(t, md, `\[click\](javascript:alert(1))`)
	require.Contains(t, md, `\*\*U0CAROL\*\*\<img src=x onerror=alert(1)\><br>\# U0CAROL \| \[x\](javascript:alert(1))`, "names are escaped too")
	require.Equal(t, 1, strings.Count(md, "<!-- ooda:review -->"), "user text cannot open a second review note")
}

// cells counts a table row's cells: its pipes that are not escaped, less one.
func cells(row string) int {
	n := 0
	for i := 0; i < len(row); i++ {
		switch row[i] {
		case '\\':
			i++
		case '|':
			n++
		}
	}
	return n - 1
}

func TestHTMLInjectionIsNeutralised(t *testing.T) {
	s, opts := hostileIncident(t)
	page := string(postmortem.Draft(s.inc, s.events, opts).HTML())

	for _, bad := range []string{"<script", "<img", "<b>", "<a ", "\u202e", "\x1b"} {
		require.False(t, strings.Contains(page, bad), "the page contains %q", bad)
	}
	require.False(t, assetRE.MatchString(page), "the page loads something: %q", assetRE.FindString(page))
	require.Contains(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;")
	require.Contains(t, page, "<title>Post-mortem: INC-9 — # Pwned | x |</title>")
	require.Equal(t, 1, strings.Count(page, "<h1>"))
	require.Equal(t, 8, strings.Count(page, "<h2>"), "seven sections and the review note")
}

// assetRE finds what would make a page load or link to something: an
// attribute pointing elsewhere, a stylesheet import, a link element.
var assetRE = regexp.MustCompile(`<[a-z][^>]*\s(?:src|href|action|srcset)=|url\(|@import|<link`)

func TestSlackMarkupBecomesText(t *testing.T) {
	s := declare(t, 4, incident.Declaration{Title: "Queue backlog"}, incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	for i, text := range []string{
		"<@U0BOB> and <@U0UNKNOWN|pat> saw it in <#C0OPS|ops>; <!here>",
		"see <https://grafana.example/d/q|the dashboard> and <https://x.example>",
		"a < b > c, <not markup>, <@lowercase>",
	} {
		s.commit(s.inc.AddEntry(timeline.PhaseObserve, text, false, s.by(mins(1+i), alice)))
	}
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{Names: names})
	var got []string
	for _, m := range doc.Timeline.Minutes[1:] {
		got = append(got, m.Entries[0].Text)
	}
	require.Equal(t, []string{
		"@bob and @pat saw it in #ops; @here",
		"see the dashboard (https://grafana.example/d/q) and https://x.example",
		"a < b > c, <not markup>, <@lowercase>",
	}, got)
}
