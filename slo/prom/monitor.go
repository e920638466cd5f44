package prom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/slo"
)

// Defaults of MonitorConfig.
const (
	// DefaultRenotify repeats a standing warning twice a working day at
	// most.
	DefaultRenotify = 4 * time.Hour
	// DefaultInterval is how often Run ticks: the Workbook's windows are
	// no shorter than five minutes, so a minute notices a page in time.
	DefaultInterval = time.Minute
)

// MonitorConfig configures a Monitor. Evaluator and Store are required.
type MonitorConfig struct {
	Evaluator *Evaluator
	Store     slo.StateStore
	// Renotify is how often a warning is repeated while its SLO stays
	// alerting; zero means DefaultRenotify, negative never.
	Renotify time.Duration

	// The rest is for Run; Tick is given its instant and its Deliver.

	// Deliver announces the notices of Run's ticks; nil tracks the SLOs
	// without announcing anything.
	Deliver slo.Deliver
	// Interval is the time between Run's ticks; zero means
	// DefaultInterval.
	Interval time.Duration
	// TickTimeout bounds one of Run's ticks; zero means the evaluator's
	// timeout plus a minute to deliver the notices and save.
	TickTimeout time.Duration
	// Now is the instant each of Run's ticks evaluates. Nil means
	// time.Now.
	Now func() time.Time
	// Logger gets the failures of Run's ticks, which Run outlives.
	Logger *slog.Logger
}

func (c *MonitorConfig) defaults() {
	if c.Renotify == 0 {
		c.Renotify = DefaultRenotify
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.TickTimeout == 0 && c.Evaluator != nil {
		c.TickTimeout = c.Evaluator.cfg.Timeout + time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c MonitorConfig) validate() error {
	var errs []error
	if c.Evaluator == nil || c.Store == nil {
		errs = append(errs, errors.New("needs an evaluator and a state store"))
	}
	if c.Interval < 0 {
		errs = append(errs, fmt.Errorf("interval %v: must be positive", c.Interval))
	}
	if c.TickTimeout < 0 {
		errs = append(errs, fmt.Errorf("tick timeout %v: must be positive", c.TickTimeout))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slo monitor: %w", err)
	}
	return nil
}

// Monitor is the loop around an Evaluator: evaluate, fold each result into
// its stored state, announce what changed, save. Run is the loop, one tick
// at once and one every Interval; a caller with a scheduler of its own
// calls Tick instead.
type Monitor struct {
	cfg MonitorConfig
	// tick serialises ticks: two overlapping ticks would announce the
	// same change twice.
	tick sync.Mutex
}

// NewMonitor checks cfg and builds its Monitor. It starts nothing: Run
// does.
func NewMonitor(cfg MonitorConfig) (*Monitor, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Monitor{cfg: cfg}, nil
}

// Run ticks at once, so that a restart knows its SLOs (or why it cannot)
// without waiting an interval, then every Interval, until ctx ends; then
// it returns nil. A tick still running when the next is due makes that
// one skip, as a scheduler that skips while the previous run goes would.
// A failed tick is logged and the next one tries again: Prometheus or
// Slack being away does not stop the monitor.
func (m *Monitor) Run(ctx context.Context) error {
	ticker := time.NewTicker(m.cfg.Interval)
	defer ticker.Stop()
	for {
		m.runTick(ctx)
		// Drop the tick that came due during this one, if any.
		select {
		case <-ticker.C:
		default:
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// runTick is one of Run's ticks, bounded by TickTimeout.
func (m *Monitor) runTick(ctx context.Context) {
	tctx, cancel := context.WithTimeout(ctx, m.cfg.TickTimeout)
	defer cancel()
	if _, err := m.Tick(tctx, m.cfg.Now(), m.cfg.Deliver); err != nil && ctx.Err() == nil {
		m.cfg.Logger.LogAttrs(ctx, slog.LevelWarn, "slo tick failed", slog.String("error", err.Error()))
	}
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
		if r.Level != slo.LevelError {
			save = append(save, next)
		}
	}
	if err := m.cfg.Store.SaveSLOStates(ctx, save); err != nil {
		errs = append(errs, fmt.Errorf("slo tick: %w", err))
	}
	return rep, errors.Join(errs...)
}

// Last is the evaluator's latest report; see Evaluator.Last.
func (m *Monitor) Last() slo.Snapshot { return m.cfg.Evaluator.Last() }

// Freeze is a slo.FreezeLookup over the latest report and the stored
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
