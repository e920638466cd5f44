package storage

import (
	"fmt"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
)

// DB is Ooda's database: one bbolt file holding incidents' event logs,
// their snapshots, the idempotency keys and the outbox of effects. It is
// safe for concurrent use. Open it with Open.
type DB struct {
	bolt    *bbolt.DB
	path    string
	now     func() time.Time
	noBatch bool
	// writers counts write transactions in flight; see update.
	writers atomic.Int64
	// feed tells WatchIncidents which incidents each commit changed.
	feed *feed
}

var (
	_ incident.Store  = (*DB)(nil)
	_ incident.Outbox = (*DB)(nil)
)

// Options configures Open. The zero value is ready to use.
type Options struct {
	// LockTimeout bounds how long Open waits for another process to let go
	// of the file before it gives up with ErrLocked. Zero or less means 2s:
	// long enough for a restarting ooda to release it, short enough that a
	// second ooda started by mistake says so instead of hanging.
	LockTimeout time.Duration
	// Now is the clock for queue and first-seen times. Nil means time.Now.
	Now func() time.Time
	// NoBatch gives every write its own transaction and fsync instead of
	// letting concurrent writers share one. It exists so benchmarks can
	// measure what batching buys.
	NoBatch bool
}

// DefaultLockTimeout is the LockTimeout of zero Options.
const DefaultLockTimeout = 2 * time.Second

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Path returns the file the database lives in.
func (db *DB) Path() string { return db.path }

// Close releases the file and ends the WatchIncidents calls in progress.
// Calling it again does nothing.
func (db *DB) Close() error {
	db.feed.close()
	if err := db.bolt.Close(); err != nil {
		return fmt.Errorf("close %s: %w", db.path, err)
	}
	return nil
}

// nowUTC is the database's clock in UTC, so stored times compare and
// print the same whatever the host's zone.
func (db *DB) nowUTC() time.Time { return db.now().UTC() }

// update runs fn in a write transaction that is fsynced when it commits.
//
// Concurrent writers share one transaction and one fsync through bbolt's
// Batch, which is what lets many incidents be worked at once. A writer that
// is alone commits straight away: Batch would hold it for MaxBatchDelay
// (10ms) waiting for company that is not coming. fn may therefore run more
// than once (Batch retries a failed batch one call at a time), so it must
// reset anything it captures before doing its work.
func (db *DB) update(fn func(*bbolt.Tx) error) (err error) {
	defer recoverDamage(&err)
	n := db.writers.Add(1)
	defer db.writers.Add(-1)
	if db.noBatch || n == 1 {
		return db.bolt.Update(fn)
	}
	return db.bolt.Batch(fn)
}

// view runs fn in a read transaction.
func (db *DB) view(fn func(*bbolt.Tx) error) (err error) {
	defer recoverDamage(&err)
	return db.bolt.View(fn)
}

// recoverDamage turns a panic inside bbolt into an error. bbolt panics when
// a page it reads is not what its parent says it is, which only a damaged
// file (or a bug) can cause; a command should fail rather than take the
// whole bot down. The transaction has already been rolled back by bbolt's
// own deferred cleanup when the panic reaches here.
func recoverDamage(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w (%w); run ooda check", ErrCorrupt, panicError{r})
	}
}

// panicError is a panic recovered from bbolt.
type panicError struct{ value any }

func (e panicError) Error() string { return fmt.Sprintf("bbolt panicked: %v", e.value) }
