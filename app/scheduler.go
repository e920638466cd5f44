package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Job is a cron job body: a plain function of (ctx, now).
type Job struct {
	Name     string
	Schedule string        // cron spec, e.g. "@every 1m"
	Timeout  time.Duration // every run's context has this deadline
	Run      func(ctx context.Context, now time.Time) error
	// AtStart runs the job once as the scheduler starts, not only a full
	// interval later: the SLOs, say, should be known (or known to be
	// unknowable, with the reason) a minute sooner after a restart.
	AtStart bool
}

// Scheduler runs Jobs on their schedules. It recovers from a panicking
// job and skips a run while the previous one is still going, so a slow
// store cannot pile jobs up.
type Scheduler struct {
	logger    *slog.Logger
	now       func() time.Time
	jobs      []Job
	schedules []cron.Schedule
}

// NewScheduler checks every job's schedule and deadline. It starts
// nothing: Run does.
func NewScheduler(logger *slog.Logger, now func() time.Time, jobs ...Job) (*Scheduler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	s := &Scheduler{logger: logger, now: now, jobs: jobs}
	for _, j := range jobs {
		if j.Timeout <= 0 {
			return nil, errors.New("job " + j.Name + ": a job needs a timeout")
		}
		sched, err := cron.ParseStandard(j.Schedule)
		if err != nil {
			return nil, errors.New("job " + j.Name + ": bad schedule " + j.Schedule + ": " + err.Error())
		}
		s.schedules = append(s.schedules, sched)
	}
	return s, nil
}

// Entries returns the jobs the scheduler runs.
func (s *Scheduler) Entries() []Job { return s.jobs }

// Run runs the jobs on their schedules, and the AtStart ones at once,
// until ctx ends; every run's context is a child of ctx. It returns after
// every run it started has ended.
func (s *Scheduler) Run(ctx context.Context) error {
	cl := cronLogger{s.logger}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	var atStart sync.WaitGroup
	for i, j := range s.jobs {
		id := c.Schedule(s.schedules[i], cron.FuncJob(func() {
			jctx, cancel := context.WithTimeout(ctx, j.Timeout)
			defer cancel()
			if err := j.Run(jctx, s.now()); err != nil {
				s.logger.Warn("job failed", "job", j.Name, "err", err)
			}
		}))
		if j.AtStart {
			// Through the same recovery and skip-if-running wrapping as
			// the scheduled runs.
			atStart.Go(c.Entry(id).WrappedJob.Run)
		}
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
	atStart.Wait()
	return nil
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
