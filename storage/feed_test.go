package storage_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// Closing the file ends the feed with an error, so a watcher does not
// wait on a store that will never change again.
func TestWatchIncidentsEndsWhenClosed(t *testing.T) {
	db := storagetest.Open(t)
	done := make(chan error, 1)
	go func() { done <- db.WatchIncidents(context.Background(), func(uint64) {}) }()
	require.NoError(t, db.Close())
	select {
	case err := <-done:
		require.ErrorIs(t, err, berrors.ErrDatabaseNotOpen)
	case <-time.After(10 * time.Second):
		t.Fatal("WatchIncidents went on after Close")
	}
	require.ErrorIs(t, db.WatchIncidents(t.Context(), func(uint64) {}), berrors.ErrDatabaseNotOpen, "a closed file has no feed")
}

// A load (ooda migrate, a restore) writes incidents as commands do, and
// the feed names each of them once.
func TestWatchIncidentsSeesALoad(t *testing.T) {
	src := storagetest.Open(t)
	for _, key := range []string{"one", "two"} {
		declare(t, src, key, key)
	}
	var items []storage.Item
	require.NoError(t, src.Dump(t.Context(), func(it storage.Item) error {
		items = append(items, it)
		return nil
	}))

	dst := storagetest.Open(t)
	ctx, cancel := context.WithCancel(t.Context())
	seen := make(chan uint64, 16)
	done := make(chan error, 1)
	go func() { done <- dst.WatchIncidents(ctx, func(n uint64) { seen <- n }) }()
	defer func() {
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	}()

	// The watch starts on its own goroutine; a load into a file that holds
	// something is refused, so it waits for the watch to be in place.
	deadline := time.Now().Add(10 * time.Second)
	for dst.Watchers() == 0 {
		require.True(t, time.Now().Before(deadline), "WatchIncidents never subscribed")
		runtime.Gosched()
	}
	require.NoError(t, dst.Load(t.Context(), items))
	want := map[uint64]bool{1: true, 2: true}
	for len(want) > 0 {
		select {
		case n := <-seen:
			if n == 0 {
				continue // the feed saying it listens
			}
			require.True(t, want[n], "%d named once, and only the loaded incidents", n)
			delete(want, n)
		case <-time.After(10 * time.Second):
			t.Fatalf("the feed never named %v", want)
		}
	}
}
