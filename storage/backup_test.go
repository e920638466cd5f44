package storage_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

func TestBackupWhileWriting(t *testing.T) {
	db := storagetest.Open(t)
	const writers = 4
	for w := range writers {
		declare(t, db, fmt.Sprintf("d%d", w), fmt.Sprintf("incident %d", w))
	}

	// Writers keep committing until every backup is taken; the backups
	// start once each has committed.
	stop := make(chan struct{})
	var wg, started sync.WaitGroup
	errs := make(chan error, writers)
	started.Add(writers)
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				if i == 1 {
					started.Done()
				}
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				if _, err := db.Apply(context.Background(), uint64(w+1), key, observe("still writing", key)); err != nil {
					errs <- err
					if i == 0 {
						started.Done()
					}
					return
				}
			}
		})
	}
	started.Wait()

	dir := t.TempDir()
	var paths []string
	for i := range 3 {
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		require.NoError(t, db.BackupFile(t.Context(), path))
		paths = append(paths, path)
	}
	var buf bytes.Buffer
	n, err := db.Backup(t.Context(), &buf)
	require.NoError(t, err)
	require.Equal(t, int64(buf.Len()), n)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	streamed := filepath.Join(dir, "streamed.db")
	require.NoError(t, os.WriteFile(streamed, buf.Bytes(), 0o600))
	for _, path := range append(paths, streamed) {
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), path)
		// Opening through storagetest checks the copy at cleanup; a copy
		// is a database in its own right.
		copyDB := storagetest.OpenPath(t, path)
		requireConsistent(t, copyDB)
		all, err := copyDB.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, all, writers)
		require.NoError(t, copyDB.Check(t.Context()))
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, len(paths)+1, "no temporary files left behind")
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

// TestCheckFindsDamage damages records behind the store's back, checks
// that Check names each problem, and repairs them for the cleanup's check.
func TestCheckFindsDamage(t *testing.T) {
	be := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	tests := []struct {
		name   string
		damage func(tx *bbolt.Tx) error
		want   string
	}{
		{"a missing event", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("events")).Bucket(be(1)).Delete(be(2))
		}, "INC-1: event 3 follows 1"},
		{"a stale snapshot", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("events")).Bucket(be(1)).Delete(be(3))
		}, "INC-1: snapshot says the last event is 3 but the log ends at 2"},
		{"a snapshot that lies", func(tx *bbolt.Tx) error {
			b := tx.Bucket([]byte("incidents"))
			v := bytes.Replace(b.Get(be(1)), []byte(`"title":"one"`), []byte(`"title":"two"`), 1)
			return b.Put(be(1), v)
		}, "INC-1: snapshot differs from the fold of its 3 events"},
		{"a reused number", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("meta")).Put([]byte("next_incident"), be(1))
		}, "INC-1: meta/next_incident is 1"},
		{"a dangling channel", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("channels")).Put([]byte("C9"), be(7))
		}, "channels: C9 points to INC-7"},
		{"a dangling key", func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("dedupe")).Put([]byte("k9"), []byte(`{"incident":1,"first_seq":9,"count":1}`))
		}, `dedupe: "k9" points to events 9+1 of INC-1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := storagetest.Open(t)
			declare(t, db, "k", "one")
			apply(t, db, 1, "k2", observe("x", "k2"))
			require.NoError(t, db.Check(t.Context()))

			// Damage a copy of the file, so the original stays sound for
			// the cleanup's check.
			var buf bytes.Buffer
			_, err := db.Backup(t.Context(), &buf)
			require.NoError(t, err)
			path := filepath.Join(t.TempDir(), "damaged.db")
			require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o600))
			bdb, err := bbolt.Open(path, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, bdb.Update(tt.damage))
			require.NoError(t, bdb.Close())

			damaged, err := storage.Open(path, storage.Options{})
			require.NoError(t, err)
			defer damaged.Close()
			require.ErrorContains(t, damaged.Check(t.Context()), tt.want)
		})
	}
}

func TestExpireDedupe(t *testing.T) {
	clk := resiliencetest.NewClock(t0)
	db := storagetest.Open(t, storage.Options{Now: clk.Now})
	ctx := t.Context()
	declare(t, db, "old-1", "one")
	apply(t, db, 1, "old-2", observe("x", "old-2"))
	clk.Advance(48 * time.Hour)
	apply(t, db, 1, "new-1", observe("y", "new-1"))

	dropped, err := db.ExpireDedupe(ctx, clk.Now().Add(-24*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 2, dropped)
	require.Equal(t, 1, counts(t, db)["dedupe"])

	again := apply(t, db, 1, "new-1", observe("y", "new-1"))
	require.True(t, again.Duplicate, "a recent key still deduplicates")
	// An expired key records again: it is outside the window retries
	// arrive in.
	res := apply(t, db, 1, "old-2", observe("x", "old-2"))
	require.False(t, res.Duplicate)

	none, err := db.ExpireDedupe(ctx, t0)
	require.NoError(t, err)
	require.Zero(t, none)
}
