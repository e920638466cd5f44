package storage_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

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
		{"a person filed under another's id", func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("people"))
			if err != nil {
				return err
			}
			return b.Put([]byte("U0BOB"), []byte(`{"id":"U0ALICE","handle":"alice"}`))
		}, `people: person U0BOB: the record names "U0ALICE"`},
		{"a person that does not decode", func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("people"))
			if err != nil {
				return err
			}
			return b.Put([]byte("U0BOB"), []byte(`{"id":`))
		}, `people: person U0BOB: unexpected end of JSON input`},
		{"a session filed under another's id", func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("sessions"))
			if err != nil {
				return err
			}
			return b.Put([]byte("s1"), []byte(`{"id":"s2","user":"U0ALICE"}`))
		}, `sessions: "s1": session s1: the record names "s2"`},
		{"a session of no one", func(tx *bbolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte("sessions"))
			if err != nil {
				return err
			}
			return b.Put([]byte("s1"), []byte(`{"id":"s1"}`))
		}, `sessions: "s1": storage: a session needs the member ID of its user`},
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

func TestCheckCancelled(t *testing.T) {
	db := storagetest.Open(t)
	declare(t, db, "k", "one")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, db.Check(ctx), context.Canceled)
}
