package etcd

import (
	"context"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/ooda-sre/ooda/storage"
)

func (k keys) sessions() string            { return k.p + "sessions/" }
func (k keys) session(id string) string    { return k.sessions() + id }
func (k keys) sessionID(key string) string { return strings.TrimPrefix(key, k.sessions()) }

// SaveSession stores sess, replacing the session stored under its ID.
func (s *Store) SaveSession(ctx context.Context, sess storage.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sess.Validate(); err != nil {
		return err
	}
	return putAllJSON(ctx, s, "save session", []storage.Session{sess}, func(sess storage.Session) string { return s.keys.session(sess.ID) })
}

// Session returns the session with id; ok is false when there is none.
// An expired session is returned like any other: whether it still admits
// its user is the caller's decision.
func (s *Store) Session(ctx context.Context, id string) (storage.Session, bool, error) {
	if err := ctx.Err(); err != nil {
		return storage.Session{}, false, err
	}
	resp, err := s.get(ctx, s.keys.session(id))
	if err != nil {
		return storage.Session{}, false, failed("read session", err)
	}
	if len(resp.Kvs) == 0 {
		return storage.Session{}, false, nil
	}
	sess, err := storage.DecodeSession(id, resp.Kvs[0].Value)
	if err != nil {
		return storage.Session{}, false, failed("read session", err)
	}
	return sess, true, nil
}

// DeleteSession ends the session with id, on every replica at once.
// Deleting a session that is not there does nothing.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.call(ctx, "delete", true, func(ctx context.Context) error {
		_, err := s.client.Delete(ctx, s.keys.session(id))
		return err
	})
	if err != nil {
		return failed("delete session", err)
	}
	return nil
}

// DeleteSessions ends every session of user (a Slack member ID) and
// returns how many it ended. Sessions are read in pages at one revision
// and deleted in batches whatever their revision since: a session
// rewritten meanwhile (its expiry extended) is revoked all the same.
func (s *Store) DeleteSessions(ctx context.Context, user string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.deleteSessions(ctx, false, func(sess storage.Session) bool { return sess.User == user })
	if err != nil {
		return n, failed("revoke sessions", err)
	}
	return n, nil
}

// ExpireSessions forgets the sessions that expired before before and
// returns how many it dropped. Like idempotency keys, sessions expire by
// this sweep, not by leases; each delete compares the session's revision,
// so a session extended since it was read stays.
func (s *Store) ExpireSessions(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	n, err := s.deleteSessions(ctx, true, func(sess storage.Session) bool { return sess.ExpiresAt.Before(before) })
	if err != nil {
		return n, failed("expire sessions", err)
	}
	return n, nil
}

// deleteSessions deletes the sessions doomed picks; unchanged: only those
// not rewritten since they were read.
func (s *Store) deleteSessions(ctx context.Context, unchanged bool, doomed func(storage.Session) bool) (int, error) {
	var victims []victim
	_, err := s.scanPrefix(ctx, s.keys.sessions(), 0, func(kv *mvccpb.KeyValue) error {
		sess, err := storage.DecodeSession(s.keys.sessionID(string(kv.Key)), kv.Value)
		// A record that cannot be read lets no one in: it goes, rather
		// than stop every expiry and revocation after it.
		if err != nil || doomed(sess) {
			v := victim{key: string(kv.Key)}
			if unchanged {
				v.rev = kv.ModRevision
			}
			victims = append(victims, v)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return s.sweep(ctx, victims)
}
