package postmortem_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

// TestActionItemsShowTheirLifecycle: the Action Items section shows each
// item's state, owner by name, due day and ticket in every format; the
// changes made to the items after the incident stay out of its timeline.
func TestActionItemsShowTheirLifecycle(t *testing.T) {
	s := richIncident(t)
	inc := &s.inc
	later := 3 * 24 * time.Hour
	s.commit(inc.MarkActionDone(1, s.by(later, carol)))
	s.commit(inc.SetActionLink(2, "https://tracker.example.com/browse/OPS-12?x=1&y=_2_", s.by(later+time.Minute, dave)))
	s.commit(inc.MarkActionWontDo(3, "the canary gets no <peak> traffic | see item 2", s.by(later+2*time.Minute, dave)))
	opts := richOptions()
	opts.Now = declaredAt.Add(10 * 24 * time.Hour) // 6 December: item 2, due 4 December, is overdue
	doc := postmortem.Draft(s.inc, s.events, opts)

	a := doc.Actions.Items
	require.Len(t, a, 3)
	require.Equal(t, []string{incident.ActionDone, incident.ActionOpen, incident.ActionWontDo}, []string{a[0].Status, a[1].Status, a[2].Status})
	require.Equal(t, []bool{true, false, false}, []bool{a[0].Done, a[1].Done, a[2].Done})
	require.Equal(t, []string{"2026-12-11", "2026-12-04", "2026-12-04"}, []string{a[0].Due, a[1].Due, a[2].Due})
	require.Equal(t, []bool{false, true, false}, []bool{a[0].Overdue, a[1].Overdue, a[2].Overdue}, "only an open item is overdue")
	require.Equal(t, "carol", a[0].Owner, "by name")
	require.Equal(t, declaredAt.Add(later), a[0].ClosedAt)
	require.Equal(t, "https://tracker.example.com/browse/OPS-12?x=1&y=_2_", a[1].Link)
	require.Equal(t, "the canary gets no <peak> traffic | see item 2", a[2].Reason)

	for _, m := range doc.Timeline.Minutes {
		for _, e := range m.Entries {
			require.NotEqual(t, "action_updated", e.Kind, "the timeline is the response's, not the follow-up's")
		}
	}
	require.True(t, doc.Timeline.Minutes[len(doc.Timeline.Minutes)-1].At.Before(declaredAt.Add(2*time.Hour)), "it ends with the resolution")

	md := renderAs(t, doc, postmortem.FormatMarkdown)
	require.Contains(t, md, "| Done | # | Action | Owner | Priority | Due | Status | Ticket |\n")
	require.Contains(t, md, "| \\[x\\] | 1 | Make the connection-pool size a config value with a load-tested default | carol | P1 | 2026-12-11 | done |  |\n")
	require.Contains(t, md, "| \\[ \\] | 2 | Alert on pool saturation before errors reach customers | *unassigned* | P0 (default) | 2026-12-04 | open, overdue | <https://tracker.example.com/browse/OPS-12?x=1&y=_2_> |\n")
	require.Contains(t, md, "| \\[ \\] | 3 | Add a canary stage to checkout deploys | bob | P0 (default) | 2026-12-04 | won't do: the canary gets no \\<peak\\> traffic \\| see item 2 |  |\n",
		"the reason is escaped: it cannot open HTML or a table cell")

	html := renderAs(t, doc, postmortem.FormatHTML)
	require.Contains(t, html, `<td>2026-12-04</td><td>open, overdue</td><td><a href="https://tracker.example.com/browse/OPS-12?x=1&amp;y=_2_" rel="noreferrer">https://tracker.example.com/browse/OPS-12?x=1&amp;y=_2_</a></td>`)
	require.Contains(t, html, "<td>won&#39;t do: the canary gets no &lt;peak&gt; traffic | see item 2</td>")
	require.NotContains(t, html, "<peak>")

	var js struct {
		Actions struct {
			Items []map[string]any `json:"items"`
		} `json:"action_items"`
	}
	require.NoError(t, json.Unmarshal([]byte(renderAs(t, doc, postmortem.FormatJSON)), &js))
	require.Equal(t, "2026-12-04", js.Actions.Items[1]["due"])
	require.Equal(t, true, js.Actions.Items[1]["overdue"])
	require.Equal(t, "https://tracker.example.com/browse/OPS-12?x=1&y=_2_", js.Actions.Items[1]["link"])
	require.Equal(t, "wontdo", js.Actions.Items[2]["status"])

	// A link no web address (an imported log) is text, not a link.
	doc.Actions.Items[1].Link = "javascript:alert(1)"
	md = renderAs(t, doc, postmortem.FormatMarkdown)
	require.NotContains(t, md, "<javascript")
	require.NotContains(t, renderAs(t, doc, postmortem.FormatHTML), `href="javascript`)
}

func renderAs(t *testing.T, doc postmortem.Doc, format string) string {
	t.Helper()
	b, _, err := postmortem.Render(doc, format)
	require.NoError(t, err)
	return strings.TrimSpace(string(b)) + "\n"
}
