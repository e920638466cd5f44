package search_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

var _ search.Source = (storage.Store)(nil)

// waitFor is how long a test waits for the indexer to catch up.
const waitFor = 10 * time.Second

// start runs ix until the test ends, and then requires that Run returned
// nil.
func start(t *testing.T, ix *search.Indexer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ix.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done, "Run ends with its context, without an error")
	})
}

// requireSame waits until live dumps as want does.
func requireSame(t *testing.T, want, live *search.Index, msg string) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for search.Dump(live) != search.Dump(want) {
		if time.Now().After(deadline) {
			require.Equal(t, search.Dump(want), search.Dump(live), msg)
		}
		time.Sleep(time.Millisecond) // a poll, not a wait for something to happen by then
	}
}

// TestIndexAfterRestartEqualsLive: an index fed by the change feed while
// commands are applied equals the index a restarted ooda builds from the
// same store.
func TestIndexAfterRestartEqualsLive(t *testing.T) {
	db := storagetest.Open(t)
	for _, p := range history[:5] {
		seed(t, db, p)
	}
	live := search.New()
	start(t, &search.Indexer{Store: db, Index: live})

	deadline := time.Now().Add(waitFor)
	for !live.Ready() {
		require.True(t, time.Now().Before(deadline), "the first build completes")
		time.Sleep(time.Millisecond)
	}
	require.Equal(t, 5, live.Len(), "what the store held at start")
	read, total := live.Progress()
	require.Equal(t, 5, read)
	require.Equal(t, 5, total)

	// Commands while it runs: new incidents, new entries, corrections.
	for _, p := range history[5:] {
		seed(t, db, p)
	}
	p3 := len(history[2].steps()) + 1
	entry := apply(t, db, 3, p3, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseOrient, "suspect the redis cache", false, m)
	}).Events[0]
	apply(t, db, 3, p3+1, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Amend(entry.Seq, &entry, "the kafka consumer group rebalanced", incident.When{}, m)
	})
	gone := apply(t, db, 4, len(history[3].steps())+1, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddEntry(timeline.PhaseNone, "zookeeper quorum lost", false, m)
	}).Events[0]
	apply(t, db, 4, len(history[3].steps())+2, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Strike(gone.Seq, &gone, "wrong incident", m)
	})

	restarted := search.New()
	require.NoError(t, restarted.Rebuild(t.Context(), db))
	require.True(t, restarted.Ready())
	require.Equal(t, len(history), restarted.Len())
	requireSame(t, restarted, live, "the index after a restart equals the index built live")

	require.Equal(t, []uint64{3}, numbers(live.Search("kafka", nil, 0).Hits), "amended: found by its new text")
	require.Empty(t, live.Search("redis", nil, 0).Hits, "amended: not by its old")
	require.Empty(t, live.Search("zookeeper", nil, 0).Hits, "struck")
	require.Equal(t, 3, live.Search("logs", admits(erin), 0).Total)
	require.Equal(t, 4, live.Search("logs", admits(alice), 0).Total)
}

// flaky is a store whose first watch fails at once and whose reads of
// one incident fail once.
type flaky struct {
	search.Source
	watches  atomic.Int32
	failRead atomic.Bool
}

func (f *flaky) WatchIncidents(ctx context.Context, changed func(uint64)) error {
	if f.watches.Add(1) == 1 {
		return errors.New("etcd: watch compacted")
	}
	return f.Source.WatchIncidents(ctx, changed)
}

func (f *flaky) Events(ctx context.Context, n, from uint64) ([]timeline.Event, error) {
	if n == 2 && f.failRead.CompareAndSwap(true, false) {
		return nil, errors.New("store unavailable")
	}
	return f.Source.Events(ctx, n, from)
}

// TestIndexerSurvivesFailures: a feed that fails, and a read that fails,
// are followed by a new watch that reads everything again.
func TestIndexerSurvivesFailures(t *testing.T) {
	db := storagetest.Open(t)
	for _, p := range history[:3] {
		seed(t, db, p)
	}
	src := &flaky{Source: db}
	src.failRead.Store(true)
	live := search.New()
	start(t, &search.Indexer{Store: src, Index: live, Backoff: time.Millisecond})

	want := search.New()
	require.NoError(t, want.Rebuild(t.Context(), db))
	requireSame(t, want, live, "read after the feed failed")
	require.GreaterOrEqual(t, src.watches.Load(), int32(3), "watched again after the feed failed and after the read failed")
	require.False(t, src.failRead.Load())

	for _, p := range history[3:6] {
		seed(t, db, p)
	}
	require.NoError(t, want.Rebuild(t.Context(), db))
	requireSame(t, want, live, "still following")
}

// gated is a store whose reads of events each wait for a token on open.
type gated struct {
	search.Source
	reading chan struct{} // receives once a read is waiting
	open    chan struct{}
}

func (g *gated) Events(ctx context.Context, n, from uint64) ([]timeline.Event, error) {
	g.reading <- struct{}{}
	<-g.open
	return g.Source.Events(ctx, n, from)
}

// TestRebuildSwapsWhole: while a rebuild reads, searches see the index
// as it was, complete; afterwards, the new one.
func TestRebuildSwapsWhole(t *testing.T) {
	db := storagetest.Open(t)
	seed(t, db, history[0])
	x := search.New()
	require.NoError(t, x.Rebuild(t.Context(), db))
	seed(t, db, history[1])

	g := &gated{Source: db, reading: make(chan struct{}), open: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		require.NoError(t, x.Rebuild(context.Background(), g))
	}()
	<-g.reading // the first incident
	g.open <- struct{}{}
	<-g.reading // the second: the first is read, not yet swapped in
	read, total := x.Progress()
	require.LessOrEqual(t, read, 1)
	require.Equal(t, 2, total)
	require.True(t, x.Ready(), "ready since the first build")
	require.Equal(t, 1, x.Len(), "the old index until the new one is whole")
	require.Equal(t, 1, x.Search("checkout", nil, 0).Total)
	require.Zero(t, x.Search("gateway", nil, 0).Total)
	g.open <- struct{}{}
	wg.Wait()
	require.Equal(t, 2, x.Len())
	require.Equal(t, 1, x.Search("gateway", nil, 0).Total)
}

func TestRebuildError(t *testing.T) {
	db := storagetest.Open(t)
	seed(t, db, history[0])
	src := &flaky{Source: db}
	seed(t, db, history[1])
	src.failRead.Store(true)
	x := search.New()
	require.ErrorContains(t, x.Rebuild(t.Context(), src), "read INC-2: store unavailable")
	require.False(t, x.Ready(), "a failed rebuild leaves the index as it was")
	require.Zero(t, x.Len())
}

func TestIndexerNeedsAStoreAndAnIndex(t *testing.T) {
	require.Error(t, (&search.Indexer{Index: search.New()}).Run(t.Context()))
	require.Error(t, (&search.Indexer{Store: storagetest.Open(t)}).Run(t.Context()))
}
