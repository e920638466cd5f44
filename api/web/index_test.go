package web

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// countingStore counts full reads of the store and can hold its feed down.
type countingStore struct {
	Store
	fullReads atomic.Int32
	feedDown  atomic.Bool
}

func (c *countingStore) Incidents(ctx context.Context, all bool) ([]incident.Incident, error) {
	c.fullReads.Add(1)
	return c.Store.Incidents(ctx, all)
}

func (c *countingStore) WatchIncidents(ctx context.Context, changed func(uint64)) error {
	if c.feedDown.Load() {
		return context.DeadlineExceeded
	}
	return c.Store.WatchIncidents(ctx, changed)
}

// indexShows polls x until it holds incident n with title, or fails.
func indexShows(t *testing.T, x *index, n uint64, title string) {
	t.Helper()
	require.Eventually(t, func() bool {
		incs, err := x.incidents(t.Context())
		require.NoError(t, err)
		for _, inc := range incs {
			if inc.Number == n {
				return inc.Title == title
			}
		}
		return false
	}, 10*time.Second, 5*time.Millisecond, "the list shows %s as %q", incident.ID(n), title)
}

// TestIndexFollowsTheFeed: the list reads every snapshot once, then only
// what the change feed says changed — committed by anyone, straight to
// the store — newest first.
func TestIndexFollowsTheFeed(t *testing.T) {
	db := storagetest.Open(t)
	first := seedListIncident(t, db, listIncident{title: "Checkout down", severity: 2, by: listAlice, declared: listNow.Add(-time.Hour)})
	store := &countingStore{Store: db}
	x := &index{store: store}
	t.Cleanup(x.stop)

	indexShows(t, x, first, "Checkout down")
	// Until the feed listens the list reads the store; then it reads
	// everything once more, and from then on only what changes.
	require.Eventually(t, func() bool {
		_, err := x.incidents(t.Context())
		require.NoError(t, err)
		x.mu.Lock()
		defer x.mu.Unlock()
		return x.listening && !x.full && x.list != nil
	}, 10*time.Second, 5*time.Millisecond)
	reads := store.fullReads.Load()

	second := seedListIncident(t, db, listIncident{title: "Payments slow", severity: 1, by: listBob, declared: listNow})
	indexShows(t, x, second, "Payments slow")
	_, err := db.Apply(t.Context(), first, "retitle", func(inc *incident.Incident) (incident.Change, error) {
		return inc.SetImpact("every checkout fails", incident.Meta{At: listNow, Actor: listAlice, Source: timeline.SourceCommand, Key: "retitle"})
	})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		incs, err := x.incidents(t.Context())
		require.NoError(t, err)
		return len(incs) == 2 && incs[0].Number == second && incs[1].Impact == "every checkout fails"
	}, 10*time.Second, 5*time.Millisecond, "newest first, the change to the first read again")
	require.Equal(t, reads, store.fullReads.Load(), "after the first, changes are read one incident at a time")
}

// TestIndexWithoutTheFeed: while the feed is down the list reads the
// store every time, so it is never staler than the store.
func TestIndexWithoutTheFeed(t *testing.T) {
	db := storagetest.Open(t)
	store := &countingStore{Store: db}
	store.feedDown.Store(true)
	x := &index{store: store, backoff: time.Hour}
	t.Cleanup(x.stop)

	incs, err := x.incidents(t.Context())
	require.NoError(t, err)
	require.Empty(t, incs)
	n := seedListIncident(t, db, listIncident{title: "Checkout down", severity: 2, by: listAlice, declared: listNow})
	incs, err = x.incidents(t.Context())
	require.NoError(t, err, "read at once, with no feed to wait for")
	require.Len(t, incs, 1)
	require.Equal(t, n, incs[0].Number)
	require.GreaterOrEqual(t, store.fullReads.Load(), int32(2))
}

// TestIndexAfterStop: a list request still in flight when the site
// closes, before any other started the watch, starts none: nothing would
// stop it. It reads the store itself.
func TestIndexAfterStop(t *testing.T) {
	db := storagetest.Open(t)
	store := &countingStore{Store: db}
	x := &index{store: store}
	x.stop()
	n := seedListIncident(t, db, listIncident{title: "Checkout down", severity: 2, by: listAlice, declared: listNow})
	incs, err := x.incidents(t.Context())
	require.NoError(t, err)
	require.Len(t, incs, 1)
	require.Equal(t, n, incs[0].Number)
	x.mu.Lock()
	started := x.started
	x.mu.Unlock()
	require.False(t, started, "no watch starts after stop")
	x.stop()
}

// TestSiteCloseBeforeTheList: Close before any list request; a request
// after it is served from the store and leaves no watch behind (TestMain
// fails on a leaked goroutine).
func TestSiteCloseBeforeTheList(t *testing.T) {
	db := storagetest.Open(t)
	seedListIncident(t, db, listIncident{title: "Checkout down", severity: 2, by: listAlice, declared: listNow})
	site, err := New(Config{Store: db, PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret", Now: func() time.Time { return listNow }})
	require.NoError(t, err)
	site.Close()
	incs, err := site.index.incidents(t.Context())
	require.NoError(t, err)
	require.Len(t, incs, 1)
	site.index.mu.Lock()
	defer site.index.mu.Unlock()
	require.False(t, site.index.started, "no watch starts after Close")
}
