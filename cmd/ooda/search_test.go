package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
)

// TestCLISearches: `ooda incident search` and `ooda incident similar` go
// through POST /api/v1/commands to the server's index, which its worker
// keeps in step with every command.
func TestCLISearches(t *testing.T) {
	dir := t.TempDir()
	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	t.Setenv("OODA_URL", startServer(t, cfg))
	t.Setenv("OODA_API_TOKEN", cfg.APIToken)

	for _, args := range [][]string{
		{"incident", "declare", "sev2", "--service", "checkout", "Checkout 502s"},
		{"incident", "observe", "INC-1", "connection pool exhausted on checkout-api"},
		{"incident", "declare", "sev3", "--service", "checkout", "Checkout slow again"},
	} {
		_, _, err := runCmd(t, args...)
		require.NoError(t, err, "%v", args)
	}
	var out string
	require.Eventually(t, func() bool {
		var err error
		out, _, err = runCmd(t, "incident", "search", "connection", "pool")
		return err == nil
	}, 30*time.Second, 50*time.Millisecond, "the index answers once it has read the store")
	require.Contains(t, out, "1 incident matches “connection pool”, newest first:")
	require.Contains(t, out, "INC-1 · SEV2 · investigating")
	require.Contains(t, out, "connection pool exhausted on checkout-api")

	out, _, err := runCmd(t, "incident", "similar", "INC-2")
	require.NoError(t, err)
	require.Contains(t, out, "Past incidents like INC-2")
	require.Contains(t, out, "INC-1")

	_, _, err = runCmd(t, "incident", "search")
	require.Equal(t, 2, exitCode(err), "the CLI parses before it sends: %v", err)
}
