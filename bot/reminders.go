package bot

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// Reminders turns the nudge policy into posts: empty roles, overdue
// stakeholder updates, OODA check-ins, stale incidents and overdue
// post-mortems. Its job bodies are plain functions of (ctx, now), so tests
// call them directly; cron only decides when.
type Reminders struct {
	Store     incident.Store
	Committed func() // wakes the executor; nil does nothing
	Logger    *slog.Logger
}

// Tick asks the nudge policy about every incident that is not closed at
// now (active ones, and resolved ones whose post-mortem may be due) and
// records each nudge that is due. A nudge's key is part of the command
// key, so a nudge that stays due posts once, however often Tick runs.
//
// The store lists either the active incidents or all of them, so Tick
// reads every snapshot and skips the closed ones; snapshots are small,
// and the incidents a team closes in a year are read in milliseconds.
func (r *Reminders) Tick(ctx context.Context, now time.Time) (int, error) {
	incs, err := r.Store.Incidents(ctx, true)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, inc := range incs {
		if inc.Status == incident.StatusClosed {
			continue
		}
		for _, n := range roles.Nudges(inc.Situation(), now) {
			key := "nudge:" + inc.ID + "/" + n.Key
			m := incident.Meta{At: now, Actor: incident.Bot, Source: timeline.SourceReminder, Key: key}
			res, err := r.Store.Apply(ctx, inc.Number, key, func(i *incident.Incident) (incident.Change, error) {
				return i.Nudge(n, m)
			})
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !res.Duplicate && len(res.Effects) > 0 {
				sent++
			}
		}
	}
	if sent > 0 && r.Committed != nil {
		r.Committed()
	}
	return sent, errors.Join(errs...)
}

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

// Scheduler runs Jobs on their schedules. Start runs the AtStart jobs at
// once, through the same recovery and skip-if-running wrapping as their
// scheduled runs; Stop waits for every run it started.
type Scheduler struct {
	*cron.Cron
	atStart []cron.EntryID
	wg      sync.WaitGroup
}

// Start starts the schedule and the AtStart runs.
func (s *Scheduler) Start() {
	s.Cron.Start()
	for _, id := range s.atStart {
		job := s.Entry(id).WrappedJob
		s.wg.Go(job.Run)
	}
}

// Stop stops the schedule and waits for the runs in progress, scheduled
// or started by Start.
func (s *Scheduler) Stop() {
	<-s.Cron.Stop().Done()
	s.wg.Wait()
}

// NewScheduler builds a cron scheduler that recovers from a panicking job
// and skips a run while the previous one is still going, so a slow store
// cannot pile jobs up. ctx is the parent of every run's context; the caller
// starts the scheduler and stops it (waiting on Stop's context) at shutdown.
func NewScheduler(ctx context.Context, logger *slog.Logger, now func() time.Time, jobs ...Job) (*Scheduler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cl := cronLogger{logger}
	s := &Scheduler{Cron: cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))}
	for _, j := range jobs {
		if j.Timeout <= 0 {
			return nil, errors.New("job " + j.Name + ": a job needs a timeout")
		}
		id, err := s.AddFunc(j.Schedule, func() {
			jctx, cancel := context.WithTimeout(ctx, j.Timeout)
			defer cancel()
			if err := j.Run(jctx, now()); err != nil {
				logger.Warn("job failed", "job", j.Name, "err", err)
			}
		})
		if err != nil {
			return nil, errors.New("job " + j.Name + ": bad schedule " + j.Schedule + ": " + err.Error())
		}
		if j.AtStart {
			s.atStart = append(s.atStart, id)
		}
	}
	return s, nil
}

// cronLogger adapts slog to cron's logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
