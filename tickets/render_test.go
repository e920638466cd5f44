package tickets_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/tickets"
)

// privateIncident is a private incident whose every private field holds a
// word no ticket may carry.
func privateIncident() incident.Incident {
	return incident.Incident{
		Number: 7, ID: "INC-7", Title: "Payroll SECRET-TITLE exposed", Status: incident.StatusInvestigating,
		Severity: 1, Private: true, Service: "secret-service", ChannelID: "C0SECRETCH",
		CustomerImpacting: true, Impact: "SECRET-IMPACT for 1200 employees",
		Summary: "SECRET-SUMMARY", PostmortemURL: "https://docs.example/SECRET-PM",
		Actions: []incident.Action{{ID: 3, Text: "Rotate the signing keys", Owner: alice, Due: "2026-12-20", Status: incident.ActionOpen}},
	}
}

// privateWords are what a private incident's ticket must never carry.
var privateWords = []string{"SECRET-TITLE", "Payroll", "SECRET-IMPACT", "1200", "secret-service", "C0SECRETCH",
	"SECRET-SUMMARY", "SECRET-PM", "postmortem", "Post-mortem", "Slack channel", "Impact"}

// TestRenderPrivate: a private incident's ticket carries the item's own
// text and the incident's number, and nothing else of the incident, in
// every tracker's markup and whether or not the owner is mapped.
func TestRenderPrivate(t *testing.T) {
	for _, tc := range []struct {
		name string
		kind string
		page tickets.Page
		text string
	}{
		{name: "github, owner unmapped", kind: tickets.KindGitHub, page: tickets.Page{OwnerName: "Alice Chen"}},
		{name: "github, owner assigned", kind: tickets.KindGitHub, page: tickets.Page{OwnerName: "Alice Chen", Assignee: "alice"}},
		{name: "gitlab", kind: tickets.KindGitLab, page: tickets.Page{Assignee: "1234"}},
		{name: "jira", kind: tickets.KindJira, page: tickets.Page{OwnerName: "Alice Chen"}},
		{name: "jira, no incident page", kind: tickets.KindJira, page: tickets.Page{IncidentURL: "-"}},
		{name: "long text, repeated in the body", kind: tickets.KindGitHub, text: strings.Repeat("Rotate the signing keys ", 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inc := privateIncident()
			a := inc.Actions[0]
			if tc.text != "" {
				a.Text = tc.text
			}
			p := tc.page
			p.Kind, p.Key = tc.kind, "INC-7/12/create_ticket"
			switch p.IncidentURL {
			case "":
				p.IncidentURL = "https://ooda.example/incidents/7"
			case "-":
				p.IncidentURL = ""
			}
			p.ChannelURL = "https://slack.example/archives/C0SECRETCH"
			nt := tickets.Render(inc, a, p)

			all := strings.Join(append([]string{nt.Key, nt.Title, nt.Body, nt.Assignee}, nt.Labels...), "\n")
			for _, w := range privateWords {
				assert.NotContains(t, all, w)
			}
			assert.Contains(t, nt.Body, "Action item 3 of INC-7, a private incident.")
			assert.Contains(t, nt.Title, "Rotate the signing keys")
			assert.Contains(t, nt.Body, "Priority: P0, due 2026-12-20", "the item's own")
			assert.Contains(t, nt.Body, "Closing this ticket marks action 3 done in Ooda.")
		})
	}
}

// TestRenderPrivateThroughTheService: the same, for the ticket the
// tracker received.
func TestRenderPrivateThroughTheService(t *testing.T) {
	r := newRig(t, rigOptions{})
	n := r.declare("Payroll SECRET-TITLE exposed", "secret-service", true)
	r.addItem(n, "Rotate the signing keys", alice)
	require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
	all := r.fake("github").all()
	require.Len(t, all, 1)
	nt := all[0].new
	got := strings.Join(append([]string{nt.Title, nt.Body, nt.Assignee}, nt.Labels...), "\n")
	for _, w := range append(privateWords, "EU cards") {
		assert.NotContains(t, got, w)
	}
	assert.Contains(t, nt.Body, "Action item 1 of INC-1, a private incident.")
}

func TestRenderPublic(t *testing.T) {
	inc := privateIncident()
	inc.Private, inc.Title, inc.Impact, inc.PostmortemURL, inc.Severity = false, "Checkout fails for EU cards", "EU cards declined", "", 2
	inc.Actions[0].Priority = "P1"
	a := inc.Actions[0]

	t.Run("markdown", func(t *testing.T) {
		nt := tickets.Render(inc, a, tickets.Page{
			Kind: tickets.KindGitHub, Key: "INC-7/12/create_ticket", OwnerName: "Alice Chen",
			IncidentURL: "https://ooda.example/incidents/7", ChannelURL: "https://slack.example/archives/C0SECRETCH",
		})
		assert.Equal(t, "Rotate the signing keys", nt.Title)
		assert.Equal(t, []string{"incident", "sev2", "P1"}, nt.Labels)
		assert.Equal(t, "INC-7/12/create_ticket", nt.Key)
		assert.Empty(t, nt.Assignee)
		assert.Equal(t, strings.Join([]string{
			"Action item 3 of INC-7: Checkout fails for EU cards",
			"",
			"- Priority: P1, due 2026-12-20",
			"- Owner in Slack: Alice Chen — not mapped to a GitHub account; add them to the accounts file",
			"- Incident: [INC-7](https://ooda.example/incidents/7)",
			"- Slack channel: [the incident channel](https://slack.example/archives/C0SECRETCH)",
			"- Post-mortem: [the post-mortem](https://ooda.example/incidents/7/postmortem)",
			"",
			"**Impact:** EU cards declined",
			"",
			"Opened by Ooda. Closing this ticket marks action 3 done in Ooda.",
		}, "\n"), nt.Body)
	})
	t.Run("jira wiki, assigned, published post-mortem", func(t *testing.T) {
		inc := inc
		inc.PostmortemURL = "https://docs.example/pm/7"
		nt := tickets.Render(inc, a, tickets.Page{Kind: tickets.KindJira, OwnerName: "Alice Chen", Assignee: "5b10a2844c20165700ede21g"})
		assert.Equal(t, "5b10a2844c20165700ede21g", nt.Assignee)
		assert.Contains(t, nt.Body, "* Owner: Alice Chen (assigned)")
		assert.Contains(t, nt.Body, "* Post-mortem: [the post-mortem|https://docs.example/pm/7]")
		assert.Contains(t, nt.Body, "*Impact:* EU cards declined")
		assert.NotContains(t, nt.Body, "Incident:", "no incident page configured")
		assert.NotContains(t, nt.Body, "Slack channel", "no channel yet")
	})
	t.Run("no owner", func(t *testing.T) {
		a := a
		a.Owner = ""
		nt := tickets.Render(inc, a, tickets.Page{Kind: tickets.KindGitLab})
		assert.Contains(t, nt.Body, "- Owner: nobody yet; name one in Slack with /incident action owner 3 @someone")
		assert.Contains(t, nt.Body, "- Priority: P1, due 2026-12-20")
	})
	t.Run("people's text is inert", func(t *testing.T) {
		inc := inc
		inc.Title = "Ping @acme/oncall [here](https://evil.example)"
		inc.Impact = "see <!-- ooda-key: INC-9/3/create_ticket -->\n\n# heading"
		nt := tickets.Render(inc, a, tickets.Page{Kind: tickets.KindGitHub})
		assert.NotContains(t, nt.Body, tickets.MarkerPrefix, "no marker another Find could match")
		assert.NotContains(t, nt.Body, " @acme", "no mention")
		assert.NotContains(t, nt.Body, "[here](", "no link")
		assert.NotContains(t, nt.Body, "\n# heading", "one line")
	})
}

func TestTitle(t *testing.T) {
	assert.Equal(t, "Alert on card declines", tickets.Title("  Alert on\ncard\tdeclines "))
	long := strings.Repeat("é", 300)
	got := tickets.Title(long)
	assert.True(t, utf8.ValidString(got))
	assert.Equal(t, tickets.MaxTitle, utf8.RuneCountInString(got))
	assert.True(t, strings.HasSuffix(got, "…"))
	exact := strings.Repeat("a", tickets.MaxTitle)
	assert.Equal(t, exact, tickets.Title(exact))
}

// TestRenderDueDefault: an item without a due day says so.
func TestRenderDueDefault(t *testing.T) {
	inc := privateIncident()
	inc.Actions[0].Due = ""
	inc.Actions[0].Priority = "P3"
	nt := tickets.Render(inc, inc.Actions[0], tickets.Page{Kind: tickets.KindGitHub, IncidentURL: "https://ooda.example/incidents/7"})
	assert.Contains(t, nt.Body, "Priority: P3, no due day")
}
