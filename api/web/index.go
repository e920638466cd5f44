package web

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// index is every incident's snapshot, kept in memory for the incidents
// list: read from the store once, then kept in step by the store's
// change feed, so a page of the list does not decode every snapshot the
// store holds (10,000 of them take a few hundred milliseconds to read).
// It is derived, never a source of truth: while the feed is not
// listening the list reads the store itself, and each time the feed
// (re)starts listening the index reads everything again.
//
// A change reaches the index when the feed passes it on, a moment after
// its commit (with etcd, after the watch delivers it): a list read in
// that moment shows the incident as it was.
type index struct {
	store Store

	// refresh serialises the reads that bring the snapshots up to date,
	// so one request's reload is not overtaken by another's stale copy.
	refresh sync.Mutex

	mu        sync.Mutex
	listening bool                // the feed is up: what it passes on is all that changes
	full      bool                // read everything again (the feed (re)started)
	dirty     map[uint64]struct{} // re-read these
	snaps     map[uint64]incident.Incident
	list      []incident.Incident // snaps by number, newest first; nil when out of date

	// The watch: started by the first read, stopped by stop. closed: stop
	// ran, and no watch starts after it (a request still in flight when
	// the site closed reads the store itself).
	started, closed bool
	cancel          context.CancelFunc
	wg              sync.WaitGroup
	logger          func(msg string, args ...any)
	backoff         time.Duration
}

// indexBackoff is the pause before watching again after the feed failed.
const indexBackoff = time.Second

// incidents is every incident, newest first, as the store holds them. The
// slice and the incidents in it are shared with other requests: read
// them, never change them.
func (x *index) incidents(ctx context.Context) ([]incident.Incident, error) {
	x.start()
	x.refresh.Lock()
	defer x.refresh.Unlock()

	x.mu.Lock()
	if !x.listening {
		x.mu.Unlock()
		return x.fromStore(ctx)
	}
	if x.list != nil && !x.full && len(x.dirty) == 0 {
		out := x.list
		x.mu.Unlock()
		return out, nil
	}
	full, dirty := x.full, x.dirty
	x.full, x.dirty = false, map[uint64]struct{}{}
	x.mu.Unlock()

	var (
		all  []incident.Incident
		some []incident.Incident
		err  error
	)
	if full {
		all, err = x.store.Incidents(ctx, true)
	} else {
		for n := range dirty {
			inc, ierr := x.store.Incident(ctx, n)
			if ierr != nil {
				err = fmt.Errorf("read %s: %w", incident.ID(n), ierr)
				break
			}
			some = append(some, inc)
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if err != nil {
		// Put the work back for the next request.
		x.full = x.full || full
		for n := range dirty {
			x.dirty[n] = struct{}{}
		}
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	if full {
		x.snaps = make(map[uint64]incident.Incident, len(all))
		for _, inc := range all {
			x.snaps[inc.Number] = inc
		}
	}
	for _, inc := range some {
		x.snaps[inc.Number] = inc
	}
	x.list = make([]incident.Incident, 0, len(x.snaps))
	for _, inc := range x.snaps {
		x.list = append(x.list, inc)
	}
	slices.SortFunc(x.list, func(a, b incident.Incident) int { return cmp.Compare(b.Number, a.Number) })
	return x.list, nil
}

// fromStore reads every incident from the store, newest first.
func (x *index) fromStore(ctx context.Context) ([]incident.Incident, error) {
	all, err := x.store.Incidents(ctx, true)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	slices.SortFunc(all, func(a, b incident.Incident) int { return cmp.Compare(b.Number, a.Number) })
	return all, nil
}

// changed is the feed's callback: it only marks what to read again, so
// the feed never waits on a reader.
func (x *index) changed(n uint64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if n == 0 {
		// The feed listens from now on: what happened before is read
		// again, what happens after will be passed on.
		x.listening, x.full = true, true
	} else if x.dirty != nil {
		x.dirty[n] = struct{}{}
	}
	x.list = nil
}

// start runs the watch, once, unless stop ran.
func (x *index) start() {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.started || x.closed {
		return
	}
	x.started = true
	x.dirty = map[uint64]struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	x.cancel = cancel
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		x.watch(ctx)
	}()
}

// watch follows the feed until ctx ends, watching again after a pause
// when it fails. While it is not listening the list reads the store.
func (x *index) watch(ctx context.Context) {
	backoff := cmp.Or(x.backoff, indexBackoff)
	for {
		err := x.store.WatchIncidents(ctx, x.changed)
		x.mu.Lock()
		x.listening = false
		x.mu.Unlock()
		if ctx.Err() != nil {
			return
		}
		if x.logger != nil {
			x.logger("web: the incidents list lost the store's change feed; reading the store until it is back", "err", err, "after", backoff)
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// stop ends the watch and waits for it; no watch starts after it.
func (x *index) stop() {
	x.mu.Lock()
	x.closed = true
	cancel := x.cancel
	x.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	x.wg.Wait()
}
