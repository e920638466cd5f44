package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSchedulerRefusesJobsWithoutDeadlines(t *testing.T) {
	run := func(context.Context, time.Time) error { return nil }
	_, err := NewScheduler(nil, time.Now, Job{Name: "x", Schedule: "@every 1m", Run: run})
	require.ErrorContains(t, err, "timeout")
	_, err = NewScheduler(nil, time.Now, Job{Name: "x", Schedule: "every minute", Timeout: time.Second, Run: run})
	require.ErrorContains(t, err, "bad schedule")
	c, err := NewScheduler(nil, time.Now, Job{Name: "x", Schedule: "@every 1m", Timeout: time.Second, Run: run})
	require.NoError(t, err)
	require.Len(t, c.Entries(), 1)
}

func TestSchedulerRunsAtStartJobsAtOnce(t *testing.T) {
	ran := make(chan time.Time, 1)
	s, err := NewScheduler(nil, time.Now, Job{
		Name: "slo", Schedule: "@every 1h", Timeout: time.Second, AtStart: true,
		Run: func(ctx context.Context, now time.Time) error {
			_, ok := ctx.Deadline()
			require.True(t, ok, "every run has a deadline")
			ran <- now
			return nil
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- s.Run(ctx) }()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the AtStart job did not run at start")
	}
	cancel()
	require.NoError(t, <-stopped)
}
