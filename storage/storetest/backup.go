package storetest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage"
)

// testBackupWhileWriting takes backups while writers keep committing.
// Every backup, whatever the backend, is a file that storage.Open opens
// and Check accepts, holding the incidents as of one moment; one taken at
// rest holds exactly what the store holds.
func testBackupWhileWriting(t *testing.T, b *suite) {
	db := b.open(t)
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

	var backups [][]byte
	for range 3 {
		var buf bytes.Buffer
		n, err := db.Backup(t.Context(), &buf)
		require.NoError(t, err)
		require.Equal(t, int64(buf.Len()), n)
		backups = append(backups, buf.Bytes())
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	dir := t.TempDir()
	for i, data := range backups {
		path := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		require.NoError(t, os.WriteFile(path, data, 0o600))
		// A copy is a database in its own right.
		copyDB, err := storage.Open(path, storage.Options{})
		require.NoError(t, err, "storage.Open reads backup %d", i)
		t.Cleanup(func() { require.NoError(t, copyDB.Close()) })
		require.NoError(t, copyDB.Check(t.Context()))
		RequireConsistent(t, copyDB)
		all, err := copyDB.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, all, writers)
	}

	// At rest, the backup holds what the store holds.
	want, err := db.Incidents(t.Context(), true)
	require.NoError(t, err)
	wantPending, err := db.Pending(t.Context(), 0)
	require.NoError(t, err)
	inBackup(t, t.Context(), db, func(backup *storage.DB) {
		got, err := backup.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, got, len(want))
		for i := range want {
			requireSameState(t, want[i], got[i], "%s in the backup", want[i].ID)
			wantEvents, err := db.Events(t.Context(), want[i].Number, 1)
			require.NoError(t, err)
			gotEvents, err := backup.Events(t.Context(), want[i].Number, 1)
			require.NoError(t, err)
			require.Equal(t, wantEvents, gotEvents, "%s's events in the backup", want[i].ID)
		}
		gotPending, err := backup.Pending(t.Context(), 0)
		require.NoError(t, err)
		require.Equal(t, len(wantPending), len(gotPending), "the outbox in the backup")
		for i := range wantPending {
			require.Equal(t, wantPending[i].Effect, gotPending[i].Effect, "the outbox in the backup, in commit order")
		}
	})
}
