package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
)

// worker is one long-lived part of Ooda: its Run blocks until ctx ends
// (returning nil) or it fails.
type worker struct {
	name string
	run  func(ctx context.Context) error
	// gated workers run only while this process leads (see Leadership).
	gated bool
}

// Restart backoff of a failed worker: doubled from restartBase up to
// restartCap, with jitter, and reset after a run that lasted restartCap.
const (
	restartBase = time.Second
	restartCap  = 30 * time.Second
)

// supervise runs every worker until ctx ends and returns when all of them
// have. A worker that fails is logged and restarted with backoff: losing
// Socket Mode's connection or a store error in the executor must not take
// the incident tool down. A panic is a failure like any other. Gated
// workers run under lead: they start when this process is granted the
// right to run them, stop the moment it is revoked, and wait for it again.
func supervise(ctx context.Context, logger *slog.Logger, lead Leadership, workers []worker) {
	var wg sync.WaitGroup
	var gated []worker
	for _, w := range workers {
		if w.gated {
			gated = append(gated, w)
			continue
		}
		wg.Go(func() { keepRunning(ctx, logger, w) })
	}
	if len(gated) > 0 {
		wg.Go(func() { leadAndRun(ctx, logger, lead, gated) })
	}
	wg.Wait()
}

// leadAndRun campaigns for leadership, runs the gated workers while it
// lasts, and campaigns again when it is lost, until ctx ends.
func leadAndRun(ctx context.Context, logger *slog.Logger, lead Leadership, workers []worker) {
	delay := restartBase
	for ctx.Err() == nil {
		lctx, err := lead.Lead(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			logger.Warn("could not take the lead; trying again", "err", err, "retry_in", delay.String())
			if !sleep(ctx, jitter(delay)) {
				return
			}
			delay = min(2*delay, restartCap)
			continue
		}
		names := make([]string, len(workers))
		for i, w := range workers {
			names[i] = w.name
		}
		logger.Info("leading: running here what one process runs", "workers", strings.Join(names, ", "))
		began := time.Now()
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { keepRunning(lctx, logger, w) })
		}
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		logger.Warn("lost the lead: stopped here what one process runs", "workers", strings.Join(names, ", "))
		// A lead lost as soon as won must not become a tight loop.
		if time.Since(began) < restartCap {
			if !sleep(ctx, jitter(delay)) {
				return
			}
			delay = min(2*delay, restartCap)
		} else {
			delay = restartBase
		}
	}
}

// keepRunning runs w until ctx ends, restarting it with backoff after
// each failure.
func keepRunning(ctx context.Context, logger *slog.Logger, w worker) {
	delay := restartBase
	for {
		began := time.Now()
		err := runOnce(ctx, w)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) >= restartCap {
			delay = restartBase
		}
		if err == nil {
			err = fmt.Errorf("returned while it should still run")
		}
		logger.Error(w.name+" stopped; restarting it", "err", err, "retry_in", delay.String())
		if !sleep(ctx, jitter(delay)) {
			return
		}
		delay = min(2*delay, restartCap)
	}
}

// runOnce runs w once, turning a panic into an error.
func runOnce(ctx context.Context, w worker) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return w.run(ctx)
}

// jitter spreads d over [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// sleep waits d or until ctx ends, and reports whether it waited d.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
