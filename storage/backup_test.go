package storage_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage"
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
	require.NoError(t, db.BackupFile(t.Context(), path, storage.FileOptions{}))
	apply(t, db, 1, "later", observe("after the first backup", "later"))
	require.NoError(t, db.BackupFile(t.Context(), path, storage.FileOptions{Replace: true}), "a second backup replaces the first")

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
	err := db.BackupFile(t.Context(), db.Path(), storage.FileOptions{Replace: true})
	require.ErrorContains(t, err, "that is the database itself")
}

func TestBackupCancelled(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k", "one")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	path := filepath.Join(t.TempDir(), "backup.db")
	require.ErrorIs(t, db.BackupFile(ctx, path, storage.FileOptions{}), context.Canceled)
	_, err := os.Stat(path)
	require.ErrorIs(t, err, os.ErrNotExist)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Empty(t, entries)
}

// TestBackupFileReplacesOnlyWhenAsked: an existing file is kept unless the
// caller asks for it to be replaced, and the refusal writes nothing.
func TestBackupFileReplacesOnlyWhenAsked(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k", "one")
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(path, []byte("keep me"), 0o600))

	err := db.BackupFile(t.Context(), path, storage.FileOptions{})
	require.ErrorIs(t, err, storage.ErrExists)
	require.ErrorContains(t, err, "backup to "+path+": a file is already there")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "keep me", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, db.BackupFile(t.Context(), path, storage.FileOptions{Replace: true}))
	storagetest.CheckFile(t, path)
}

// TestBackupNeverReplacesALiveDatabase: a backup aimed at the file a
// running ooda uses is refused even when replacing is allowed, and the
// database keeps everything written before and after.
func TestBackupNeverReplacesALiveDatabase(t *testing.T) {
	src := storagetest.Open(t)
	declare(t, src, "s", "the source")
	copyDB := func(w io.Writer) (int64, error) { return src.Backup(t.Context(), w) }

	t.Run("held by another process", func(t *testing.T) {
		live := filepath.Join(t.TempDir(), "live.db")
		holder := storagetest.StartProcess(t, live, func(db *storage.DB, ack func(string)) {
			ack("holding")
			storagetest.Idle()
		})
		require.Equal(t, "holding", holder.Ack())
		before, err := os.ReadFile(live)
		require.NoError(t, err)

		_, err = storage.WriteBackupFile(t.Context(), live, storage.FileOptions{Replace: true}, copyDB)
		require.ErrorIs(t, err, storage.ErrInUse)
		require.ErrorContains(t, err, "backup to "+live+": a running ooda is using that file as its database")
		require.ErrorContains(t, err, "write the backup to another path")
		if _, statErr := os.Stat("/proc/locks"); runtime.GOOS == "linux" && statErr == nil {
			require.ErrorContains(t, err, fmt.Sprintf("(pid %d)", holder.Pid()), "the holder is named")
		}
		after, err := os.ReadFile(live)
		require.NoError(t, err)
		require.Equal(t, before, after, "the live file is untouched")
		entries, err := os.ReadDir(filepath.Dir(live))
		require.NoError(t, err)
		require.Len(t, entries, 1, "no temporary file left behind")
	})

	t.Run("held in this process", func(t *testing.T) {
		live := storagetest.Open(t)
		declare(t, live, "a", "before the backup")
		_, err := storage.WriteBackupFile(t.Context(), live.Path(), storage.FileOptions{Replace: true}, copyDB)
		require.ErrorIs(t, err, storage.ErrInUse)
		declare(t, live, "b", "after the refused backup")
		live = storagetest.Reopen(t, live)
		all, err := live.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, all, 2, "nothing written before or after the refusal is lost")
		inc, err := live.Incident(t.Context(), 2)
		require.NoError(t, err)
		require.Equal(t, "after the refused backup", inc.Title)
	})

	t.Run("a closed database is an ordinary file", func(t *testing.T) {
		db := storagetest.Open(t)
		path := db.Path()
		require.NoError(t, db.Close())
		start := time.Now()
		_, err := storage.WriteBackupFile(t.Context(), path, storage.FileOptions{}, copyDB)
		require.ErrorIs(t, err, storage.ErrExists)
		_, err = storage.WriteBackupFile(t.Context(), path, storage.FileOptions{Replace: true}, copyDB)
		require.NoError(t, err)
		require.Less(t, time.Since(start), 2*time.Second, "a free file is not waited on")
		storagetest.CheckFile(t, path)
	})
}
