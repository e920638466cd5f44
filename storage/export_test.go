package storage

import "go.etcd.io/bbolt"

// SchemaVersion is the schema this build writes.
var SchemaVersion = uint64(len(migrations()))

// OpenWithMigrations opens path with extra migration steps after the
// built-in ones, so tests can drive the migration framework.
func OpenWithMigrations(path string, opts Options, extra ...func(*bbolt.Tx) error) (*DB, error) {
	steps := migrations()
	for _, e := range extra {
		steps = append(steps, e)
	}
	return open(path, opts, steps)
}

// Bolt is the underlying handle, for tests that inspect buckets or damage
// records and for benchmarks that compare with raw bbolt.
func (db *DB) Bolt() *bbolt.DB { return db.bolt }

// Watchers is how many WatchIncidents calls are subscribed, so a test can
// wait for its watch to be in place before it writes.
func (db *DB) Watchers() int64 { return db.feed.watchers.Load() }
