package storage_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/storage/storetest"
)

// TestBackupFile proves what BackupFile adds to Backup (whose contract,
// writers included, the conformance suite proves): a file of mode 0600,
// written beside its path and renamed into place, that replaces the
// previous backup and leaves no temporary file behind.
func TestBackupFile(t *testing.T) {
	db := storagetest.Open(t)
	const incidents = 3
	for i := range incidents {
		declare(t, db, fmt.Sprintf("d%d", i), fmt.Sprintf("incident %d", i))
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "backup.db")
	require.NoError(t, db.BackupFile(t.Context(), path))
	apply(t, db, 1, "later", observe("after the first backup", "later"))
	require.NoError(t, db.BackupFile(t.Context(), path), "a second backup replaces the first")

	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	// Opening through storagetest checks the copy at cleanup.
	copyDB := storagetest.OpenPath(t, path)
	storetest.RequireConsistent(t, copyDB)
	all, err := copyDB.Incidents(t.Context(), true)
	require.NoError(t, err)
	require.Len(t, all, incidents)
	inc, err := copyDB.Incident(t.Context(), 1)
	require.NoError(t, err)
	want, err := db.Incident(t.Context(), 1)
	require.NoError(t, err)
	require.Equal(t, want.LastSeq, inc.LastSeq, "the second backup is the one kept")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")
}

func TestBackupFileRefusesTheDatabaseItself(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k", "one")
	err := db.BackupFile(t.Context(), db.Path())
	require.ErrorContains(t, err, "that is the database itself")
}

func TestBackupCancelled(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k", "one")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	path := filepath.Join(t.TempDir(), "backup.db")
	require.ErrorIs(t, db.BackupFile(ctx, path), context.Canceled)
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Empty(t, entries)
}
