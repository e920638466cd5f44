package blockkit

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

func TestActionsDue(t *testing.T) {
	inc := incident.Incident{Number: 3, ID: "INC-3", Title: "Checkout <down>", ChannelID: "C0CHAN00001", CustomerImpacting: true}
	other := incident.Incident{Number: 5, ID: "INC-5", Title: "Search slow"}
	msg := ActionsDue("2026-12-15", []DueGroup{
		{Incident: inc, Items: []incident.Action{
			{ID: 2, Text: "Add a canary & alert", Due: "2026-12-10", Status: incident.ActionOpen},
			{ID: 4, Text: "Runbook", Due: "2026-12-14", Priority: "P2", Status: incident.ActionOpen},
		}},
		{Incident: other, Items: []incident.Action{{ID: 1, Text: "Tune the cache", Due: "2026-12-01", Priority: "P3", Status: incident.ActionOpen}}},
	})
	require.Equal(t, "You own 3 overdue action items: INC-3 #2, INC-3 #4, INC-5 #1.", msg.Text)
	body := blocksJSON(t, msg.Blocks)
	require.Contains(t, body, "*You own 3 overdue action items.*")
	require.Contains(t, body, `*INC-3* “Checkout &lt;down&gt;” <#C0CHAN00001>\n`+
		`• 2 · P0 · due Thu 10 Dec 2026 (5 days ago): Add a canary &amp; alert\n`+
		`• 4 · P2 · due Mon 14 Dec 2026 (yesterday): Runbook`, "the incident's default priority, how long ago")
	require.Contains(t, body, "*INC-5* “Search slow”\\n• 1 · P3 · due Tue 1 Dec 2026 (14 days ago): Tune the cache")
	require.Contains(t, body, "`/incident action INC-3 done 2`")
	require.NotContains(t, body, "more.", "everything fits")

	one := ActionsDue("2026-12-15", []DueGroup{{Incident: other, Items: []incident.Action{{ID: 1, Text: "x", Due: "2026-12-01"}}}})
	require.Contains(t, blocksJSON(t, one.Blocks), "*You own 1 overdue action item.* Finish it, give it a new day, or say why it won't be done:")
}

// TestActionsDueStaysWithinSlackLimits: however many items a person owns
// and however long their texts, the reminder is within Slack's limits,
// lists the first ones, says how many more there are, and lets no markup
// through from what people typed.
func TestActionsDueStaysWithinSlackLimits(t *testing.T) {
	var groups []DueGroup
	for n := range 30 {
		inc := incident.Incident{Number: uint64(1e15 + n), ID: incident.ID(uint64(1e15 + n)), Title: strings.Repeat("&", incident.MaxTitle) + hostileText, ChannelID: "C0123456789ABCDEFGHIJ"}
		g := DueGroup{Incident: inc}
		for i := range 10 {
			g.Items = append(g.Items, incident.Action{ID: 1000 + i, Text: hostileText + strings.Repeat("<&>", incident.MaxText/3), Due: "2026-01-01", Status: incident.ActionOpen})
		}
		groups = append(groups, g)
	}
	msg := ActionsDue("2026-12-15", groups)
	require.LessOrEqual(t, len(msg.Blocks), 50, "Slack takes at most 50 blocks")
	require.LessOrEqual(t, utf8.RuneCountInString(msg.Text), maxFallbackText)
	shown := 0
	for _, b := range msg.Blocks {
		var text string
		switch b := b.(type) {
		case *slack.SectionBlock:
			text = b.Text.Text
		case *slack.ContextBlock:
			for _, el := range b.ContextElements.Elements {
				if tb, ok := el.(*slack.TextBlockObject); ok {
					text += tb.Text
				}
			}
		}
		require.LessOrEqual(t, utf8.RuneCountInString(text), maxSectionText)
		shown += strings.Count(text, "\n• ")
	}
	require.Equal(t, maxDueItems, shown)
	body := blocksJSON(t, msg.Blocks)
	require.Contains(t, body, fmt.Sprintf("…and %d more. `/incident actions mine overdue` lists them all.", 300-maxDueItems))
	requireNoMarkupFromUsers(t, "reminder blocks", body)
	requireNoMarkupFromUsers(t, "reminder text", msg.Text)
}

func TestRenderActionLines(t *testing.T) {
	ev := func(change string, kv ...string) timeline.Event {
		attrs := map[string]string{timeline.AttrActionID: "3", timeline.AttrChange: change}
		for i := 0; i < len(kv); i += 2 {
			attrs[kv[i]] = kv[i+1]
		}
		text := ""
		if change == timeline.ActionChangeWontDo {
			text = hostileText
		}
		return timeline.Event{Seq: 9, Kind: timeline.KindActionUpdated, Actor: bob, Text: text, Attrs: attrs}
	}
	inc := incident.Incident{Number: 7, ID: "INC-7", Title: "Checkout down", ChannelID: "C0CHAN00001"}
	for _, tt := range []struct {
		e    timeline.Event
		want string
	}{
		{ev(timeline.ActionChangeDone), "<@" + bob + "> marked action 3 done"},
		{ev(timeline.ActionChangeWontDo), "<@" + bob + "> marked action 3 won't do: &lt;!channel&gt; see"},
		{ev(timeline.ActionChangeReopen), "<@" + bob + "> reopened action 3"},
		{ev(timeline.ActionChangeOwner, timeline.AttrOwner, carol), "<@" + bob + "> gave action 3 to <@" + carol + ">"},
		{ev(timeline.ActionChangeDue, timeline.AttrDue, "2026-12-20"), "<@" + bob + "> made action 3 due Sun 20 Dec 2026"},
		{ev(timeline.ActionChangeDue), "<@" + bob + "> removed action 3's due day"},
		{ev(timeline.ActionChangeLink, timeline.AttrURL, "https://tracker.example/OPS-1"), "<@" + bob + "> linked action 3 to https://tracker.example/OPS-1"},
	} {
		for _, announce := range []bool{false, true} {
			msg, err := Render(incident.TemplateLine, PostContext{Event: tt.e, Incident: inc, Announce: announce})
			require.NoError(t, err)
			require.Contains(t, msg.Text, tt.want)
			requireNoMarkupFromUsers(t, "line", blocksJSON(t, msg.Blocks))
		}
	}
}
