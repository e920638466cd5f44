package app

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/internal/testlog"
)

// waitFor fails the test unless ch receives within a generous deadline.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestSuperviseRestartsAFailingWorker(t *testing.T) {
	logger, logs := testlog.New()
	ctx, cancel := context.WithCancel(context.Background())
	runs := make(chan int, 10)
	var n atomic.Int32
	w := worker{name: "flaky", run: func(ctx context.Context) error {
		k := int(n.Add(1))
		runs <- k
		switch k {
		case 1:
			return errors.New("lost the connection")
		case 2:
			panic("a bug")
		}
		<-ctx.Done()
		return nil
	}}
	done := make(chan struct{})
	go func() { supervise(ctx, logger, Always{}, []worker{w}); close(done) }()
	for want := 1; want <= 3; want++ {
		require.Equal(t, want, waitFor(t, runs, "a run"))
	}
	cancel()
	waitFor(t, done, "supervise to return")
	require.Contains(t, logs.String(), "flaky stopped; restarting it")
	require.Contains(t, logs.String(), "lost the connection")
	require.Contains(t, logs.String(), "panic: a bug")
}

// handOver is a Leadership a test grants and revokes by hand.
type handOver struct {
	grants chan context.CancelFunc
}

func (h *handOver) Lead(ctx context.Context) (context.Context, error) {
	lctx, revoke := context.WithCancel(ctx)
	select {
	case h.grants <- revoke:
		return lctx, nil
	case <-ctx.Done():
		revoke()
		return nil, ctx.Err()
	}
}

func TestGatedWorkersRunOnlyWhileLeading(t *testing.T) {
	logger, _ := testlog.New()
	ctx, cancel := context.WithCancel(context.Background())
	lead := &handOver{grants: make(chan context.CancelFunc)}
	started, stopped := make(chan struct{}, 4), make(chan struct{}, 4)
	gated := worker{name: "executor", gated: true, run: func(ctx context.Context) error {
		started <- struct{}{}
		<-ctx.Done()
		stopped <- struct{}{}
		return nil
	}}
	ungatedRuns := make(chan struct{}, 1)
	ungated := worker{name: "socket mode", run: func(ctx context.Context) error {
		ungatedRuns <- struct{}{}
		<-ctx.Done()
		return nil
	}}
	done := make(chan struct{})
	go func() { supervise(ctx, logger, lead, []worker{gated, ungated}); close(done) }()

	waitFor(t, ungatedRuns, "the ungated worker to run without the lead")
	select {
	case <-started:
		t.Fatal("a gated worker ran before this process was granted the lead")
	default:
	}
	revoke := waitFor(t, lead.grants, "a campaign")
	waitFor(t, started, "the gated worker to start once leading")
	revoke()
	waitFor(t, stopped, "the gated worker to stop when the lead is lost")
	revoke = waitFor(t, lead.grants, "a new campaign after losing the lead")
	waitFor(t, started, "the gated worker to start again")
	cancel()
	waitFor(t, done, "supervise to return")
	revoke()
}
