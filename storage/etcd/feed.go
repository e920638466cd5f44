package etcd

import (
	"context"
	"errors"
	"slices"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// WatchIncidents calls changed with an incident's number after every
// commit that changes it (its events, its snapshot or its channel
// transcript) made by this process or any other sharing the prefix, until
// ctx ends, then returns ctx.Err(). It watches two prefixes from the
// revision current when it starts: incidents/, since every command
// rewrites the snapshot of the incident it changes, and transcript/. A
// commit is passed on once per incident, whatever it wrote; a number may
// come again for a later commit. changed is called from this call's
// goroutine and must not block: the watch waits for it. Its first call,
// changed(0), says the revision it watches from is fixed: every later
// commit is passed on.
//
// Unlike WatchOutbox it does not resume by itself: when the watch fails
// (compacted away, cancelled by etcd, no leader, closed) it returns the
// error, since whatever changed in the gap is only found by re-reading.
// The caller re-reads and watches again.
func (s *Store) WatchIncidents(ctx context.Context, changed func(n uint64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Any linearizable read names the current revision.
	resp, err := s.get(ctx, s.keys.schema(), clientv3.WithCountOnly())
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failed("watch incidents", err)
	}
	rev := resp.Header.Revision + 1
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	// Snapshots and transcript messages are only deleted by
	// ClearForMigration, before the store serves; a deletion tells a
	// reader nothing to show.
	opts := []clientv3.OpOption{clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithFilterDelete()}
	snapshots := s.client.Watch(wctx, s.keys.incidents(), opts...)
	transcripts := s.client.Watch(wctx, s.keys.transcripts(), opts...)
	// Both watches start at rev, so whatever is committed after the read
	// that named it is passed on: a reader may read everything now.
	changed(0)
	for {
		var (
			resp   clientv3.WatchResponse
			ok     bool
			prefix string
		)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case resp, ok = <-snapshots:
			prefix = s.keys.incidents()
		case resp, ok = <-transcripts:
			prefix = s.keys.transcripts()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !ok {
			return failed("watch incidents", errors.New("etcd closed the watch"))
		}
		if err := resp.Err(); err != nil {
			return failed("watch incidents", err)
		}
		// One response holds the events of one or more revisions; an
		// incident they change more than once is passed on once.
		var seen []uint64
		for _, ev := range resp.Events {
			n, err := numberIn(string(ev.Kv.Key), prefix)
			if err != nil || slices.Contains(seen, n) {
				continue // a stray key names no incident
			}
			seen = append(seen, n)
			changed(n)
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
}
