package blockkit

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
)

// TestKickoffSimilarStaysWithinSlackLimits: however long the titles, root
// causes and links of the similar incidents, the kickoff lists at most
// three in one section within Slack's limit, keeps each post-mortem link
// whole and lets no markup through from what people typed.
func TestKickoffSimilarStaysWithinSlackLimits(t *testing.T) {
	inc, evs := renderFixture(t, "Checkout is down")
	link := "https://wiki.example.com/pm?a=1&" + strings.Repeat("b", 300)
	hit := search.Hit{
		Number: 1e15, ID: incident.ID(1e15), Severity: 1, Status: incident.StatusClosed,
		Title: strings.Repeat("&", incident.MaxTitle) + hostileText, Service: hostileText + strings.Repeat("&", 100), SameService: true,
		Shared:    []string{"connection", "pool", "exhausted", "checkout", "peak"},
		RootCause: strings.Repeat(hostileText, incident.MaxText/len(hostileText)), PostmortemURL: link,
		DeclaredAt: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	msg, err := Render(incident.TemplateKickoff, PostContext{Event: evs[0], Incident: inc, Similar: []search.Hit{hit, hit, hit, hit}})
	require.NoError(t, err)
	var section string
	for _, b := range msg.Blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && strings.HasPrefix(s.Text.Text, similarHeading) {
			section = s.Text.Text
		}
	}
	require.NotEmpty(t, section, "the kickoff lists the similar incidents")
	require.LessOrEqual(t, utf8.RuneCountInString(section), maxSectionText)
	require.Equal(t, 3, strings.Count(section, "\n• *"+hit.ID+"*"), "three at most")
	require.Equal(t, 3, strings.Count(section, "Post-mortem: https://wiki.example.com/pm?a=1&amp;"+strings.Repeat("b", 300)+"\n"), "every link whole:\n%s", section)
	requireNoMarkupFromUsers(t, "similar incidents", section)

	msg, err = Render(incident.TemplateKickoff, PostContext{Event: evs[0], Incident: inc})
	require.NoError(t, err)
	require.NotContains(t, blocksJSON(t, msg.Blocks), "Similar past incidents", "none: no block")
}
