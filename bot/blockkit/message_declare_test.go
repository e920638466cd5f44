package blockkit

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
)

func TestMessageTitle(t *testing.T) {
	long := strings.Repeat("checkout errors ", 20)
	tests := []struct {
		name, text, channel, want string
	}{
		{"first line", "Checkout is 500ing for EU &amp; UK\nsee the graph", "ops", "Checkout is 500ing for EU & UK"},
		{"mentions and links in plain text", "<@U0ALICE0001|alice> says <https://grafana.example/d/1|the p99 graph> is red in <#C0OPS|ops> <!here>", "ops", "@alice says the p99 graph is red in #ops @here"},
		{"bare mention and link", "<@U0ALICE0001> <https://status.example.com>", "ops", "@U0ALICE0001 https://status.example.com"},
		{"leading blank lines", "\n  \n  db &lt;primary&gt; down  ", "ops", "db <primary> down"},
		{"only a link", "<https://grafana.example/d/1>", "ops", "Declared from a message in #ops"},
		{"only links", " <https://a.example> <https://b.example|b> ", "ops", "Declared from a message in #ops"},
		{"an image, no text", "", "ops", "Declared from a message in #ops"},
		{"a direct message", "", "directmessage", "Declared from a message"},
		{"control characters", "db\x1b[2J down\tnow", "ops", "db\uFFFD[2J down now"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, MessageTitle(tt.text, tt.channel))
		})
	}
	got := MessageTitle(long, "ops")
	require.LessOrEqual(t, utf8.RuneCountInString(got), incident.MaxTitle)
	require.True(t, strings.HasSuffix(got, "…"))
}

func TestMessageObservation(t *testing.T) {
	got := MessageObservation("U0ALICE0001", "C0OPS", "checkout &lt;eu&gt; 500s <https://g.example|graph>", "https://ooda.slack.com/archives/C0OPS/p1772445660000100", incident.MaxText)
	require.Equal(t, "Message from <@U0ALICE0001> in <#C0OPS>: “checkout <eu> 500s graph” (https://ooda.slack.com/archives/C0OPS/p1772445660000100)", got)
	got = MessageObservation("U0ALICE0001", "C0OPS", "<@U0BOB000001|bob> see <#C0DB|db> <!here>", "", incident.MaxText)
	require.Equal(t, "Message from <@U0ALICE0001> in <#C0OPS>: “<@U0BOB000001> see <#C0DB> @here”", got, "people and channels stay IDs")
	require.Equal(t, "Message in <#C0OPS>: “(no text: an attachment or a file)”", MessageObservation("", "C0OPS", "", "", incident.MaxText))
	long := MessageObservation("U0ALICE0001", "C0OPS", strings.Repeat("x ", 4000), "https://l.example/p1", incident.MaxText)
	require.LessOrEqual(t, utf8.RuneCountInString(long), incident.MaxText)
	require.True(t, strings.HasSuffix(long, "…” (https://l.example/p1)"), "the link survives the clip")
}

func TestMessageDeclaredReplyKeepsAPrivateIncidentUnnamed(t *testing.T) {
	inc := incident.Incident{ID: "INC-7", Title: "Payroll export leaks salaries", Severity: 1, ChannelID: "C0INC7"}
	pub := MessageDeclaredReply(inc)
	require.Equal(t, "Declared as *INC-7* (SEV1) “Payroll export leaks salaries”: follow it in <#C0INC7>.", pub.Text)
	inc.Private = true
	priv := MessageDeclaredReply(inc)
	require.Equal(t, "An incident was declared from this message; its channel is private.", priv.Text)
	body := blocksJSON(t, priv.Blocks)
	for _, secret := range []string{"Payroll", "SEV1", "INC-7", "C0INC7"} {
		require.NotContains(t, priv.Text+body, secret)
	}
}
