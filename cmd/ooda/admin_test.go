package main

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/storage"
)

// serveDB runs `ooda serve` in-process on the database at path and
// returns its base URL and a stop that waits for it to end; the test's
// cleanup stops it too.
func serveDB(t *testing.T, path string) (string, func()) {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.DB = path
	cfg.APIToken = "admin-token-0123456789"
	base, stop := serveInProcess(t, cfg)
	t.Setenv("OODA_API_TOKEN", cfg.APIToken)
	return base, stop
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}

// TestBackupOverALiveDatabaseIsRefused: `ooda backup --url` aimed at the
// file the server it asks is using is refused, with --force too; the
// server keeps running, and an incident declared afterwards survives a
// restart.
func TestBackupOverALiveDatabaseIsRefused(t *testing.T) {
	path := seed(t)
	base, stop := serveDB(t, path)
	before := fileBytes(t, path)

	for _, args := range [][]string{
		{"backup", "--url", base, path},
		{"backup", "--url", base, "--force", path},
		{"backup", "--db", path, "--url", base, "--force", path},
	} {
		_, _, err := runCmd(t, args...)
		require.ErrorIs(t, err, storage.ErrInUse, "%v", args)
		require.ErrorContains(t, err, "a running ooda is using that file as its database")
		require.ErrorContains(t, err, "write the backup to another path")
	}
	require.Equal(t, before, fileBytes(t, path), "the live file is untouched")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left beside it")

	resp, err := http.Get(base + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "the server keeps running")
	out, _, err := runCmd(t, "incident", "--url", base, "declare", "sev3", "Declared after the refused backup")
	require.NoError(t, err)
	require.Contains(t, out, "INC-2 declared")

	stop()
	out, _, err = runCmd(t, "export", "--db", path, "--incident", "INC-2")
	require.NoError(t, err, "nothing was lost at the restart")
	require.Contains(t, out, "Declared after the refused backup")
}

// TestBackupThroughTheServer: a copy fetched with --url passes the
// consistency check; an existing file is replaced only with --force.
func TestBackupThroughTheServer(t *testing.T) {
	path := seed(t)
	base, _ := serveDB(t, path)
	dir := t.TempDir()

	fresh := filepath.Join(dir, "fresh.db")
	out, _, err := runCmd(t, "backup", "--url", base, fresh)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "backed up"))
	out, _, err = runCmd(t, "check", "--db", fresh)
	require.NoError(t, err, "the copy passes the consistency check")
	require.Equal(t, fresh+": ok\n", out)

	existing := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(existing, []byte("keep me"), 0o600))
	for _, args := range [][]string{
		{"backup", "--url", base, existing},
		{"backup", "--db", seed(t), existing},
	} {
		_, _, err = runCmd(t, args...)
		require.ErrorIs(t, err, storage.ErrExists, "%v", args)
		require.ErrorContains(t, err, "backup to "+existing+": a file is already there; pass --force to replace it, or choose a new path")
		require.Equal(t, "keep me", string(fileBytes(t, existing)))
	}
	_, _, err = runCmd(t, "backup", "--url", base, "--force", existing)
	require.NoError(t, err)
	_, _, err = runCmd(t, "check", "--db", existing)
	require.NoError(t, err)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary files left behind")
}

// TestAdminCommandsRefuseAMissingDatabase: check, export and backup say
// there is no database at a mistyped path, and create nothing there.
func TestAdminCommandsRefuseAMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	typo := filepath.Join(dir, "typo.db")
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"check", []string{"check", "--db", typo}},
		{"export json", []string{"export", "--db", typo, "--incident", "1"}},
		{"export md", []string{"export", "--db", typo, "--incident", "1", "--format", "md"}},
		{"backup", []string{"backup", "--db", typo, filepath.Join(dir, "copy.db")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _, err := runCmd(t, tc.args...)
			require.ErrorIs(t, err, os.ErrNotExist)
			require.ErrorContains(t, err, "no database at "+typo)
			require.NotContains(t, out, "ok")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			require.Empty(t, entries, "no file created")
		})
	}
}

// TestExportWhileServing: export of a file a server holds says how to get
// the same output from the server, and --url gets it, byte for byte.
func TestExportWhileServing(t *testing.T) {
	path := seed(t)
	local, _, err := runCmd(t, "export", "--db", path, "--incident", "INC-1")
	require.NoError(t, err)
	base, _ := serveDB(t, path)
	t.Setenv("OODA_URL", "")

	_, _, err = runCmd(t, "export", "--db", path, "--incident", "INC-1", "--format", "md")
	require.ErrorIs(t, err, storage.ErrLocked)
	require.ErrorContains(t, err, "get the same export from the server with `ooda export --url http://HOST:8080 --incident INC-1 --format md` (OODA_API_TOKEN set)")

	for _, args := range [][]string{
		{"export", "--db", path, "--url", base, "--incident", "INC-1"},
		{"export", "--url", base, "--incident", "1"},
	} {
		remote, _, err := runCmd(t, args...)
		require.NoError(t, err, "%v", args)
		require.Equal(t, local, remote, "the same JSON as the local export")
	}
	md, _, err := runCmd(t, "export", "--url", base, "--incident", "INC-1", "--format", "md")
	require.NoError(t, err)
	require.Contains(t, md, "# Post-mortem: INC-1 — Search is slow")
	htmlOut := filepath.Join(t.TempDir(), "inc-1.html")
	_, _, err = runCmd(t, "export", "--url", base, "--incident", "INC-1", "--format", "html", "-o", htmlOut)
	require.NoError(t, err)
	require.Contains(t, string(fileBytes(t, htmlOut)), `<meta http-equiv="Content-Security-Policy"`)

	_, _, err = runCmd(t, "export", "--url", base, "--incident", "INC-9")
	require.ErrorContains(t, err, "INC-9 does not exist")
}

// TestServeThatCannotListenCreatesNoDatabase: a serve whose address is
// taken fails before it opens the store.
func TestServeThatCannotListenCreatesNoDatabase(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	path := filepath.Join(t.TempDir(), "ooda.db")
	t.Setenv("OODA_API_TOKEN", "admin-token-0123456789")
	_, _, err = runCmd(t, "serve", "--db", path, "--listen", taken.Addr().String())
	require.ErrorContains(t, err, "listen "+taken.Addr().String())
	_, statErr := os.Stat(path)
	require.ErrorIs(t, statErr, os.ErrNotExist, "no database file created")
}
