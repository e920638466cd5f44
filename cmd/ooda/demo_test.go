package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDemoKeepsItsDatabase(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	path := filepath.Join(t.TempDir(), "demo.db")
	_, _, err := runCmd(t, "demo", "--db", path)
	require.NoError(t, err)

	out, _, err := runCmd(t, "export", "--db", path, "--incident", "INC-1", "--format", "md")
	require.NoError(t, err)
	require.Contains(t, out, "checkout SLO burning")
	require.Contains(t, out, "| act | Ops | rollback to v2.30.4 started (deploy \\#8813) (amended) |", "the corrected entry")
	require.Contains(t, out, "\n## Corrections\n", "and its audit note")
	require.Contains(t, out, "was “rollback to v2.30.4 started (deploy \\#8812)”")

	_, _, err = runCmd(t, "demo", "--db", path)
	require.Equal(t, 2, exitCode(err), "a database that saw the script would take it for Slack's retries")
	require.ErrorContains(t, err, "fresh database")
}
