package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	berrors "go.etcd.io/bbolt/errors"
)

// feed hands the numbers of the incidents each commit changed to the
// WatchIncidents calls in progress. One process owns the file, so the
// writers it hears from are all the writers there are.
//
// Writers never wait for a watcher: each watcher has a set of numbers not
// yet passed on, which a commit adds to and its WatchIncidents call
// drains, so a slow watcher sees changes coalesced, never late writes.
type feed struct {
	// watchers counts the subscribers, so a commit nobody watches costs
	// one atomic load.
	watchers atomic.Int64

	mu     sync.Mutex
	subs   map[*subscriber]struct{}
	closed chan struct{} // closed by close, when the file is
	once   sync.Once
}

func newFeed() *feed {
	return &feed{subs: map[*subscriber]struct{}{}, closed: make(chan struct{})}
}

// subscriber is one WatchIncidents call's share of the feed.
type subscriber struct {
	mu      sync.Mutex
	pending []uint64            // in the order they changed
	queued  map[uint64]struct{} // the numbers in pending
	wake    chan struct{}       // holds a token while pending is not empty
}

// publish tells every subscriber that the incidents ns changed. It is
// called after the commit that changed them returned.
func (f *feed) publish(ns []uint64) {
	if len(ns) == 0 || f.watchers.Load() == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.add(ns)
	}
}

func (f *feed) subscribe() *subscriber {
	s := &subscriber{queued: map[uint64]struct{}{}, wake: make(chan struct{}, 1)}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.subs[s] = struct{}{}
	f.watchers.Add(1)
	return s
}

func (f *feed) unsubscribe(s *subscriber) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
	f.watchers.Add(-1)
}

// close ends every WatchIncidents call, present and future.
func (f *feed) close() { f.once.Do(func() { close(f.closed) }) }

func (s *subscriber) add(ns []uint64) {
	s.mu.Lock()
	for _, n := range ns {
		if _, ok := s.queued[n]; !ok {
			s.queued[n] = struct{}{}
			s.pending = append(s.pending, n)
		}
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default: // a token is there already
	}
}

// take empties the set of numbers not yet passed on and returns them.
func (s *subscriber) take() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.pending
	s.pending = nil
	clear(s.queued)
	return out
}

// WatchIncidents calls changed with an incident's number after every
// commit that changes it (its events, its snapshot or its channel
// transcript) until ctx ends, then returns ctx.Err(). The file has one
// owner, this process, so every writer of the store is seen. Numbers that
// change again before changed has been given them are passed on once;
// a reader re-reads what it shows. changed is called from this call's
// goroutine, one number at a time, and must not block: the next numbers
// wait for it. Closing the database ends the call with an error. Its
// first call, changed(0), says it is subscribed: every later commit is
// passed on.
func (db *DB) WatchIncidents(ctx context.Context, changed func(n uint64)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s := db.feed.subscribe()
	defer db.feed.unsubscribe(s)
	changed(0)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-db.feed.closed:
			return fmt.Errorf("watch incidents: %w", berrors.ErrDatabaseNotOpen)
		case <-s.wake:
			for _, n := range s.take() {
				if err := ctx.Err(); err != nil {
					return err
				}
				changed(n)
			}
		}
	}
}
