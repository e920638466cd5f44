package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// feedDeadline bounds every wait for the feed: generous, since a loaded
// machine delays an etcd watch, and only a broken feed takes that long.
const feedDeadline = 10 * time.Second

// feedWatch is a WatchIncidents call running on its own goroutine.
type feedWatch struct {
	seen     chan uint64
	cancel   context.CancelFunc
	finished chan struct{} // closed when WatchIncidents has returned
	err      error         // what it returned, once finished is closed
	returned atomic.Bool
	late     atomic.Int64 // calls of changed after it returned
	dropped  atomic.Int64 // numbers the full buffer could not take
}

// watchIncidents starts a WatchIncidents on db. It is stopped, and waited
// for, when t ends.
func watchIncidents(t *testing.T, db storage.Store) *feedWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &feedWatch{seen: make(chan uint64, 4096), cancel: cancel, finished: make(chan struct{})}
	go func() {
		defer close(w.finished)
		w.err = db.WatchIncidents(ctx, func(n uint64) {
			if w.returned.Load() {
				w.late.Add(1)
			}
			select {
			case w.seen <- n:
			default:
				// changed must not block. The buffer holds far more than
				// the tests write, so filling it is a runaway feed.
				w.dropped.Add(1)
			}
		})
		w.returned.Store(true)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-w.finished:
		case <-time.After(feedDeadline):
			t.Error("WatchIncidents did not return when its context ended")
		}
	})
	return w
}

// named waits up to within for the feed to name incident n, passing over
// the others, and reports whether it did.
func (w *feedWatch) named(t *testing.T, n uint64, within time.Duration) bool {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case got := <-w.seen:
			if got == n {
				return true
			}
		case <-w.finished:
			t.Fatalf("WatchIncidents returned %v while %s was awaited", w.err, incident.ID(n))
		case <-timer.C:
			return false
		}
	}
}

// expect waits for the feed to name incident n.
func (w *feedWatch) expect(t *testing.T, n uint64, what string) {
	t.Helper()
	if !w.named(t, n, feedDeadline) {
		t.Fatalf("%s: the feed did not name %s within %s", what, incident.ID(n), feedDeadline)
	}
}

// live waits until the feed is running: WatchIncidents starts on its own
// goroutine, and only changes after it started are promised. It changes
// incident probe, through db, until the feed names it.
func (w *feedWatch) live(t *testing.T, db storage.Store, probe uint64) {
	t.Helper()
	deadline := time.Now().Add(feedDeadline)
	for i := 0; time.Now().Before(deadline); i++ {
		key := fmt.Sprintf("probe-%d", i)
		apply(t, db, probe, key, observe("probe", key))
		if w.named(t, probe, 50*time.Millisecond) {
			return
		}
	}
	t.Fatalf("the feed did not start within %s", feedDeadline)
}

// stop cancels the watch and returns what WatchIncidents returned.
func (w *feedWatch) stop(t *testing.T) error {
	t.Helper()
	w.cancel()
	select {
	case <-w.finished:
		assert.Zero(t, w.dropped.Load(), "the feed named far more incidents than were changed")
		return w.err
	case <-time.After(feedDeadline):
		t.Fatalf("WatchIncidents did not return within %s of its context ending", feedDeadline)
		return nil
	}
}

// change is one kind of write that changes an incident, made through db to
// an incident declared beforehand when it needs one.
type change struct {
	what string
	// prepare runs before the feed starts; do makes the change and
	// returns the incident it changed.
	prepare func(t *testing.T, db storage.Store) uint64
	do      func(t *testing.T, db storage.Store, n uint64) uint64
}

func feedChanges() []change {
	before := func(key string) func(*testing.T, storage.Store) uint64 {
		return func(t *testing.T, db storage.Store) uint64 { return declare(t, db, key, key).Incident.Number }
	}
	return []change{
		{"a declaration", nil, func(t *testing.T, db storage.Store, _ uint64) uint64 {
			return declare(t, db, "feed-declare", "declared while watched").Incident.Number
		}},
		{"a command", before("feed-apply"), func(t *testing.T, db storage.Store, n uint64) uint64 {
			return apply(t, db, n, "feed-apply-1", observe("noticed", "feed-apply-1")).Incident.Number
		}},
		{"a transcript message", before("feed-record"), func(t *testing.T, db storage.Store, n uint64) uint64 {
			ok, err := db.RecordMessage(t.Context(), n, storage.MessageChange{
				Op: storage.MessagePosted, TS: "1741944360.000100", User: "U2", Text: "the dashboard is red", At: t0,
			})
			require.NoError(t, err)
			require.True(t, ok)
			return n
		}},
		{"an effect's outcome", before("feed-complete"), func(t *testing.T, db storage.Store, n uint64) uint64 {
			all, err := db.Pending(t.Context(), 0)
			require.NoError(t, err)
			for _, p := range all {
				if p.Effect.Incident != n || p.Effect.Kind != incident.EffectCreateChannel {
					continue
				}
				channel := fmt.Sprintf("C%d", n)
				res, err := db.Complete(t.Context(), p.OutboxSeq, incident.Outcome{
					Key: "done-" + p.Effect.Key,
					Decide: func(inc *incident.Incident) (incident.Change, error) {
						return inc.ChannelCreated(channel, incident.Meta{At: t0, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "channel-" + channel})
					},
				})
				require.NoError(t, err)
				require.Len(t, res.Events, 1, "the outcome recorded an event")
				return n
			}
			t.Fatalf("%s queued no channel to create", incident.ID(n))
			return 0
		}},
	}
}

// The feed names the incident of every kind of change committed after it
// started, and stops when its context ends.
func testIncidentFeed(t *testing.T, b *suite) {
	db := b.open(t)
	changes := feedChanges()
	numbers := make([]uint64, len(changes))
	for i, c := range changes {
		if c.prepare != nil {
			numbers[i] = c.prepare(t, db)
		}
	}
	probe := declare(t, db, "feed-probe", "probe").Incident.Number

	w := watchIncidents(t, db)
	// The feed says when it listens; what is committed after that is
	// seen, with no probing.
	select {
	case first := <-w.seen:
		require.Zero(t, first, "the feed's first call says it is listening")
	case <-time.After(feedDeadline):
		t.Fatalf("the feed did not say it was listening within %s", feedDeadline)
	}
	for i, c := range changes {
		t.Run(c.what, func(t *testing.T) {
			w.expect(t, c.do(t, db, numbers[i]), c.what)
		})
	}

	require.ErrorIs(t, w.stop(t), context.Canceled)
	apply(t, db, probe, "after-the-feed", observe("after", "after-the-feed"))
	assert.Zero(t, w.late.Load(), "changed is not called once WatchIncidents has returned")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, db.WatchIncidents(ctx, func(uint64) { t.Error("a cancelled watch reported a change") }), context.Canceled)
}

// Commands committed together (bbolt's batches, etcd's concurrent
// transactions) are each passed on.
func testIncidentFeedConcurrentWriters(t *testing.T, b *suite) {
	db := b.open(t)
	probe := declare(t, db, "feed-probe", "probe").Incident.Number
	w := watchIncidents(t, db)
	w.live(t, db, probe)

	const writers, commands = 8, 5
	numbers := make(chan uint64, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("feed-%d", i)
			res, err := db.Declare(t.Context(), key, declareDecider(key, key))
			if !assert.NoError(t, err) {
				return
			}
			numbers <- res.Incident.Number
			for j := range commands {
				key := fmt.Sprintf("feed-%d-%d", i, j)
				_, err := db.Apply(t.Context(), res.Incident.Number, key, observe(key, key))
				assert.NoError(t, err)
			}
		})
	}
	wg.Wait()
	close(numbers)
	want := map[uint64]bool{}
	for n := range numbers {
		want[n] = true
	}
	require.Len(t, want, writers)

	deadline := time.NewTimer(feedDeadline)
	defer deadline.Stop()
	for len(want) > 0 {
		select {
		case n := <-w.seen:
			delete(want, n)
		case <-deadline.C:
			t.Fatalf("the feed never named %v", want)
		}
	}
}

// With several replicas, each one's feed names what the others commit:
// a page served by one replica follows a command another one ran.
func testIncidentFeedSeesOtherReplicas(t *testing.T, b *suite) {
	if b.backend.Replica == nil {
		t.Skip("one process owns this backend's store")
	}
	db := b.open(t)
	other := b.backend.Replica(t, db)
	require.NotNil(t, other, "storetest: Backend.Replica returned no store")
	changes := feedChanges()
	numbers := make([]uint64, len(changes))
	for i, c := range changes {
		if c.prepare != nil {
			numbers[i] = c.prepare(t, db)
		}
	}
	probe := declare(t, db, "feed-probe", "probe").Incident.Number

	w := watchIncidents(t, db)
	w.live(t, other, probe)
	for i, c := range changes {
		t.Run(c.what, func(t *testing.T) {
			w.expect(t, c.do(t, other, numbers[i]), c.what+" through the other replica")
		})
	}
	require.ErrorIs(t, w.stop(t), context.Canceled)
}
