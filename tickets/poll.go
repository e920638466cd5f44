package tickets

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
)

// BatchSize is how many tickets one States call asks about.
const BatchSize = 100

// ReopenWindow is how long after a ticket closed, and made its item done,
// the poller keeps asking about it, so that reopening it reopens the item.
const ReopenWindow = 30 * 24 * time.Hour

// Poller asks the trackers about the tickets Ooda follows, on a schedule,
// and records what changed. It asks with one search per tracker project
// per poll (one per BatchSize tickets), through the tracker's guard. Run
// it under leadership: one poller per deployment.
type Poller struct {
	s     *Service
	every time.Duration

	// asked is when each project was last asked with success: the next
	// poll asks for what changed since then (PollOverlap before), not
	// since its oldest ticket was opened, which keeps a tracker that
	// lists by time (GitHub) to its recent changes. Kept in memory: a
	// restarted poller asks once from the oldest ticket.
	mu    sync.Mutex
	asked map[projectKey]time.Time
}

// PollOverlap is how far before the last successful poll the next one
// asks from: a change the tracker stamped just before that poll, or
// whose clock runs behind ours, is not missed.
const PollOverlap = 10 * time.Minute

// Poller returns the worker that polls for s.
func (s *Service) Poller() *Poller {
	return &Poller{s: s, every: s.every, asked: map[projectKey]time.Time{}}
}

// Run polls at once, then every poll interval, until ctx ends; it then
// returns nil. A tracker that fails is logged and asked again next time;
// it never stops the loop.
func (p *Poller) Run(ctx context.Context) error {
	t := time.NewTicker(p.every)
	defer t.Stop()
	for {
		if err := p.PollOnce(ctx); err != nil && ctx.Err() == nil {
			p.s.log.LogAttrs(ctx, slog.LevelWarn, "ticket poll incomplete", slog.String("error", resilience.Redact(err.Error())))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// followed is a ticket the poller asks about.
type followed struct {
	incident uint64
	action   int
	id       string
	state    string // incident.TicketOpen or TicketClosed
	since    time.Time
}

type projectKey struct{ tracker, project string }

// CloseSettle is how long after a ticket was closed a poll that reads it
// open is not believed: a reopen that quick is learnt by webhook, or by a
// later poll.
const CloseSettle = 10 * time.Minute

// PollOnce asks every tracker once about the tickets Ooda follows (open
// ones, and closed ones that made their item done within ReopenWindow)
// and records each change. It goes on past a tracker that fails and
// returns the failures joined; changes it could record are recorded.
func (p *Poller) PollOnce(ctx context.Context) error {
	s := p.s
	incs, err := s.store.Incidents(ctx, true)
	if err != nil {
		return fmt.Errorf("tickets: poll: list incidents: %w", err)
	}
	now := s.now()
	groups := map[projectKey][]followed{}
	for _, inc := range incs {
		for _, a := range inc.Actions {
			t := a.Ticket
			if t == nil || t.ID == "" {
				continue
			}
			if _, ok := s.trackers[t.Tracker]; !ok {
				continue
			}
			f := followed{incident: inc.Number, action: a.ID, id: t.ID, state: t.State, since: a.CreatedAt}
			switch {
			case t.State == incident.TicketOpen:
			case t.State == incident.TicketClosed && a.Status == incident.ActionDone && a.ClosedByTicket && now.Sub(a.ClosedAt) <= ReopenWindow:
				f.since = a.ClosedAt
			default:
				continue
			}
			k := projectKey{t.Tracker, t.Project}
			groups[k] = append(groups[k], f)
		}
	}
	var errs []error
	for _, name := range s.order {
		tr := s.trackers[name]
		for _, k := range sortedKeys(groups) {
			if k.tracker != name {
				continue
			}
			p.mu.Lock()
			last := p.asked[k]
			p.mu.Unlock()
			through, err := p.pollProject(ctx, tr, k.project, groups[k], last)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				errs = append(errs, err)
				continue
			}
			asked := now
			if !through.IsZero() {
				// Read up to through: the next poll asks from a minute
				// before it (an issue updated while the listing was read
				// moves past the pages read, shifting one back).
				asked = through.Add(PollOverlap - time.Minute)
			}
			p.mu.Lock()
			p.asked[k] = asked
			p.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(m map[projectKey][]followed) []projectKey {
	keys := make([]projectKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b projectKey) int {
		return cmp.Or(cmp.Compare(a.tracker, b.tracker), cmp.Compare(a.project, b.project))
	})
	return keys
}

// pollProject asks about fs, tickets of one project, in batches.
//
// through is, when the tracker stopped listing early (TruncatedError),
// how far it read; zero when it read everything.
func (p *Poller) pollProject(ctx context.Context, tr Configured, project string, fs []followed, last time.Time) (through time.Time, err error) {
	slices.SortFunc(fs, func(a, b followed) int { return cmp.Compare(a.id, b.id) })
	var errs []error
	size := BatchSize
	if _, ok := tr.Tracker.(ChangeLister); ok {
		size = len(fs)
	}
	for batch := range slices.Chunk(fs, size) {
		ids := make([]string, len(batch))
		since := batch[0].since
		for i, f := range batch {
			ids[i] = f.id
			if f.since.Before(since) {
				since = f.since
			}
		}
		if from := last.Add(-PollOverlap); !last.IsZero() && from.After(since) {
			since = from
		}
		got, trunc, err := states(ctx, tr, project, ids, since)
		if err != nil {
			errs = append(errs, fmt.Errorf("tickets: poll %s %s: %w", tr.Name, project, err))
			continue
		}
		if trunc != nil && (through.IsZero() || trunc.Through.Before(through)) {
			through = trunc.Through
		}
		for _, f := range batch {
			cur, ok := got[f.id]
			if !ok || cur.State == f.state || (cur.State != StateOpen && cur.State != StateClosed) {
				continue
			}
			if cur.State == StateOpen && p.s.now().Sub(f.since) < CloseSettle {
				// Closed moments ago (a webhook told it): an "open" now
				// is more likely a search index behind the write (Jira
				// Data Center reads states by search) than a reopen,
				// which a later poll still sees.
				continue
			}
			if err := p.s.record(ctx, f.incident, tr.Name, project, f.id, cur.State); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return through, errors.Join(errs...)
}

// record applies a ticket's new state to incident n. Its key is made of
// the ticket, the state and the incident's last sequence as read from its
// snapshot, so a poll and a webhook that read the same snapshot and tell
// the same change are one command; the domain records a state the ticket
// already has as nothing, whatever the key.
func (s *Service) record(ctx context.Context, n uint64, tracker, project, id, state string) error {
	inc, err := s.store.Incident(ctx, n)
	if err != nil {
		return fmt.Errorf("tickets: read %s: %w", incident.ID(n), err)
	}
	a, ok := findAction(inc, tracker, project, id)
	if !ok {
		return nil
	}
	key := fmt.Sprintf("ticket:%s:%s:%s:%s:%d", tracker, a.Ticket.Project, id, state, inc.LastSeq)
	m := s.meta(key)
	res, err := s.store.Apply(ctx, n, key, func(inc *incident.Incident) (incident.Change, error) {
		return inc.TicketChanged(a.ID, state, m)
	})
	if err != nil {
		return fmt.Errorf("tickets: record %s %s in %s: %w", tracker, id, inc.ID, err)
	}
	if !res.Duplicate && len(res.Effects) > 0 {
		s.notify()
	}
	return nil
}

// states asks tr for the states of ids through its guard. A listing the
// tracker stopped early (TruncatedError) is an answer, in part, not a
// failure for the guard to retry or count: its states come back with how
// far it read.
func states(ctx context.Context, tr Configured, project string, ids []string, since time.Time) (map[string]Ticket, *TruncatedError, error) {
	var got map[string]Ticket
	var trunc *TruncatedError
	err := tr.Guard.Do(ctx, resilience.Op{Method: "states", Idempotent: true}, func(ctx context.Context) error {
		var err error
		got, err = tr.Tracker.States(ctx, project, ids, since)
		if errors.As(err, &trunc) {
			return nil
		}
		trunc = nil
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return got, trunc, nil
}
