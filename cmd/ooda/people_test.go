package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
)

// The CLI names people as the server knows them, and a person is named
// by handle where a member ID was needed; the names outlive the server,
// in the file, for `ooda export`.
func TestCLIShowsAndResolvesNames(t *testing.T) {
	fake := slacktest.New()
	defer fake.Close()
	fake.AddMember(slacktest.Member{ID: "U0ALICE", Handle: "alice.chen", RealName: "Alice Chen", DisplayName: "alice"})
	fake.AddMember(slacktest.Member{ID: "U0BOB", Handle: "bob.k", RealName: "Bob Kowalski", DisplayName: "bob"})
	fake.AddMember(slacktest.Member{ID: "U0BOB2", Handle: "bobby", RealName: "Bob Marley", DisplayName: "bob"})
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(t.TempDir(), "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.SlackBotToken = "xoxb-test-token"
	cfg.SlackSigningSecret = "signing-secret"
	cfg.SlackAPIURL = fake.URL()
	base, stop := serveInProcess(t, cfg)
	t.Setenv("OODA_URL", base)
	t.Setenv("OODA_API_TOKEN", cfg.APIToken)

	// The directory is refreshed at start-up, in the background: until
	// then the server says it knows nobody's names.
	var out string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var errOut string
		var err error
		out, errOut, err = runCmd(t, "incident", "declare", "sev2", "--commander", "@alice", "Checkout is down")
		if err == nil {
			break
		}
		require.Contains(t, err.Error()+errOut, "knows nobody's names yet", "the only refusal before the refresh")
		require.True(t, time.Now().Before(deadline), "the start-up refresh never came: %v", fake.CallsTo("users.list"))
		time.Sleep(20 * time.Millisecond)
	}
	assert.Contains(t, out, "INC-1 declared")
	assert.Contains(t, out, "Alice Chen (@alice) is Commander.")

	out, _, err := runCmd(t, "incident", "role", "INC-1", "ops", "@bob.k")
	require.NoError(t, err)
	assert.Equal(t, "INC-1: Bob Kowalski (@bob) is Ops.\n", out)

	_, _, err = runCmd(t, "incident", "role", "INC-1", "comms", "@bob")
	require.Error(t, err)
	assert.Equal(t, 1, exitCode(err))
	assert.Contains(t, err.Error(), "“@bob” could be 2 people: Bob Kowalski (@bob) `@U0BOB`, Bob Marley (@bob) `@U0BOB2`.")

	out, _, err = runCmd(t, "incident", "--color", "never", "timeline", "INC-1")
	require.NoError(t, err)
	assert.Contains(t, out, "Alice Chen (@alice)")
	assert.Contains(t, out, "Bob Kowalski (@bob) is Ops")

	out, _, err = runCmd(t, "incident", "roles", "INC-1")
	require.NoError(t, err)
	assert.Contains(t, out, "Commander: Alice Chen (@alice)")

	// The server stops; the file keeps the names.
	stop()
	draft := filepath.Join(t.TempDir(), "inc-1.md")
	_, _, err = runCmd(t, "export", "--db", cfg.DB, "--incident", "INC-1", "--format", "md", "-o", draft)
	require.NoError(t, err)
	md, err := os.ReadFile(draft)
	require.NoError(t, err)
	assert.Contains(t, string(md), "Alice Chen (@alice) is Commander")
	assert.False(t, strings.Contains(string(md), "shown by their Slack member ID"), "every name is known")

	js := filepath.Join(t.TempDir(), "inc-1.json")
	_, _, err = runCmd(t, "export", "--db", cfg.DB, "--incident", "1", "-o", js)
	require.NoError(t, err)
	raw, err := os.ReadFile(js)
	require.NoError(t, err)
	assert.Contains(t, string(raw), `"people": {`)
	assert.Contains(t, string(raw), `"U0ALICE": "Alice Chen (@alice)"`)
}
