package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
)

// TestCLIWorksActionItems: `ooda incident action …` and `ooda incident
// actions …` send the grammar to the API like every other command; a
// read-only token may list items but not change them, and `mine` (a
// token owns nothing) says what to ask instead.
func TestCLIWorksActionItems(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("ci-bot: 0123456789abcdef0123\nviewer: {token: fedcba9876543210fedc, scopes: [read]}\n"), 0o600))
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.APITokensFile = tokens
	t.Setenv("OODA_URL", startServer(t, cfg))
	t.Setenv("OODA_API_TOKEN", "0123456789abcdef0123")

	_, _, err := runCmd(t, "incident", "declare", "sev2", "--service", "checkout", "Checkout down")
	require.NoError(t, err)
	out, _, err := runCmd(t, "incident", "action", "INC-1", "alert on pool saturation", "@U0BOB000001", "P1", "due", "+3d")
	require.NoError(t, err)
	require.Contains(t, out, "INC-1: action 1 added (P1, @U0BOB000001, due ")
	_, _, err = runCmd(t, "incident", "action", "INC-1", "write the runbook")
	require.NoError(t, err)
	out, _, err = runCmd(t, "incident", "action", "INC-1", "link", "1", "https://tracker.example.com/OPS-7")
	require.NoError(t, err)
	require.Equal(t, "INC-1: action 1 is tracked at https://tracker.example.com/OPS-7.\n", out)
	out, _, err = runCmd(t, "incident", "action", "INC-1", "done", "2")
	require.NoError(t, err)
	require.Equal(t, "INC-1: action 2 is done.\n", out)

	out, _, err = runCmd(t, "incident", "actions", "--service", "checkout")
	require.NoError(t, err)
	require.Contains(t, out, "1 open action item (service checkout), overdue first:\n• INC-1 #1 P1 · due ")
	require.Contains(t, out, " · @U0BOB000001 · “alert on pool saturation”", "the terminal gets no Slack markup")
	out, _, err = runCmd(t, "incident", "actions", "all")
	require.NoError(t, err)
	require.Contains(t, out, "• INC-1 #2 P2 · done · no owner · “write the runbook”")

	_, _, err = runCmd(t, "incident", "actions", "mine")
	require.Error(t, err)
	require.Contains(t, err.Error(), "GET /api/v1/actions?owner=")

	t.Setenv("OODA_API_TOKEN", "fedcba9876543210fedc")
	out, _, err = runCmd(t, "incident", "actions")
	require.NoError(t, err, "listing changes nothing: read is enough")
	require.Contains(t, out, "INC-1 #1")
	_, _, err = runCmd(t, "incident", "action", "INC-1", "done", "1")
	require.Error(t, err)
	require.Contains(t, err.Error(), "lacks the write scope")
}
