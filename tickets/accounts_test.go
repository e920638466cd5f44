package tickets_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

const accountsYAML = `
- slack: U0ALICE0001
  email: Alice@Example.com
  github: alice
  gitlab: "1234"
  jira: 5b10a2844c20165700ede21g
- email: carol@example.com
  github: carol-gh
- slack: U0DAVE00001
  jira: dave
`

func TestAccountsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "accounts.yaml")
	require.NoError(t, os.WriteFile(path, []byte(accountsYAML), 0o600))
	m, err := tickets.LoadAccounts(path)
	require.NoError(t, err)
	assert.Equal(t, 3, m.Len())
	for _, tc := range []struct{ kind, slack, email, want string }{
		{tickets.KindGitHub, alice, "", "alice"},
		{tickets.KindGitLab, alice, "", "1234"},
		{tickets.KindJira, alice, "", "5b10a2844c20165700ede21g"},
		{tickets.KindGitHub, "U0OTHER0001", "alice@example.COM", "alice"},
		{tickets.KindGitHub, "U0CAROL0001", "carol@example.com", "carol-gh"},
		{tickets.KindJira, "U0CAROL0001", "carol@example.com", ""},
		{tickets.KindJira, "U0DAVE00001", "", "dave"},
		{tickets.KindGitHub, "U0DAVE00001", "", ""},
		{tickets.KindGitHub, "", "", ""},
	} {
		assert.Equal(t, tc.want, m.Lookup(tc.kind, tc.slack, tc.email), "%s %s %s", tc.kind, tc.slack, tc.email)
	}

	none, err := tickets.LoadAccounts("")
	require.NoError(t, err)
	assert.Empty(t, none.Lookup(tickets.KindGitHub, alice, ""))
	var nilMap *tickets.AccountMap
	assert.Empty(t, nilMap.Lookup(tickets.KindGitHub, alice, ""))
	empty, err := tickets.ParseAccounts(nil)
	require.NoError(t, err)
	assert.Zero(t, empty.Len())

	_, err = tickets.LoadAccounts(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "tickets: accounts_file: open ")
}

func TestAccountsFileMistakes(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"nobody named", "- github: alice\n", "entry 1: say whose accounts these are with slack: (a member id such as U0123ABCD) or email:"},
		{"no account", "- slack: U0ALICE0001\n", "entry 1: no tracker account; add github:, gitlab: or jira:"},
		{"bad email", "- email: alice\n  github: alice\n", `entry 1: email "alice" is not an address`},
		{"same person twice", "- slack: U1\n  github: a\n- slack: U1\n  jira: b\n", "entry 2: slack U1 has an entry already; merge the two"},
		{"same email twice", "- email: a@x.io\n  github: a\n- email: A@x.io\n  jira: b\n", "entry 2: email A@x.io has an entry already; merge the two"},
		{"a typo in a key", "- slack: U1\n  githb: a\n", "want a list of entries such as - {slack: U0123ABCD, github: alice}"},
		{"a map, not a list", "alice: alice\n", "want a list of entries"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tickets.ParseAccounts([]byte(tc.yaml))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

// gitlabConfig routes everything to a GitLab tracker.
func gitlabConfig() tickets.Config {
	return tickets.Config{
		Trackers: []tickets.TrackerConfig{{Name: "gitlab", Kind: tickets.KindGitLab, TokenEnv: "GITLAB_TOKEN"}},
		Default:  &tickets.Route{Tracker: "gitlab", Project: "ops/platform"},
	}
}

// TestAssignee: the accounts file first, then the tracker's own lookup by
// the email Slack gives, cached for an hour, "nobody" included; an owner
// mapped to nobody is named in the body.
func TestAssignee(t *testing.T) {
	people := &peopleFake{fakeTracker: newFake(tickets.KindGitLab), byEmail: map[string]string{"alice@example.com": "42"}}
	file, err := tickets.ParseAccounts([]byte("- slack: U0DAVE00001\n  gitlab: \"77\"\n"))
	require.NoError(t, err)
	const dave = "U0DAVE00001"
	r := newRig(t, rigOptions{
		config:   gitlabConfig(),
		trackers: map[string]tickets.Tracker{"gitlab": people},
		accounts: file,
		email:    map[string]string{alice: "alice@example.com", bob: "bob@example.com", dave: "dave@example.com"},
	})
	n := r.declare("Checkout fails for EU cards", "search", false)
	create := func(owner string) tickets.NewTicket {
		t.Helper()
		r.addItem(n, "Item for "+owner, owner)
		require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
		all := people.all()
		return all[len(all)-1].new
	}

	assert.Equal(t, "42", create(alice).Assignee)
	assert.Equal(t, 1, people.count("account"))
	assert.Equal(t, "42", create(alice).Assignee, "cached")
	assert.Equal(t, 1, people.count("account"))

	nt := create(bob)
	assert.Empty(t, nt.Assignee)
	assert.Contains(t, nt.Body, "Owner in Slack: Bob Li — not mapped to a GitLab account; add them to the accounts file")
	assert.Equal(t, 2, people.count("account"))
	create(bob)
	assert.Equal(t, 2, people.count("account"), "nobody is cached too")

	assert.Equal(t, "77", create(dave).Assignee, "the file first")
	assert.Equal(t, 2, people.count("account"))

	r.now = r.now.Add(time.Hour)
	assert.Equal(t, "42", create(alice).Assignee)
	assert.Equal(t, 3, people.count("account"), "asked again after an hour")

	t.Run("a lookup refused for good names the owner", func(t *testing.T) {
		r.now = r.now.Add(2 * time.Hour)
		people.fail("account", resilience.Permanent(errors.New("403: may not browse users")))
		nt := create(alice)
		assert.Empty(t, nt.Assignee)
		assert.Contains(t, nt.Body, "Owner in Slack: Alice Chen — not mapped")
	})
	t.Run("a lookup that may pass defers the ticket", func(t *testing.T) {
		r.now = r.now.Add(2 * time.Hour)
		for range 3 {
			people.fail("account", &resilience.HTTPStatusError{Code: 503})
		}
		before := len(people.all())
		r.addItem(n, "Item deferred", alice)
		err := r.attempt(r.pending(incident.EffectCreateTicket))
		require.Error(t, err)
		require.NotErrorIs(t, err, resilience.ErrPermanent)
		assert.Len(t, people.all(), before, "not created unassigned")
		require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
		all := people.all()
		assert.Equal(t, "42", all[len(all)-1].new.Assignee)
	})
	t.Run("GitHub has no lookup: the file only", func(t *testing.T) {
		r := newRig(t, rigOptions{email: map[string]string{alice: "alice@example.com"}})
		n := r.declare("Checkout fails for EU cards", "search", false)
		r.addItem(n, "Alert on card declines", alice)
		require.NoError(t, r.attempt(r.pending(incident.EffectCreateTicket)))
		nt := r.fake("github").all()[0].new
		assert.Empty(t, nt.Assignee)
		assert.Contains(t, nt.Body, "Owner in Slack: Alice Chen — not mapped to a GitHub account; add them to the accounts file")
	})
}
