package storage

import (
	"context"
	"io"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/slo"
)

// Store is everything Ooda keeps, as any backend provides it: incidents
// and their events, the outbox of effects and their results, idempotency
// keys, the transcripts of incident channels, the SLOs' states, the
// workspace's people and the web UI's sessions. The embedded bbolt file (*DB) is one; a second
// backend must keep the same guarantees, proved by the same conformance
// suite (storage/storetest).
// It speaks of incidents, events and effects, never of buckets or keys.
type Store interface {
	incident.Store
	incident.Outbox
	slo.StateStore

	// ExpireDedupe forgets the idempotency keys first seen before before.
	ExpireDedupe(ctx context.Context, before time.Time) (int, error)

	// RecordMessage keeps one change of a human message of incident n's
	// channel; it reports whether anything new was recorded.
	RecordMessage(ctx context.Context, n uint64, c MessageChange) (bool, error)
	// Transcript is incident n's channel messages, oldest first.
	Transcript(ctx context.Context, n uint64) ([]TranscriptMessage, error)
	// TranscriptMessageAt is one message of it, by Slack ts.
	TranscriptMessageAt(ctx context.Context, n uint64, ts string) (TranscriptMessage, bool, error)

	// WatchIncidents calls changed with an incident's number after every
	// commit that changes it — its events, its snapshot or its channel
	// transcript — made by any writer of the store (with etcd: any
	// replica), until ctx ends, then returns ctx.Err(). Calls may be
	// coalesced or repeated; a reader re-reads what it shows. changed must
	// not block. It returns an error when the feed itself fails (an etcd
	// watch cancelled or compacted away); the caller then re-reads and
	// watches again.
	//
	// Its first call is changed(0), which names no incident (numbers
	// start at 1): the feed is listening, and every commit after that
	// call will be passed on. A reader that reads everything on 0 misses
	// nothing, whenever the watch started.
	WatchIncidents(ctx context.Context, changed func(n uint64)) error

	// SaveSLOState, LoadSLOState and DeleteSLOState keep one SLO's state.
	SaveSLOState(ctx context.Context, st slo.State) error
	LoadSLOState(ctx context.Context, id string) (slo.State, bool, error)
	DeleteSLOState(ctx context.Context, id string) error

	// SavePeople stores people, each replacing what was stored under
	// their member ID; People returns every stored person, by member ID.
	// They keep the workspace's directory, so names survive a restart and
	// a Slack outage.
	SavePeople(ctx context.Context, ps []people.Person) error
	People(ctx context.Context) ([]people.Person, error)

	// SaveSession stores a web UI session, replacing the one stored under
	// its ID; it refuses a session without an ID or a user.
	SaveSession(ctx context.Context, s Session) error
	// Session returns the session with id; ok is false when there is
	// none. Expired sessions are returned too: the caller checks
	// ExpiresAt against its own clock.
	Session(ctx context.Context, id string) (Session, bool, error)
	// DeleteSession ends one session (signing out); one that is not there
	// is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteSessions ends every session of a Slack member (revoking
	// them) and returns how many it ended.
	DeleteSessions(ctx context.Context, user string) (int, error)
	// ExpireSessions deletes the sessions whose ExpiresAt is before
	// before and returns how many it deleted.
	ExpireSessions(ctx context.Context, before time.Time) (int, error)

	// Backup writes a consistent copy of everything, as a bbolt file that
	// `ooda check` accepts and `ooda serve --db` starts from.
	Backup(ctx context.Context, w io.Writer) (int64, error)
	Close() error
}

var _ Store = (*DB)(nil)
