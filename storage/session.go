package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Session is one signed-in person's session of the web UI: who signed in
// with Slack, in which workspace, and until when. Sessions are records in
// the store, so every replica honours them and deleting one revokes it.
type Session struct {
	// ID names the session: the hex SHA-256 of the secret its cookie
	// holds, so the store never holds a live cookie.
	ID        string    `json:"id"`
	User      string    `json:"user"`           // Slack member ID
	Team      string    `json:"team"`           // Slack workspace (team) ID
	Name      string    `json:"name,omitempty"` // display name from the ID token
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// The errors of Session.Validate: a session no one could look up, or one
// that belongs to no one.
var (
	ErrSessionNoID   = errors.New("storage: a session needs its ID")
	ErrSessionNoUser = errors.New("storage: a session needs the member ID of its user")
)

// Validate checks that s can be stored: it has an ID to be found by and a
// user to be revoked with. Every backend checks it before saving.
func (s Session) Validate() error {
	switch {
	case s.ID == "":
		return ErrSessionNoID
	case s.User == "":
		return ErrSessionNoUser
	}
	return nil
}

// DecodeSession reads a stored session, which must be stored under its
// own ID. Every backend reads sessions with it.
func DecodeSession(id string, v []byte) (Session, error) {
	var s Session
	if err := json.Unmarshal(v, &s); err != nil {
		return Session{}, fmt.Errorf("session %s: %w", id, err)
	}
	if s.ID != id {
		return Session{}, fmt.Errorf("session %s: the record names %q", id, s.ID)
	}
	return s, nil
}

// The sessions bucket holds the web UI's sessions: session ID -> Session
// as JSON. It is created by the first save, so files written before it
// existed need no migration.
var bucketSessions = []byte("sessions")

// SaveSession stores s, replacing the session stored under its ID.
func (db *DB) SaveSession(ctx context.Context, s Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	return db.write("save session", func(t txn) error {
		b, err := t.tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		return putJSON(b, []byte(s.ID), s)
	})
}

// Session returns the session with id; ok is false when there is none.
// An expired session is returned like any other: whether it still admits
// its user is the caller's decision, made against its own clock.
func (db *DB) Session(ctx context.Context, id string) (s Session, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return Session{}, false, err
	}
	err = db.read("read session", func(t txn) error {
		s, ok = Session{}, false
		b := t.tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		var err error
		s, err = DecodeSession(id, v)
		ok = err == nil
		return err
	})
	return s, ok, err
}

// DeleteSession ends the session with id, as signing out does. Deleting a
// session that is not there does nothing.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.write("delete session", func(t txn) error {
		b := t.tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(id))
	})
}

// DeleteSessions ends every session of user (a Slack member ID), as
// revoking a person does, and returns how many it ended.
func (db *DB) DeleteSessions(ctx context.Context, user string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return db.deleteSessions("revoke sessions", func(s Session) bool { return s.User == user })
}

// ExpireSessions forgets the sessions that expired before before and
// returns how many it dropped. A cron job calls it; without it, every
// session ever opened would stay.
func (db *DB) ExpireSessions(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	return db.deleteSessions("expire sessions", func(s Session) bool { return s.ExpiresAt.Before(before) })
}

// deleteSessions deletes, in one transaction, the sessions that doomed
// picks.
func (db *DB) deleteSessions(op string, doomed func(Session) bool) (int, error) {
	var dropped int
	err := db.write(op, func(t txn) error {
		dropped = 0
		b := t.tx.Bucket(bucketSessions)
		if b == nil {
			return nil
		}
		// Keys are collected first: deleting under a live cursor makes
		// bbolt skip the element after each deletion.
		var ids [][]byte
		err := b.ForEach(func(k, v []byte) error {
			s, err := DecodeSession(string(k), v)
			// A record that cannot be read lets no one in: it goes, rather
			// than stop every expiry and revocation after it.
			if err != nil || doomed(s) {
				ids = append(ids, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range ids {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		dropped = len(ids)
		return nil
	})
	return dropped, err
}
