// Package resiliencetest helps test code that calls through a
// resilience.Guard without waiting for real backoffs and rate limits.
//
//	clock := resiliencetest.NewClock(time.Now())
//	g, err := resilience.New(p, resilience.WithClock(clock.Now), resilience.WithSleep(clock.Sleep))
//
// It does not import resilience, so the package's own tests can use it.
package resiliencetest

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a fake clock whose Sleep returns at once, moves the clock forward
// and records the duration asked for. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// NewClock returns a Clock reading start. Start it at time.Now() when the
// code under test compares it with context deadlines, which are real.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Sleep records d and advances the clock by it, unless ctx has already
// ended, in which case it returns ctx.Err() as a real sleep would.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

// Sleeps returns the durations Sleep was called with, in order.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// Set moves the clock to t, forward or back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}
