package bot

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/directory"
	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slackapi/slackapitest"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// A slash command naming someone as typed (@alice, which Slack leaves
// alone when it cannot match it to a member) resolves through the
// directory the app refreshes from Slack, without asking Slack while the
// command waits for its answer.
func TestSlashCommandResolvesNames(t *testing.T) {
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddMember(slacktest.Member{ID: "U0CAROL", Handle: "carol.diaz", RealName: "Carol Diaz", DisplayName: "carol"})
	fake.AddMember(slacktest.Member{ID: "U0BOB", Handle: "bob.k", RealName: "Bob Kowalski", DisplayName: "bob"})
	fake.AddMember(slacktest.Member{ID: "U0BOB2", Handle: "bobby", RealName: "Bob Marley", DisplayName: "bob"})
	guard := slackapitest.NewGuard(t, slackapitest.Policy(), prometheus.NewRegistry())
	dir, err := directory.New(directory.Config{Store: storagetest.Open(t), Slack: slackapi.NewSlackClient("xoxb-test-token", fake.URL(), guard), Guard: guard})
	require.NoError(t, err)
	_, err = dir.Refresh(t.Context())
	require.NoError(t, err)

	r := newSlackRig(t, func(c *SlackConfig) { c.Dispatcher.People = dir })
	const channel = "C0INCIDENT1"
	n := r.declare("Checkout down", channel)
	calls := len(fake.Calls())
	fake.SetDown(true) // resolving must not need Slack

	tests := []struct {
		name, text, want string
	}{
		{"unique", "role ops @carol", "INC-1: <@U0CAROL> is Ops."},
		{"a member ID, as Slack escapes a mention", "role comms <@U0BOB|bob>", "INC-1: <@U0BOB> is Comms."},
		{"ambiguous", "role comms @bob", "“@bob” could be 2 people: Bob Kowalski (@bob) `@U0BOB`, Bob Marley (@bob) `@U0BOB2`. Name one by their member ID: `role comms @U0BOB`."},
		{"unknown", "role comms @caro1", "Nobody in the workspace goes by “@caro1”. Check the spelling, or name the person by their Slack member ID: `role comms @U0123ABCD`."},
		{"unknown, with suggestions", "role comms @diaz", "Nobody in the workspace goes by “@diaz”. Did you mean Carol Diaz (@carol) `@U0CAROL`?"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := slashReply(t, r.command(tt.text, channel, "trigger-"+string(rune('a'+i))))
			assert.Contains(t, reply.Text, tt.want)
		})
	}
	assert.Len(t, fake.Calls(), calls, "no Slack call while commands waited for their answers")
	inc, err := r.db.Incident(t.Context(), n)
	require.NoError(t, err)
	assert.Equal(t, "U0CAROL", inc.Roles.Ops, "the incident keeps the id")
	assert.Equal(t, "U0BOB", inc.Roles.Comms)
}
