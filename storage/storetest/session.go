package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage"
)

// session is a session of user named, as the web UI names them, by the
// hash of its cookie's secret.
func session(secret, user string, expires time.Time) storage.Session {
	sum := sha256.Sum256([]byte(secret))
	return storage.Session{
		ID:        hex.EncodeToString(sum[:]),
		User:      user,
		Team:      "T0OODA",
		Name:      user + " (name)",
		CreatedAt: t0,
		ExpiresAt: expires,
	}
}

func requireSession(t *testing.T, db storage.Store, want storage.Session, msg string) {
	t.Helper()
	got, ok, err := db.Session(t.Context(), want.ID)
	require.NoError(t, err)
	require.True(t, ok, "%s: session of %s is there", msg, want.User)
	assert.Equal(t, want, got, msg)
}

func requireNoSession(t *testing.T, db storage.Store, id, msg string) {
	t.Helper()
	got, ok, err := db.Session(t.Context(), id)
	require.NoError(t, err)
	require.False(t, ok, msg)
	assert.Zero(t, got, msg)
}

// A session is found by its ID with every field it was saved with, is
// replaced whole by a save under the same ID, and survives a restart and
// a backup: a deploy does not sign everyone out.
func testSessionsRoundTrip(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	alice, bob := session("secret-a", "U0ALICE", t0.Add(time.Hour)), session("secret-b", "U0BOB", t0.Add(2*time.Hour))
	requireNoSession(t, db, alice.ID, "nothing saved yet")

	require.NoError(t, db.SaveSession(ctx, alice))
	require.NoError(t, db.SaveSession(ctx, bob))
	requireSession(t, db, alice, "saved")
	requireSession(t, db, bob, "saved")
	requireNoSession(t, db, session("secret-c", "U0ALICE", t0).ID, "another secret names another session")

	// Extending a session replaces it whole.
	alice.ExpiresAt, alice.Name = t0.Add(24*time.Hour), "Alice W."
	require.NoError(t, db.SaveSession(ctx, alice))
	requireSession(t, db, alice, "replaced")
	requireSession(t, db, bob, "the other session is untouched")

	// An expired session is still returned: the caller decides.
	old := session("secret-old", "U0CAROL", t0.Add(-time.Hour))
	old.CreatedAt = t0.Add(-2 * time.Hour)
	require.NoError(t, db.SaveSession(ctx, old))
	requireSession(t, db, old, "expired, still stored")

	db = b.reopen(t, db)
	for _, s := range []storage.Session{alice, bob, old} {
		requireSession(t, db, s, "after a restart")
	}
	assert.Equal(t, 3, counts(t, db)["sessions"])
	inBackup(t, ctx, db, func(backup *storage.DB) {
		for _, s := range []storage.Session{alice, bob, old} {
			got, ok, err := backup.Session(ctx, s.ID)
			require.NoError(t, err)
			require.True(t, ok, "the backup holds %s's session", s.User)
			assert.Equal(t, s, got)
		}
	})
}

// A session no one could find or revoke is refused, and nothing is
// written; every call honours a cancelled context.
func testSaveSessionRefusals(t *testing.T, b *suite) {
	db := b.open(t)
	valid := session("secret-a", "U0ALICE", t0.Add(time.Hour))
	tests := []struct {
		name string
		edit func(*storage.Session)
		want error
	}{
		{"no ID", func(s *storage.Session) { s.ID = "" }, storage.ErrSessionNoID},
		{"no user", func(s *storage.Session) { s.User = "" }, storage.ErrSessionNoUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid
			tt.edit(&s)
			require.ErrorIs(t, db.SaveSession(t.Context(), s), tt.want)
			requireNoSession(t, db, s.ID, "nothing written")
		})
	}
	assert.Zero(t, counts(t, db)["sessions"])

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, db.SaveSession(ctx, valid), context.Canceled)
	_, _, err := db.Session(ctx, valid.ID)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, db.DeleteSession(ctx, valid.ID), context.Canceled)
	_, err = db.DeleteSessions(ctx, valid.User)
	require.ErrorIs(t, err, context.Canceled)
	_, err = db.ExpireSessions(ctx, t0)
	require.ErrorIs(t, err, context.Canceled)
	requireNoSession(t, db, valid.ID, "a cancelled save writes nothing")
}

// Signing out deletes one session; deleting one that is gone, or was
// never there, is not an error.
func testDeleteSession(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	require.NoError(t, db.DeleteSession(ctx, "never-saved"), "an empty store has nothing to delete")

	a1, a2 := session("secret-1", "U0ALICE", t0.Add(time.Hour)), session("secret-2", "U0ALICE", t0.Add(time.Hour))
	require.NoError(t, db.SaveSession(ctx, a1))
	require.NoError(t, db.SaveSession(ctx, a2))
	require.NoError(t, db.DeleteSession(ctx, a1.ID))
	requireNoSession(t, db, a1.ID, "deleted")
	requireSession(t, db, a2, "signing out of one browser leaves the other")
	require.NoError(t, db.DeleteSession(ctx, a1.ID), "deleting it again")
	require.NoError(t, db.DeleteSession(ctx, "never-saved"))
	assert.Equal(t, 1, counts(t, db)["sessions"])
}

// Revoking a person ends every session they have, and nobody else's.
func testDeleteSessionsOfAPerson(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	n, err := db.DeleteSessions(ctx, "U0ALICE")
	require.NoError(t, err)
	assert.Zero(t, n, "an empty store has no one to revoke")

	alice := []storage.Session{
		session("secret-a1", "U0ALICE", t0.Add(time.Hour)),
		session("secret-a2", "U0ALICE", t0.Add(-time.Hour)), // expired, revoked all the same
		session("secret-a3", "U0ALICE", t0.Add(48*time.Hour)),
	}
	bob := session("secret-b", "U0BOB", t0.Add(time.Hour))
	for _, s := range append([]storage.Session{bob}, alice...) {
		require.NoError(t, db.SaveSession(ctx, s))
	}

	n, err = db.DeleteSessions(ctx, "U0ALICE")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	for _, s := range alice {
		requireNoSession(t, db, s.ID, "revoked")
	}
	requireSession(t, db, bob, "another person's session is untouched")

	n, err = db.DeleteSessions(ctx, "U0ALICE")
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to revoke")
	n, err = db.DeleteSessions(ctx, "U0NOBODY")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, 1, counts(t, db)["sessions"])
}

// ExpireSessions drops the sessions that expired strictly before the
// time it is given, and counts each once.
func testExpireSessions(t *testing.T, b *suite) {
	db := b.open(t)
	ctx := t.Context()
	n, err := db.ExpireSessions(ctx, t0)
	require.NoError(t, err)
	assert.Zero(t, n, "an empty store has nothing to expire")

	early := session("secret-early", "U0ALICE", t0.Add(-time.Nanosecond))
	atCut := session("secret-at", "U0BOB", t0)
	late := session("secret-late", "U0CAROL", t0.Add(time.Nanosecond))
	for _, s := range []storage.Session{early, atCut, late} {
		require.NoError(t, db.SaveSession(ctx, s))
	}

	tests := []struct {
		name   string
		before time.Time
		want   int
		gone   []storage.Session
		kept   []storage.Session
	}{
		{"only those expired before the cut", t0, 1, []storage.Session{early}, []storage.Session{atCut, late}},
		{"again: nothing more", t0, 0, []storage.Session{early}, []storage.Session{atCut, late}},
		{"a later cut", t0.Add(time.Hour), 2, []storage.Session{early, atCut, late}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := db.ExpireSessions(t.Context(), tt.before)
			require.NoError(t, err)
			assert.Equal(t, tt.want, n)
			for _, s := range tt.gone {
				requireNoSession(t, db, s.ID, "expired")
			}
			for _, s := range tt.kept {
				requireSession(t, db, s, "not yet expired")
			}
		})
	}
}
