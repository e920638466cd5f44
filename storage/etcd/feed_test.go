package etcd_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
)

// incidentFeed is a WatchIncidents call on its own goroutine.
type incidentFeed struct {
	seen chan uint64
	done chan error
}

func watchIncidents(t *testing.T, s *etcd.Store) *incidentFeed {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &incidentFeed{seen: make(chan uint64, 1024), done: make(chan error, 1)}
	go func() {
		f.done <- s.WatchIncidents(ctx, func(n uint64) {
			select {
			case f.seen <- n:
			default:
			}
		})
	}()
	t.Cleanup(cancel)
	return f
}

// named waits up to within for the feed to name n. It returns the error
// WatchIncidents ended with instead, if it ended.
func (f *incidentFeed) named(t *testing.T, n uint64, within time.Duration) (bool, error) {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case got := <-f.seen:
			if got == n {
				return true, nil
			}
		case err := <-f.done:
			require.Error(t, err, "WatchIncidents returned nil")
			return false, err
		case <-timer.C:
			return false, nil
		}
	}
}

// live changes incident n through s until the feed names it.
func (f *incidentFeed) live(t *testing.T, s *etcd.Store, n uint64) {
	t.Helper()
	for i := range 200 {
		key := fmt.Sprintf("probe-%d", i)
		_, err := s.Apply(t.Context(), n, key, observe("probe", key))
		require.NoError(t, err)
		ok, err := f.named(t, n, 50*time.Millisecond)
		require.NoError(t, err)
		if ok {
			return
		}
	}
	t.Fatal("the feed did not start")
}

// TestWatchIncidentsEndsWhenClosed: closing the store's connection ends
// the feed with an error, not a silence.
func TestWatchIncidentsEndsWhenClosed(t *testing.T) {
	endpoints := etcdtest.Start(t)
	s := etcdtest.Open(t, endpoints, nil)
	n := declare(t, s, "declare", "one").Incident.Number
	f := watchIncidents(t, s)
	f.live(t, s, n)

	require.NoError(t, s.Close())
	select {
	case err := <-f.done:
		require.Error(t, err)
		require.NotErrorIs(t, err, context.Canceled, "the feed failed; nobody cancelled it")
	case <-time.After(10 * time.Second):
		t.Fatal("WatchIncidents went on after its connection closed")
	}
}

// TestWatchIncidentsAcrossARestart: while etcd is away the feed waits;
// once it is back, a change is either named (the client resumed the watch
// where it stopped) or the feed ends with an error, so the reader knows
// to re-read. It never goes silent.
func TestWatchIncidentsAcrossARestart(t *testing.T) {
	srv := etcdtest.StartServer(t)
	s := etcdtest.OpenPrefix(t, srv.Endpoints, etcdtest.NewPrefix(), nil)
	n := declare(t, s, "declare", "one").Incident.Number
	f := watchIncidents(t, s)
	f.live(t, s, n)

	srv.Stop()
	srv.Restart()
	require.Eventually(t, func() bool {
		_, err := s.Apply(t.Context(), n, "after", observe("etcd is back", "after"))
		return err == nil
	}, 20*time.Second, 100*time.Millisecond, "commands resume once etcd is back")
	ok, err := f.named(t, n, 20*time.Second)
	require.True(t, ok || err != nil, "the feed names the change or says it failed")
	t.Logf("named after the restart: %v; the feed's error: %v", ok, err)
}
