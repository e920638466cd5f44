package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// TestUnreadableSessionIsSweptNotFatal: a session record that cannot be
// decoded lets no one in, and does not stop the expiry and revocation of
// the records around it: it is deleted with them.
func TestUnreadableSessionIsSweptNotFatal(t *testing.T) {
	db := storagetest.Open(t)
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	for _, id := range []string{"aaaa", "cccc"} {
		require.NoError(t, db.SaveSession(t.Context(), storage.Session{ID: id, User: "U0ALICE", Team: "T1", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
	}
	require.NoError(t, db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("sessions")).Put([]byte("bbbb"), []byte("{not json"))
	}))

	n, err := db.ExpireSessions(t.Context(), now.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, 3, n, "both expired sessions and the unreadable one")
	_, ok, err := db.Session(t.Context(), "aaaa")
	require.NoError(t, err)
	require.False(t, ok)

	require.NoError(t, db.Bolt().Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("sessions")).Put([]byte("dddd"), []byte("{not json"))
	}))
	n, err = db.DeleteSessions(t.Context(), "U0BOB")
	require.NoError(t, err, "revoking Bob is not stopped by a record no one can read")
	require.Equal(t, 1, n)
}
