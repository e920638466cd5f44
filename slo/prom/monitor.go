package prom

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/slo"
)

// Defaults of MonitorConfig.
const (
	// DefaultRenotify repeats a standing warning twice a working day at
	// most.
	DefaultRenotify = 4 * time.Hour
)

// MonitorConfig configures a Monitor. Evaluator and Store are required.
type MonitorConfig struct {
	Evaluator *Evaluator
	Store     slo.StateStore
	// Renotify is how often a warning is repeated while its SLO stays
	// alerting; zero means DefaultRenotify, negative never.
	Renotify time.Duration
}

func (c *MonitorConfig) defaults() {
	if c.Renotify == 0 {
		c.Renotify = DefaultRenotify
	}
}

func (c MonitorConfig) validate() error {
	var errs []error
	if c.Evaluator == nil || c.Store == nil {
		errs = append(errs, errors.New("needs an evaluator and a state store"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slo monitor: %w", err)
	}
	return nil
}

// Monitor is the loop around an Evaluator: evaluate, fold each result into
// its stored state, announce what changed, save. Each Tick is one turn;
// app's scheduler ticks it every minute, and once at start-up.
type Monitor struct {
	cfg MonitorConfig
	// tick serialises ticks: two overlapping ticks would announce the
	// same change twice.
	tick sync.Mutex

	mu sync.Mutex
	// problems kept SLOs of the files out at the latest Load.
	problems []slo.SpecError
}

// NewMonitor checks cfg and builds its Monitor. It starts nothing.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Monitor{cfg: cfg}, nil
}

// Tick evaluates every SLO at now, tracks each result against its stored
// state and delivers the notices, then saves the states in one write. A
// notice that could not be delivered leaves its SLO's state as it was, so
// the next tick gives it again (at least once). When Prometheus cannot be
// reached nothing is tracked and the error matches slo.ErrUnavailable.
func (m *Monitor) Tick(ctx context.Context, now time.Time, deliver slo.Deliver) (slo.Report, error) {
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
	prev := make(map[string]slo.State, len(stored))
	for _, st := range stored {
		prev[st.SLO] = st
	}
	var save []slo.State
	var errs []error
	for _, r := range rep.Results {
		next, n := slo.Track(prev[r.SLO], r, now, m.cfg.Renotify)
		if n != nil && deliver != nil {
			if err := deliver(ctx, *n); err != nil {
				errs = append(errs, fmt.Errorf("deliver %s notice for %s: %w", n.Kind, n.SLO, err))
				continue
			}
		}
		if !r.Level.Failed() {
			save = append(save, next)
		}
	}
	if err := m.cfg.Store.SaveSLOStates(ctx, save); err != nil {
		errs = append(errs, fmt.Errorf("slo tick: %w", err))
	}
	return rep, errors.Join(errs...)
}

// Load watches the SLOs of set from the next tick on, and remembers the
// problems that kept its other SLOs out, which Last reports. It refuses,
// and changes nothing, when the evaluator does (SetSLOs).
func (m *Monitor) Load(set slo.Set) error {
	if err := m.cfg.Evaluator.SetSLOs(set.SLOs); err != nil {
		return err
	}
	problems := make([]slo.SpecError, 0, len(set.Problems()))
	for _, p := range set.Problems() {
		problems = append(problems, *p)
	}
	m.mu.Lock()
	m.problems = problems
	m.mu.Unlock()
	return nil
}

// Last is the evaluator's latest report (see Evaluator.Last), with the
// problems of the latest Load.
func (m *Monitor) Last() slo.Snapshot {
	snap := m.cfg.Evaluator.Last()
	m.mu.Lock()
	snap.Problems = m.problems
	m.mu.Unlock()
	return snap
}

// Freeze is an api.FreezeLookup over the latest report and the stored
// states. It never queries Prometheus, so it answers at once whatever
// Prometheus is doing.
func (m *Monitor) Freeze(ctx context.Context, service string) (slo.FreezeStatus, bool, error) {
	states, err := m.cfg.Store.SLOStates(ctx)
	if err != nil {
		return slo.FreezeStatus{}, false, fmt.Errorf("freeze of %s: %w", service, err)
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
	fs, found := slo.ServiceFreeze(service, m.Last().Report, current)
	if !known && !found {
		return slo.FreezeStatus{}, false, nil
	}
	fs.Service = service
	return fs, true, nil
}
