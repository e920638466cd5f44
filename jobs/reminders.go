package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

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
			queued, err := remind(ctx, r.Store, inc.Number, "nudge:"+inc.ID+"/"+n.Key, now,
				func(i *incident.Incident, m incident.Meta) (incident.Change, error) { return i.Nudge(n, m) })
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if queued {
				sent++
			}
		}
	}
	if sent > 0 && r.Committed != nil {
		r.Committed()
	}
	return sent, errors.Join(errs...)
}

// remind commits one reminder of Ooda's to incident n under key, at now,
// and reports whether it queued anything new: a key seen before (the
// reminder already went out) queues nothing.
func remind(ctx context.Context, store incident.Store, n uint64, key string, now time.Time,
	decide func(*incident.Incident, incident.Meta) (incident.Change, error)) (bool, error) {
	m := incident.Meta{At: now, Actor: incident.Bot, Source: timeline.SourceReminder, Key: key}
	res, err := store.Apply(ctx, n, key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
	if err != nil {
		return false, err
	}
	return !res.Duplicate && len(res.Effects) > 0, nil
}
