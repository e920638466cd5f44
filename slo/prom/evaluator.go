package prom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
)

// Defaults of Config.
const (
	// DefaultMinRequests is the fewest requests an alert's long window
	// must carry to fire: below it, one failed request is a large share.
	DefaultMinRequests = 100
	// DefaultConcurrency matches the bulkhead of
	// resilience.DefaultPolicy("prometheus").
	DefaultConcurrency = 4
	// DefaultTimeout bounds one evaluation so that a tick ends before the
	// next minute's begins, however Prometheus behaves.
	DefaultTimeout = 45 * time.Second
)

// Config configures an Evaluator. API, Guard and SLOs are required.
type Config struct {
	API API
	// Guard protects Prometheus: the evaluator's queries go through its
	// Do, with its timeout, breaker and bulkhead.
	Guard *resilience.Guard
	// SLOs are the SLOs to evaluate; SetSLOs replaces them.
	SLOs []slo.SLO
	// Period is the SLO period of the SLOs whose file gives none; zero
	// means slo.DefaultPeriod. An SLO with a period of its own (OpenSLO's
	// time window) is measured over slo.DefaultWindows of that period.
	Period time.Duration
	// Windows replaces slo.DefaultWindows(Period) when set, for the SLOs
	// measured over its period.
	Windows *slo.Windows
	// MinRequests is the traffic below which an alert does not fire (see
	// slo.Assess). Zero means DefaultMinRequests; a negative value turns the
	// check off.
	MinRequests float64
	// Concurrency bounds the queries in flight, across Evaluate and
	// BudgetSpent. Keep it at or below the guard's bulkhead, which refuses
	// rather than queues. Zero means DefaultConcurrency.
	Concurrency int
	// Timeout bounds one Evaluate. Zero means DefaultTimeout.
	Timeout time.Duration
	// Now is the clock Last measures ages with. Nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Period == 0 {
		c.Period = slo.DefaultPeriod
	}
	if c.Windows == nil {
		w := slo.DefaultWindows(c.Period)
		c.Windows = &w
	}
	if c.MinRequests == 0 {
		c.MinRequests = DefaultMinRequests
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

func (c Config) validate() error {
	var errs []error
	if c.API == nil {
		errs = append(errs, errors.New("no Prometheus API client"))
	}
	if c.Guard == nil {
		errs = append(errs, errors.New("no guard for Prometheus"))
	}
	if c.Period < 0 {
		errs = append(errs, fmt.Errorf("period %v: must be positive", c.Period))
	}
	if err := c.Windows.Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("concurrency %d: must be at least 1", c.Concurrency))
	}
	if c.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must be positive", c.Timeout))
	}
	errs = append(errs, validateSLOs(c.SLOs))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("slo evaluator: %w", err)
	}
	return nil
}

// validateSLOs reports every SLO that cannot be measured, and IDs that
// repeat.
func validateSLOs(slos []slo.SLO) error {
	var errs []error
	ids := map[string]bool{}
	for _, s := range slos {
		if ids[s.ID] {
			errs = append(errs, fmt.Errorf("slo %s: appears twice", s.ID))
		}
		ids[s.ID] = true
		if err := s.Validate(); err != nil {
			errs = append(errs, err)
		}
		if s.Period < 0 {
			errs = append(errs, fmt.Errorf("slo %s: period %v: must be positive", s.ID, s.Period))
		}
	}
	return errors.Join(errs...)
}

// Evaluator measures SLOs through Prometheus and remembers the last report,
// so that readers get an answer at once whatever Prometheus is doing. It
// is safe for concurrent use.
type Evaluator struct {
	cfg Config
	// sem holds one token per query in flight, across all callers.
	sem chan struct{}

	mu   sync.Mutex
	slos []measured // what SetSLOs last set; cfg.SLOs is not read again
	// gen counts SetSLOs calls, so that an evaluation that began before
	// one knows its results may name SLOs no longer watched.
	gen      uint64
	last     slo.Report
	reason   string
	failedAt time.Time
}

// measured is an SLO with the windows it is measured over.
type measured struct {
	slo.SLO
	windows slo.Windows
}

// NewEvaluator checks cfg and builds its Evaluator.
func NewEvaluator(cfg Config) (*Evaluator, error) {
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	e := &Evaluator{cfg: cfg, sem: make(chan struct{}, cfg.Concurrency)}
	e.slos = e.withWindows(cfg.SLOs)
	return e, nil
}

// withWindows gives each SLO the windows of its period.
func (e *Evaluator) withWindows(slos []slo.SLO) []measured {
	out := make([]measured, len(slos))
	for i, s := range slos {
		w := *e.cfg.Windows
		if p := s.PeriodOr(w.Period); p != w.Period {
			w = slo.DefaultWindows(p)
		}
		out[i] = measured{SLO: s, windows: w}
	}
	return out
}

// SetSLOs replaces the SLOs the evaluator watches, from the next
// evaluation on: one under way finishes with the SLOs it began with, but
// reports, and keeps in the last report, only those still watched. The
// last report keeps the results of the SLOs still watched. It refuses, and
// changes nothing, when an SLO cannot be measured or two share an ID.
func (e *Evaluator) SetSLOs(slos []slo.SLO) error {
	if err := validateSLOs(slos); err != nil {
		return fmt.Errorf("slo evaluator: %w", err)
	}
	next := e.withWindows(slos)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.slos = next
	e.gen++
	e.last.Results = e.stillWatched(e.last.Results)
	return nil
}

// current returns the SLOs to evaluate now and their generation.
func (e *Evaluator) current() ([]measured, uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.slos, e.gen
}

// stillWatched keeps the results of the SLOs watched now. e.mu is held.
func (e *Evaluator) stillWatched(results []slo.Result) []slo.Result {
	watched := make(map[string]bool, len(e.slos))
	for _, s := range e.slos {
		watched[s.ID] = true
	}
	kept := make([]slo.Result, 0, len(results))
	for _, r := range results {
		if watched[r.SLO] {
			kept = append(kept, r)
		}
	}
	return kept
}

// SLOs returns the SLOs the evaluator watches.
func (e *Evaluator) SLOs() []slo.SLO {
	ms, _ := e.current()
	out := make([]slo.SLO, len(ms))
	for i, m := range ms {
		out[i] = m.SLO
	}
	return out
}

// Windows returns the alert windows of the SLOs without a period of their
// own.
func (e *Evaluator) Windows() slo.Windows { return *e.cfg.Windows }

var opQuery = resilience.Op{Method: "query", Idempotent: true}

// Evaluate measures every SLO at now: one instant query per SLO and window,
// through the guard, with at most Config.Concurrency in flight. An SLO
// whose queries fail gets slo.LevelError and the error, or
// slo.LevelConfigError when Prometheus refused its query as invalid (HTTP
// 400 bad_data or 422 execution, which the guard neither retries nor
// counts against the breaker) or answered with something no error ratio
// can be read from.
// When no SLO could be measured because of Prometheus the error matches
// slo.ErrUnavailable, and Last keeps serving the previous report with the
// reason; SLOs with configuration errors alone are no outage. It returns
// within Config.Timeout, and at once when ctx ends (without blaming
// Prometheus for it).
func (e *Evaluator) Evaluate(ctx context.Context, now time.Time) (slo.Report, error) {
	start := e.cfg.Now()
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()

	slos, gen := e.current()
	runs, sent := e.measureAll(ctx, now, slos)
	rep := slo.Report{At: now, Results: make([]slo.Result, len(slos)), Queries: sent}
	var firstErr error
	measuredOK, outages := 0, 0
	for i, s := range slos {
		r := &runs[i]
		if r.err == nil && len(r.m) < len(s.windows.Durations()) {
			r.err = fmt.Errorf("not measured: %w", context.Cause(ctx))
		}
		if r.err != nil {
			rep.Results[i] = slo.Failed(s.SLO, r.err)
			if rep.Results[i].Level == slo.LevelConfigError {
				continue
			}
			outages++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		measuredOK++
		rep.Results[i] = slo.Assess(s.SLO, s.windows, r.m, max(e.cfg.MinRequests, 0))
	}
	rep.Took = e.cfg.Now().Sub(start)

	if err := parent.Err(); err != nil {
		// The caller gave up (shutdown): that says nothing about
		// Prometheus, so the last report stays as it was.
		return rep, fmt.Errorf("evaluate %d SLOs: %w", len(slos), err)
	}
	// Prometheus is unavailable when it measured nothing and failed for
	// reasons of its own. A query it refused is the SLO's fault: it
	// answered.
	var err error
	if measuredOK == 0 && outages > 0 {
		err = fmt.Errorf("evaluate %d SLOs: %w: %w", len(slos), slo.ErrUnavailable, firstErr)
	}
	e.mu.Lock()
	if gen != e.gen {
		// SetSLOs ran meanwhile: the SLOs it removed must not come back
		// into the last report, nor be tracked and announced by the
		// caller.
		rep.Results = e.stillWatched(rep.Results)
	}
	if err == nil {
		e.last, e.reason, e.failedAt = rep, "", time.Time{}
	} else {
		e.reason, e.failedAt = err.Error(), e.cfg.Now()
	}
	e.mu.Unlock()
	return rep, err
}

// sloRun gathers one SLO's measurements during an evaluation.
type sloRun struct {
	mu  sync.Mutex
	m   map[time.Duration]slo.Measurement
	err error // the first failure; the SLO's other windows are then skipped
}

func (r *sloRun) failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err != nil
}

func (r *sloRun) record(d time.Duration, m slo.Measurement, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err != nil && r.err == nil:
		r.err = fmt.Errorf("window %s: %w", slo.FormatWindow(d), err)
	case err == nil:
		r.m[d] = m
	}
}

// measureAll runs every SLO's window queries on Config.Concurrency workers
// until they are done or ctx ends, and says how many it sent.
func (e *Evaluator) measureAll(ctx context.Context, now time.Time, slos []measured) ([]sloRun, int) {
	type job struct {
		slo     int
		win     time.Duration
		counted bool // requests are only judged in the alerts' long windows
	}
	var all []job
	runs := make([]sloRun, len(slos))
	for i, s := range slos {
		durs := s.windows.Durations()
		runs[i].m = make(map[time.Duration]slo.Measurement, len(durs))
		long := map[time.Duration]bool{}
		for _, a := range s.windows.Alerts() {
			long[a.Window.Long] = true
		}
		for _, d := range durs {
			all = append(all, job{slo: i, win: d, counted: long[d]})
		}
	}
	jobs := make(chan job)
	var (
		wg   sync.WaitGroup
		sent atomic.Int64
	)
	for range min(e.cfg.Concurrency, len(all)) {
		wg.Go(func() {
			for j := range jobs {
				r := &runs[j.slo]
				if r.failed() {
					continue
				}
				m, err := e.measure(ctx, slos[j.slo].SLO, j.win, j.counted, now, &sent)
				r.record(j.win, m, err)
			}
		})
	}
feed:
	for _, j := range all {
		select {
		case jobs <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return runs, int(sent.Load())
}

// measure runs one window's query through the guard.
func (e *Evaluator) measure(ctx context.Context, s slo.SLO, d time.Duration, requests bool, at time.Time, sent *atomic.Int64) (slo.Measurement, error) {
	query := slo.RatioQuery
	if requests {
		query = slo.WindowQuery
	}
	q, err := query(s, d)
	if err != nil {
		return slo.Measurement{}, err
	}
	select {
	case e.sem <- struct{}{}:
	case <-ctx.Done():
		return slo.Measurement{}, ctx.Err()
	}
	defer func() { <-e.sem }()
	if sent != nil {
		sent.Add(1)
	}
	var v model.Value
	err = e.cfg.Guard.Do(ctx, opQuery, func(ctx context.Context) error {
		var warns promv1.Warnings
		var err error
		v, warns, _, err = e.cfg.API.Query(ctx, q, at)
		if len(warns) > 0 {
			e.cfg.Logger.LogAttrs(ctx, slog.LevelDebug, "prometheus warned",
				slog.String("slo", s.ID), slog.Any("warnings", []string(warns)))
		}
		return err
	})
	if err != nil {
		if msg, bad := refusedQuery(err); bad {
			return slo.Measurement{}, fmt.Errorf("%w: Prometheus refused its query as invalid (%s); correct the query in %s", slo.ErrBadQuery, msg, s.File)
		}
		return slo.Measurement{}, err
	}
	m, err := readMeasurement(v)
	if err != nil {
		return m, fmt.Errorf("%w: %w; correct the query in %s", slo.ErrBadQuery, err, s.File)
	}
	return m, nil
}

// Last returns the latest report at once, never waiting for an evaluation
// in progress.
func (e *Evaluator) Last() slo.Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := slo.Snapshot{Report: e.last, Stale: e.reason != "", Reason: e.reason, FailedAt: e.failedAt}
	if !e.last.At.IsZero() {
		s.Age = e.cfg.Now().Sub(e.last.At)
	}
	return s
}

// BudgetSpent is the share of s's error budget for the whole period spent
// between from and to: the burn rate over that range, from one ratio
// query over it, times its share of the period. 0.25 means the range alone
// spent a quarter of the period's budget. The error matches slo.ErrNoData when
// Prometheus has nothing for the range.
func (e *Evaluator) BudgetSpent(ctx context.Context, s slo.SLO, from, to time.Time) (float64, error) {
	d := to.Sub(from).Round(time.Second)
	if d <= 0 {
		return 0, fmt.Errorf("budget spent by %s: the range %s to %s is empty", s.ID, from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	m, err := e.measure(ctx, s, d, false, to, nil)
	if err != nil {
		return 0, fmt.Errorf("budget spent by %s: %w", s.ID, err)
	}
	burn := slo.BurnRate(m.ErrorRatio, s.ErrorBudget())
	if !known(burn) {
		return 0, fmt.Errorf("budget spent by %s over %s: %w", s.ID, slo.FormatWindow(d), slo.ErrNoData)
	}
	return burn * d.Seconds() / s.PeriodOr(e.cfg.Windows.Period).Seconds(), nil
}

// ServiceBudgetSpent is BudgetSpent for every SLO of service, keeping the
// largest: what an incident of that service cost. SLOs without data are
// skipped, and so are SLOs whose queries are wrong (slo.ErrBadQuery): one
// SLO's configuration error must not hide what the others measured; they
// are named in Spent.Unmeasured. The error matches slo.ErrUnknownService
// when the service has no SLO and slo.ErrNoData when none was measured
// (and slo.ErrBadQuery too when a wrong query was the reason).
func (e *Evaluator) ServiceBudgetSpent(ctx context.Context, service string, from, to time.Time) (slo.Spent, error) {
	var (
		best   = slo.Spent{Share: -1}
		found  bool
		bad    []string
		badErr error
	)
	for _, s := range e.SLOs() {
		if s.Service != service {
			continue
		}
		found = true
		share, err := e.BudgetSpent(ctx, s, from, to)
		switch {
		case errors.Is(err, slo.ErrNoData):
			continue
		case errors.Is(err, slo.ErrBadQuery):
			bad = append(bad, s.ID)
			if badErr == nil {
				badErr = err
			}
			continue
		case err != nil:
			return slo.Spent{}, err
		}
		if share > best.Share {
			best = slo.Spent{SLO: s.ID, Share: share}
		}
	}
	switch {
	case !found:
		return slo.Spent{}, fmt.Errorf("budget spent by %s: %w", service, slo.ErrUnknownService)
	case best.SLO == "" && badErr != nil:
		return slo.Spent{}, fmt.Errorf("budget spent by %s: %w: %w", service, slo.ErrNoData, badErr)
	case best.SLO == "":
		return slo.Spent{}, fmt.Errorf("budget spent by %s: %w", service, slo.ErrNoData)
	}
	best.Unmeasured = bad
	return best, nil
}
