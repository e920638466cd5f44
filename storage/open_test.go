package storage_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// realFile makes a database with a few incidents through storagetest and
// returns its bytes and the size its last commit needs (bbolt's tx.Size).
func realFile(t *testing.T) (data []byte, needed int64) {
	t.Helper()
	db := storagetest.Open(t)
	for i := range 20 {
		res := declare(t, db, fmt.Sprintf("d%d", i), fmt.Sprintf("incident %d", i))
		for j := range 10 {
			apply(t, db, res.Incident.Number, fmt.Sprintf("e%d-%d", i, j), observe("a long enough observation to fill some pages", fmt.Sprintf("e%d-%d", i, j)))
		}
	}
	require.NoError(t, db.Bolt().View(func(tx *bbolt.Tx) error {
		needed = tx.Size()
		return nil
	}))
	require.NoError(t, db.Close())
	data, err := os.ReadFile(db.Path())
	require.NoError(t, err)
	return data, needed
}

func TestOpenRefusesBadFiles(t *testing.T) {
	real, needed := realFile(t)
	page := int64(os.Getpagesize())
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}
	flipMetas := func() []byte {
		b := append([]byte(nil), real...)
		// A byte inside each meta page's checksummed fields.
		b[16+20] ^= 0xff
		b[page+16+20] ^= 0xff
		return b
	}
	foreign := func(t *testing.T) []byte {
		path := filepath.Join(t.TempDir(), "other.db")
		bdb, err := bbolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucket([]byte("widgets"))
			if err != nil {
				return err
			}
			return b.Put([]byte("w1"), []byte("blue"))
		}))
		require.NoError(t, bdb.Close())
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		return b
	}
	tests := []struct {
		name   string
		data   func(t *testing.T) []byte
		reason string
	}{
		{"ten bytes of garbage", func(*testing.T) []byte { return garbage(10) }, "too short"},
		{"a page of garbage", func(*testing.T) []byte { return garbage(4096) }, "no bbolt header"},
		{"a megabyte of garbage", func(*testing.T) []byte { return garbage(1 << 20) }, "no bbolt header"},
		{"a text file", func(*testing.T) []byte { return []byte("incident notes\nnothing to see\n" + string(make([]byte, 200))) }, "no bbolt header"},
		{"truncated to 100 bytes", func(*testing.T) []byte { return real[:100] }, ""},
		{"truncated to one page", func(*testing.T) []byte { return real[:page] }, "truncated"},
		{"truncated to its meta pages", func(*testing.T) []byte { return real[:2*page] }, "truncated"},
		{"truncated to half", func(*testing.T) []byte { return real[:needed/2] }, "truncated"},
		{"missing its last page", func(*testing.T) []byte { return real[:needed-page] }, "truncated"},
		{"both meta pages damaged", func(*testing.T) []byte { return flipMetas() }, "checksum"},
		{"meta pages zeroed", func(*testing.T) []byte {
			b := append([]byte(nil), real...)
			clear(b[:2*page])
			return b
		}, "no bbolt header"},
		{"another program's bbolt file", foreign, "without Ooda's meta bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ooda.db")
			require.NoError(t, os.WriteFile(path, tt.data(t), 0o600))
			var err error
			require.NotPanics(t, func() {
				var db *storage.DB
				db, err = storage.Open(path, storage.Options{LockTimeout: 200 * time.Millisecond})
				if err == nil {
					_ = db.Close()
				}
			})
			require.ErrorIs(t, err, storage.ErrCorrupt)
			require.NotErrorIs(t, err, storage.ErrLocked)
			require.ErrorContains(t, err, "open "+path+": not an Ooda database or damaged (")
			require.ErrorContains(t, err, "restore from a backup made with ooda backup")
			require.ErrorContains(t, err, tt.reason)
		})
	}
}

func TestOpenSchemaTooNew(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k1", "one")
	setSchema(t, db, 9)

	_, err := storage.Open(db.Path(), storage.Options{})
	require.ErrorIs(t, err, storage.ErrSchemaTooNew)
	require.EqualError(t, err, fmt.Sprintf("open %s: schema version 9 is newer than this ooda understands (%d); upgrade ooda", db.Path(), storage.SchemaVersion))

	// Put the file back as this build wrote it, for the cleanup's check.
	setSchema(t, db, storage.SchemaVersion)
}

// setSchema closes db and writes v as its file's schema version.
func setSchema(t *testing.T, db *storage.DB, v uint64) {
	t.Helper()
	require.NoError(t, db.Close())
	bdb, err := bbolt.Open(db.Path(), 0o600, &bbolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, bdb.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), binary.BigEndian.AppendUint64(nil, v))
	}))
	require.NoError(t, bdb.Close())
}

func TestMigrations(t *testing.T) {
	db := storagetest.Open(t)
	path := db.Path()
	declare(t, db, "k1", "one")
	require.NoError(t, db.Close())

	var runs int
	step2 := func(tx *bbolt.Tx) error {
		runs++
		return tx.Bucket([]byte("meta")).Put([]byte("v2"), []byte("done"))
	}
	failing := func(tx *bbolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("half"), []byte("written")); err != nil {
			return err
		}
		return fmt.Errorf("disk says no")
	}

	t.Run("a failed step leaves the file as it was", func(t *testing.T) {
		_, err := storage.OpenWithMigrations(path, storage.Options{}, failing)
		require.ErrorContains(t, err, fmt.Sprintf("migrate schema %d to %d: disk says no", storage.SchemaVersion, storage.SchemaVersion+1))
		require.Equal(t, storage.SchemaVersion, readSchema(t, path))
		require.Empty(t, readMeta(t, path, "half"), "the step's writes were rolled back")
	})
	t.Run("a new step runs once", func(t *testing.T) {
		for range 2 {
			db, err := storage.OpenWithMigrations(path, storage.Options{}, step2)
			require.NoError(t, err)
			_, err = db.Incident(t.Context(), 1)
			require.NoError(t, err, "data survives the migration")
			require.NoError(t, db.Close())
		}
		require.Equal(t, 1, runs)
		require.Equal(t, storage.SchemaVersion+1, readSchema(t, path))
		require.Equal(t, "done", readMeta(t, path, "v2"))
	})
	t.Run("an older ooda refuses the newer file", func(t *testing.T) {
		_, err := storage.Open(path, storage.Options{})
		require.ErrorIs(t, err, storage.ErrSchemaTooNew)
		require.ErrorContains(t, err, fmt.Sprintf("schema version %d is newer than this ooda understands (%d)", storage.SchemaVersion+1, storage.SchemaVersion))
	})
	setSchema(t, db, storage.SchemaVersion)
}

func readMeta(t *testing.T, path, key string) string {
	t.Helper()
	bdb, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, Timeout: time.Second})
	require.NoError(t, err)
	defer bdb.Close()
	var v []byte
	require.NoError(t, bdb.View(func(tx *bbolt.Tx) error {
		v = append(v, tx.Bucket([]byte("meta")).Get([]byte(key))...)
		return nil
	}))
	return string(v)
}

func readSchema(t *testing.T, path string) uint64 {
	t.Helper()
	v := readMeta(t, path, "schema")
	require.Len(t, v, 8)
	return binary.BigEndian.Uint64([]byte(v))
}

func TestOpenCreatesAndAdopts(t *testing.T) {
	t.Run("a new file is 0600 at the current schema", func(t *testing.T) {
		db := storagetest.Open(t)
		st, err := os.Stat(db.Path())
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		require.NoError(t, db.Close())
		require.Equal(t, storage.SchemaVersion, readSchema(t, db.Path()))
	})
	t.Run("an empty file becomes a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ooda.db")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		db := storagetest.OpenPath(t, path)
		require.Equal(t, uint64(1), declare(t, db, "k", "first").Incident.Number)
	})
	t.Run("an empty bbolt file becomes a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "ooda.db")
		bdb, err := bbolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, bdb.Close())
		db := storagetest.OpenPath(t, path)
		require.Equal(t, uint64(1), declare(t, db, "k", "first").Incident.Number)
	})
	t.Run("opening a current file writes nothing", func(t *testing.T) {
		db := storagetest.Open(t)
		declare(t, db, "k", "first")
		require.NoError(t, db.Close())
		before, err := os.ReadFile(db.Path())
		require.NoError(t, err)
		db = storagetest.OpenPath(t, db.Path())
		require.NoError(t, db.Close())
		after, err := os.ReadFile(db.Path())
		require.NoError(t, err)
		require.Equal(t, before, after)
	})
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ooda.db")
	holder := storagetest.StartProcess(t, path, func(db *storage.DB, ack func(string)) {
		ack("holding")
		storagetest.Idle()
	})
	require.Equal(t, "holding", holder.Ack())

	t.Run("by another process", func(t *testing.T) {
		start := time.Now()
		_, err := storage.Open(path, storage.Options{LockTimeout: 200 * time.Millisecond})
		t.Logf("refused after %v", time.Since(start))
		require.ErrorIs(t, err, storage.ErrLocked)
		require.NotErrorIs(t, err, storage.ErrCorrupt)
		require.ErrorContains(t, err, "open "+path+": the database is in use by another process (pid ")
		require.ErrorContains(t, err, "); stop the other ooda or point --db elsewhere")
		if _, statErr := os.Stat("/proc/locks"); runtime.GOOS == "linux" && statErr == nil {
			require.ErrorContains(t, err, fmt.Sprintf("(pid %d)", holder.Pid()), "the holder is named")
		}
	})

	holder.Kill()
	db := storagetest.OpenPath(t, path)

	t.Run("by this process", func(t *testing.T) {
		// flock locks belong to an open file, not a process, so a second
		// handle in the same process is refused too.
		_, err := storage.Open(path, storage.Options{LockTimeout: 200 * time.Millisecond})
		require.ErrorIs(t, err, storage.ErrLocked)
	})
	require.Equal(t, uint64(1), declare(t, db, "k", "after the holder died").Incident.Number)
}

// TestOpenReadOnly: what check and export open never creates, upgrades or
// writes a file, and a missing one is named as such.
func TestOpenReadOnly(t *testing.T) {
	t.Run("a missing file is refused and not created", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "typo.db")
		_, err := storage.OpenReadOnly(path, storage.Options{})
		require.ErrorIs(t, err, os.ErrNotExist)
		require.ErrorContains(t, err, "no database at "+path)
		_, statErr := os.Stat(path)
		require.ErrorIs(t, statErr, os.ErrNotExist)
	})
	t.Run("an empty file is not a database", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "empty.db")
		require.NoError(t, os.WriteFile(path, nil, 0o600))
		_, err := storage.OpenReadOnly(path, storage.Options{})
		require.ErrorIs(t, err, storage.ErrCorrupt)
		st, err := os.Stat(path)
		require.NoError(t, err)
		require.Zero(t, st.Size(), "the file stays empty")
	})
	t.Run("a current file is read and checked without a write", func(t *testing.T) {
		db := storagetest.Open(t)
		declare(t, db, "k", "first")
		require.NoError(t, db.Close())
		before, err := os.ReadFile(db.Path())
		require.NoError(t, err)
		ro, err := storage.OpenReadOnly(db.Path(), storage.Options{})
		require.NoError(t, err)
		inc, err := ro.Incident(t.Context(), 1)
		require.NoError(t, err)
		require.Equal(t, "first", inc.Title)
		require.NoError(t, ro.Check(t.Context()))
		require.NoError(t, ro.Close())
		after, err := os.ReadFile(db.Path())
		require.NoError(t, err)
		require.Equal(t, before, after)
	})
	t.Run("an older schema is not upgraded", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		bdb, err := bbolt.Open(path, 0o600, nil)
		require.NoError(t, err)
		require.NoError(t, bdb.Close())
		_, err = storage.OpenReadOnly(path, storage.Options{})
		require.ErrorContains(t, err, "run ooda serve on it once, which upgrades it")
	})
	t.Run("a file a server holds is locked", func(t *testing.T) {
		db := storagetest.Open(t)
		_, err := storage.OpenReadOnly(db.Path(), storage.Options{LockTimeout: 100 * time.Millisecond})
		require.ErrorIs(t, err, storage.ErrLocked)
	})
}
