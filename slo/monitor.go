package slo

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// StateStore keeps each SLO's State between evaluations and restarts.
// storage.DB implements it.
type StateStore interface {
	SLOStates(ctx context.Context) ([]State, error)
	SaveSLOStates(ctx context.Context, states []State) error
}

// Deliver hands one notice to whoever announces it (the Slack layer). A
// notice whose delivery fails is given again on the next tick: its SLO's
// state is not saved until it is delivered.
type Deliver func(ctx context.Context, n Notice) error

// MonitorConfig configures a Monitor. Evaluator and Store are required.
type MonitorConfig struct {
	Evaluator *Evaluator
	Store     StateStore
	// Renotify is how often a warning is repeated while its SLO stays
	// alerting; zero means DefaultRenotify, negative never.
	Renotify time.Duration
}

// DefaultRenotify repeats a standing warning twice a working day at most.
const DefaultRenotify = 4 * time.Hour

// Monitor is one turn of the loop around an Evaluator: evaluate, fold each
// result into its stored state, announce what changed, save. The caller's
// scheduler calls Tick every minute and skips a tick while the previous
// one still runs.
type Monitor struct {
	cfg MonitorConfig
	// tick serialises ticks: two overlapping ticks would announce the
	// same change twice.
	tick sync.Mutex
}

// NewMonitor checks cfg and builds its Monitor.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	if cfg.Evaluator == nil || cfg.Store == nil {
		return nil, errors.New("slo monitor: needs an evaluator and a state store")
	}
	if cfg.Renotify == 0 {
		cfg.Renotify = DefaultRenotify
	}
	return &Monitor{cfg: cfg}, nil
}

// Tick evaluates every SLO at now, tracks each result against its stored
// state and delivers the notices, then saves the states in one write. A
// notice that could not be delivered leaves its SLO's state as it was, so
// the next tick gives it again (at least once). When Prometheus cannot be
// reached nothing is tracked and the error matches ErrUnavailable.
func (m *Monitor) Tick(ctx context.Context, now time.Time, deliver Deliver) (Report, error) {
	m.tick.Lock()
	defer m.tick.Unlock()
	rep, err := m.cfg.Evaluator.Evaluate(ctx, now)
	if err != nil {
		return rep, err
	}
	stored, err := m.cfg.Store.SLOStates(ctx)
	if err != nil {
		return rep, fmt.Errorf("slo tick: %w", err)
	}
	prev := make(map[string]State, len(stored))
	for _, st := range stored {
		prev[st.SLO] = st
	}
	var save []State
	var errs []error
	for _, r := range rep.Results {
		next, n := Track(prev[r.SLO], r, now, m.cfg.Renotify)
		if n != nil && deliver != nil {
			if err := deliver(ctx, *n); err != nil {
				errs = append(errs, fmt.Errorf("deliver %s notice for %s: %w", n.Kind, n.SLO, err))
				continue
			}
		}
		if r.Level != LevelError {
			save = append(save, next)
		}
	}
	if err := m.cfg.Store.SaveSLOStates(ctx, save); err != nil {
		errs = append(errs, fmt.Errorf("slo tick: %w", err))
	}
	return rep, errors.Join(errs...)
}

// Last is the evaluator's latest report; see Evaluator.Last.
func (m *Monitor) Last() Snapshot { return m.cfg.Evaluator.Last() }

// Freeze is a FreezeLookup over the latest report and the stored states.
// It never queries Prometheus, so it answers at once whatever Prometheus
// is doing.
func (m *Monitor) Freeze(ctx context.Context, service string) (FreezeStatus, bool, error) {
	states, err := m.cfg.Store.SLOStates(ctx)
	if err != nil {
		return FreezeStatus{}, false, fmt.Errorf("freeze of %s: %w", service, err)
	}
	// A state outlives its SLO when the SLO leaves the files; it must not
	// keep the service frozen.
	configured := map[string]bool{}
	known := false
	for _, s := range m.cfg.Evaluator.SLOs() {
		configured[s.ID] = true
		known = known || s.Service == service
	}
	current := states[:0]
	for _, st := range states {
		if configured[st.SLO] {
			current = append(current, st)
		}
	}
	fs, found := ServiceFreeze(service, m.Last().Report, current)
	if !known && !found {
		return FreezeStatus{}, false, nil
	}
	fs.Service = service
	return fs, true, nil
}
