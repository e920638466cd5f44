package search

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Source is what the index reads of the store: storage.Store provides it.
type Source interface {
	// Incidents lists incidents; every one of them when all.
	Incidents(ctx context.Context, all bool) ([]incident.Incident, error)
	// Events returns incident n's events with sequence >= from, in order.
	Events(ctx context.Context, n uint64, from uint64) ([]timeline.Event, error)
	// WatchIncidents calls changed(0) once it listens, then changed(n)
	// after every commit that changes incident n, until ctx ends; changed
	// must not block.
	WatchIncidents(ctx context.Context, changed func(n uint64)) error
}

// DefaultBackoff is how long the Indexer waits before watching a failed
// feed again, when Backoff is not set.
const DefaultBackoff = time.Second

// Indexer keeps an Index in step with a store: it reads everything when
// the change feed starts listening, then reads again each incident a
// commit changed. app starts one per process (each replica keeps its own
// index) and stops it by ending Run's context.
type Indexer struct {
	Store   Source
	Index   *Index
	Logger  *slog.Logger  // nil logs nothing
	Backoff time.Duration // the pause before watching again; 0 means DefaultBackoff
}

// Run follows the store's change feed until ctx ends, then returns nil.
// The feed's changed(0) rebuilds the index whole (Index.Rebuild: searches
// meanwhile see the index as it was); changed(n) reads incident n again
// and puts it. The feed's callback only notes the number, so the feed
// never waits on the index: the reading is done on Run's goroutine, and
// an incident changed many times while it reads is read once more. When
// the feed or a read fails, Run logs it, waits Backoff and watches again,
// which reads everything again.
func (ix *Indexer) Run(ctx context.Context) error {
	if ix.Store == nil || ix.Index == nil {
		return errors.New("search: the indexer needs a Store and an Index")
	}
	logger := ix.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	backoff := ix.Backoff
	if backoff <= 0 {
		backoff = DefaultBackoff
	}
	for {
		err := ix.follow(ctx)
		if ctx.Err() != nil {
			return nil
		}
		logger.WarnContext(ctx, "search: the index lost the store's change feed; watching again", "err", err, "after", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// follow watches the feed once, reading what it names, until ctx ends or
// the feed or a read fails.
func (ix *Indexer) follow(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q := newQueue()
	watched := make(chan error, 1)
	go func() { watched <- ix.Store.WatchIncidents(ctx, q.add) }()
	// The watch ends with ctx, which is cancelled on every return.
	defer func() {
		cancel()
		if watched != nil {
			<-watched
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-watched:
			watched = nil
			if err == nil {
				err = errors.New("the watch ended")
			}
			return fmt.Errorf("watch incidents: %w", err)
		case <-q.wake:
			all, numbers := q.take()
			if all {
				if err := ix.Index.Rebuild(ctx, ix.Store); err != nil {
					return err
				}
			}
			for _, n := range numbers {
				if err := ix.reread(ctx, n); err != nil {
					return err
				}
			}
		}
	}
}

// reread puts incident n as its events say it is now.
func (ix *Indexer) reread(ctx context.Context, n uint64) error {
	events, err := ix.Store.Events(ctx, n, 1)
	if err != nil {
		return fmt.Errorf("search: read %s: %w", incident.ID(n), err)
	}
	if len(events) == 0 {
		return nil
	}
	ix.Index.Put(incident.Replay(events), events)
	return nil
}

// queue is the set of incidents the feed named and Run has not read yet;
// all is set by changed(0), which asks for everything.
type queue struct {
	mu      sync.Mutex
	all     bool
	numbers map[uint64]struct{}
	wake    chan struct{} // holds a token while there is something to read
}

func newQueue() *queue {
	return &queue{numbers: map[uint64]struct{}{}, wake: make(chan struct{}, 1)}
}

// add is the feed's callback; it never blocks.
func (q *queue) add(n uint64) {
	q.mu.Lock()
	if n == 0 {
		// Everything is read again, which covers what was queued.
		q.all = true
		clear(q.numbers)
	} else {
		q.numbers[n] = struct{}{}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// take empties the queue: whether to read everything, and the incidents
// to read again, ascending.
func (q *queue) take() (all bool, numbers []uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	all, q.all = q.all, false
	for n := range q.numbers {
		numbers = append(numbers, n)
	}
	clear(q.numbers)
	slices.Sort(numbers)
	return all, numbers
}
