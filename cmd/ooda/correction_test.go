package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
)

// TestCLICorrectsTheTimeline: from a terminal, the timeline numbers the
// entries, `amend`, `strike` and `--at` correct them, the timeline shows
// the result, and `ooda export` carries the audit trail.
func TestCLICorrectsTheTimeline(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("ci-bot: 0123456789abcdef0123\n"), 0o600))
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.APITokensFile = tokens
	base := startServer(t, cfg)
	t.Setenv("OODA_URL", base)
	t.Setenv("OODA_API_TOKEN", "0123456789abcdef0123")

	for _, args := range [][]string{
		{"incident", "declare", "sev2", "Checkout down"},
		{"incident", "act", "INC-1", "failover to eu-west started"},
		{"incident", "note", "INC-1", "bridge on the wrong call"},
		{"incident", "observe", "INC-1", "--at", "-5m", "first 502s"},
	} {
		_, _, err := runCmd(t, args...)
		require.NoError(t, err, "%v", args)
	}
	out, _, err := runCmd(t, "incident", "timeline", "INC-1")
	require.NoError(t, err)
	act := regexp.MustCompile(`(#\d+) +act +api:ci-bot +failover to eu-west started`).FindStringSubmatch(out)
	note := regexp.MustCompile(`(#\d+) +- +api:ci-bot +Note: bridge on the wrong call`).FindStringSubmatch(out)
	require.NotNil(t, act, "the act entry carries its number:\n%s", out)
	require.NotNil(t, note, "the note carries its number:\n%s", out)
	require.Regexp(t, `observe +api:ci-bot +first 502s \(written \d\d:\d\d UTC\)`, out, "a backdated entry says when it was written")

	out, _, err = runCmd(t, "incident", "amend", "INC-1", act[1], "failover to eu-central started")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1: "+act[1]+" amended: it now reads “failover to eu-central started” (was “failover to eu-west started”)")
	_, _, err = runCmd(t, "incident", "strike", "INC-1", note[1], "another incident's bridge")
	require.NoError(t, err)
	_, _, err = runCmd(t, "incident", "amend", "INC-1", note[1], "x")
	require.Error(t, err)
	require.Contains(t, err.Error(), note[1]+` was struck by the API token "ci-bot"`)
	require.Contains(t, err.Error(), "HTTP 409")

	out, _, err = runCmd(t, "incident", "timeline", "INC-1")
	require.NoError(t, err)
	require.Contains(t, out, "failover to eu-central started (amended)")
	require.Contains(t, out, "Note: bridge on the wrong call (struck by api:ci-bot: another incident's bridge)")

	js, _, err := runCmd(t, "export", "--url", base, "--incident", "INC-1")
	require.NoError(t, err)
	var inc api.IncidentWithEvents
	require.NoError(t, json.Unmarshal([]byte(js), &inc))
	require.Len(t, inc.Corrections, 3, "the backdated entry, the amendment and the strike")
	md, _, err := runCmd(t, "export", "--url", base, "--incident", "INC-1", "--format", "md")
	require.NoError(t, err)
	require.Contains(t, md, "## Corrections")
	require.Contains(t, md, "struck by the API token ci-bot")
}
