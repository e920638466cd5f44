// Package storagetest opens the databases Ooda's tests use. Every test
// database goes through Open (or OpenPath), whose cleanup closes it and
// checks the file twice: bbolt's own consistency check on a fresh read-only
// handle, which owes nothing to Ooda's code, and storage's record check
// (storage.DB.Check), which folds every incident's events and compares
// them with its snapshot. A test that leaves a damaged file fails.
//
// It also runs writers in child processes that a test can kill mid-stream
// (StartProcess, RunCrashWriter), to prove that what was acknowledged
// survives.
package storagetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/storage"
)

// Open opens a new database in a temporary directory. When the test ends
// it is closed and its file checked (see the package documentation).
func Open(t testing.TB, opts ...storage.Options) *storage.DB {
	t.Helper()
	return OpenPath(t, filepath.Join(t.TempDir(), "ooda.db"), opts...)
}

// OpenPath opens the database at path, creating it when absent, with the
// same cleanup as Open. A test uses it to open a file a child process
// wrote, or one it prepared by hand.
func OpenPath(t testing.TB, path string, opts ...storage.Options) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, options(t, opts))
	require.NoError(t, err, "open test database")
	t.Cleanup(func() {
		require.NoError(t, db.Close(), "close test database")
		CheckFile(t, path)
	})
	return db
}

// Reopen closes db and opens its file again, as a restarted ooda would.
// The new handle is closed when the test ends, before the file is checked
// by the cleanup of the Open that created it.
func Reopen(t testing.TB, db *storage.DB, opts ...storage.Options) *storage.DB {
	t.Helper()
	require.NoError(t, db.Close(), "close before reopening")
	again, err := storage.Open(db.Path(), options(t, opts))
	require.NoError(t, err, "reopen test database")
	t.Cleanup(func() { _ = again.Close() })
	return again
}

// CheckFile fails the test unless the closed database at path passes
// bbolt's consistency check and storage's record check.
func CheckFile(t testing.TB, path string) {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	require.NoError(t, err, "open %s read-only for its check; is a handle still open?", path)
	var problems []error
	err = bdb.View(func(tx *bbolt.Tx) error {
		for e := range tx.Check() {
			problems = append(problems, e)
		}
		return nil
	})
	require.NoError(t, err)
	require.NoError(t, bdb.Close())
	require.Empty(t, problems, "bbolt check of %s", path)

	db, err := storage.Open(path, storage.Options{LockTimeout: 5 * time.Second})
	require.NoError(t, err, "open %s for its record check", path)
	defer db.Close()
	require.NoError(t, db.Check(context.Background()), "record check of %s", path)
}

func options(t testing.TB, opts []storage.Options) storage.Options {
	t.Helper()
	switch len(opts) {
	case 0:
		return storage.Options{}
	case 1:
		return opts[0]
	}
	t.Fatalf("storagetest: pass at most one storage.Options, not %d", len(opts))
	return storage.Options{}
}
