package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/storage"
)

// TestSessionsRevoke: `ooda sessions revoke` ends every web session of
// one person through a running server, needs an admin token, and leaves
// other people's sessions alone.
func TestSessionsRevoke(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ooda.db")
	db, err := storage.Open(path, storage.Options{})
	require.NoError(t, err)
	now := time.Now().UTC()
	for id, user := range map[string]string{"s1": "U0ALICE01", "s2": "U0ALICE01", "s3": "U0BOB0001"} {
		require.NoError(t, db.SaveSession(context.Background(), storage.Session{ID: id, User: user, Team: "T1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	require.NoError(t, db.Close())

	tokens := filepath.Join(dir, "tokens.yaml")
	require.NoError(t, os.WriteFile(tokens, []byte("ci-bot: 0123456789abcdef0123\n"), 0o600))
	cfg := app.DefaultConfig()
	cfg.DB = path
	cfg.APIToken = "admin-token-0123456789"
	cfg.APITokensFile = tokens
	base, stop := serveInProcess(t, cfg)
	t.Setenv("OODA_URL", base)

	t.Setenv("OODA_API_TOKEN", "0123456789abcdef0123")
	_, _, err = runCmd(t, "sessions", "revoke", "U0ALICE01")
	require.ErrorContains(t, err, "HTTP 403", "a token without the admin scope cannot sign people out")

	t.Setenv("OODA_API_TOKEN", "admin-token-0123456789")
	_, _, err = runCmd(t, "sessions", "revoke", "@nobody")
	require.ErrorContains(t, err, "user=U0123ABCD", "a name Ooda cannot resolve gets the sentence with what to type")
	out, _, err := runCmd(t, "sessions", "revoke", "U0ALICE01")
	require.NoError(t, err)
	require.Contains(t, out, "Ended 2 web session(s) of U0ALICE01")
	_, _, err = runCmd(t, "sessions", "list")
	require.Equal(t, 2, exitCode(err))

	stop()
	db, err = storage.Open(path, storage.Options{})
	require.NoError(t, err)
	defer db.Close()
	for id, want := range map[string]bool{"s1": false, "s2": false, "s3": true} {
		_, ok, err := db.Session(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, want, ok, id)
	}
}
