package slo

import (
	"errors"
	"math"
	"time"
)

// Level is what an evaluation says about an SLO.
type Level string

// The levels, from an SLO's point of view.
const (
	// LevelOK: no alert fires.
	LevelOK Level = "ok"
	// LevelTicket: a ticket alert fires (1d/2h or 3d/6h).
	LevelTicket Level = "ticket"
	// LevelPage: a page alert fires (1h/5m or 6h/30m).
	LevelPage Level = "page"
	// LevelNoData: the fast page's long window (1h) has no error ratio:
	// the queries return nothing or NaN, so nothing can page.
	LevelNoData Level = "no_data"
	// LevelLowTraffic: too few requests to judge; see Assess.
	LevelLowTraffic Level = "low_traffic"
	// LevelError: the evaluation failed (Prometheus unreachable, slow or
	// failing); nothing is known, and Track leaves the state as it was.
	LevelError Level = "error"
	// LevelConfigError: Prometheus answered, but refused the SLO's query
	// as invalid (HTTP 400 bad_data, 422 execution) or returned what no
	// error ratio can be read from: the SLO's file is wrong, not
	// Prometheus (ErrBadQuery). Nothing is known, and Track leaves the
	// state as it was.
	LevelConfigError Level = "config_error"
)

// Failed reports whether the level is an evaluation that could not be
// made: LevelError or LevelConfigError.
func (l Level) Failed() bool { return l == LevelError || l == LevelConfigError }

// Alerting reports whether the level needs someone's attention: a page, a
// ticket, or the data that would page missing.
func (l Level) Alerting() bool {
	return l == LevelPage || l == LevelTicket || l == LevelNoData
}

// budgetTolerance absorbs floating-point error around an exactly spent
// budget: a billionth of a budget is below anything Prometheus can measure.
const budgetTolerance = 1e-9

// known reports whether v is a measurement rather than "no data".
func known(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// BurnRate is how many times faster than sustainable the budget burns:
// errorRatio / errorBudget. It is NaN when the ratio is unknown, never 0.
func BurnRate(errorRatio, errorBudget float64) float64 {
	if !known(errorRatio) || errorRatio < 0 || !(errorBudget > 0) {
		return math.NaN()
	}
	return errorRatio / errorBudget
}

// BudgetRemaining is the share of the period's error budget left given the
// error ratio over the whole period: 1 − ratio/budget. It is negative once
// overspent and NaN when the ratio is unknown.
func BudgetRemaining(periodRatio, errorBudget float64) float64 {
	b := BurnRate(periodRatio, errorBudget)
	if !known(b) {
		return math.NaN()
	}
	return 1 - b
}

// Exhausted reports whether a remaining budget is spent (at or below zero).
func Exhausted(remaining float64) bool {
	return known(remaining) && remaining <= budgetTolerance
}

// TimeToExhaustion is how long the remaining budget lasts at a burn rate:
// a burn of 1 spends a whole budget in one period. ok is false when it
// never runs out at that rate or either figure is unknown; a budget
// already spent gives 0.
func TimeToExhaustion(remaining, burn float64, period time.Duration) (d time.Duration, ok bool) {
	switch {
	case !known(remaining) || !known(burn):
		return 0, false
	case Exhausted(remaining):
		return 0, true
	case burn <= 0:
		return 0, false
	}
	f := remaining * float64(period) / burn
	if f >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(f), true
}

// Measurement is what Prometheus said about one window. NaN means no data.
type Measurement struct {
	ErrorRatio float64
	// Requests is the number of events in the window; NaN when unknown
	// (raw SLIs have no total).
	Requests float64
}

// WindowBurn is one window of a Result.
type WindowBurn struct {
	Window     time.Duration
	ErrorRatio float64 // NaN: no data
	Burn       float64 // NaN: no data
	Requests   float64 // NaN: unknown
}

// Result is the evaluation of one SLO at one instant.
type Result struct {
	SLO     string // service/name
	Service string
	Name    string
	File    string
	// Objective is in percent, as in the file.
	Objective float64
	// Period is the SLO period the windows and the budget are measured
	// over; zero when nothing was measured.
	Period time.Duration
	Level  Level
	// Alert is the alert that set a page or ticket level; zero otherwise.
	Alert Alert
	// Windows are the measured windows, shortest first; the last is the
	// period.
	Windows []WindowBurn
	// BudgetRemaining is the share of the period's budget left: 1 is
	// untouched, 0 or less is spent, NaN is no data.
	BudgetRemaining float64
	// Burn is the burn rate the exhaustion time assumes: the fast page's
	// long window (1h), or the longest window with data when it has none.
	Burn float64
	// ExhaustsIn is how long the budget lasts at Burn, when Exhausts.
	ExhaustsIn time.Duration
	Exhausts   bool
	// Err says why Level is LevelError or LevelConfigError.
	Err error
}

// Exhausted reports whether the SLO's budget over the period is spent,
// which freezes its service.
func (r Result) Exhausted() bool { return Exhausted(r.BudgetRemaining) }

// Window returns the measurement of window d.
func (r Result) Window(d time.Duration) (WindowBurn, bool) {
	for _, w := range r.Windows {
		if w.Window == d {
			return w, true
		}
	}
	return WindowBurn{}, false
}

func newResult(s SLO) Result {
	return Result{
		SLO: s.ID, Service: s.Service, Name: s.Name, File: s.File, Objective: s.Objective,
		BudgetRemaining: math.NaN(), Burn: math.NaN(),
	}
}

// Failed is the result of an SLO whose evaluation could not finish, with
// err and nothing measured: LevelConfigError when err matches
// ErrBadQuery, LevelError otherwise.
func Failed(s SLO, err error) Result {
	r := newResult(s)
	r.Level, r.Err = LevelError, err
	if errors.Is(err, ErrBadQuery) {
		r.Level = LevelConfigError
	}
	return r
}

// Assess judges one SLO from its measurements, keyed by window (every
// window of w.Durations, the period included; a missing one is no data).
// Alerts are tried pages first; an alert fires when both of its windows
// burn strictly faster than its threshold and its long window carried at
// least minRequests requests (when known; minRequests ≤ 0 disables the
// check). With no alert firing, the level is low traffic when the fast
// page's long window carried fewer than minRequests, or when an alert was
// held back for that reason; no data when that window has no error ratio;
// ok otherwise.
func Assess(s SLO, w Windows, m map[time.Duration]Measurement, minRequests float64) Result {
	r := newResult(s)
	r.Period = w.Period
	budget := s.ErrorBudget()
	for _, d := range w.Durations() {
		ms, ok := m[d]
		if !ok {
			ms = Measurement{ErrorRatio: math.NaN(), Requests: math.NaN()}
		}
		ratio := ms.ErrorRatio
		if !known(ratio) || ratio < 0 {
			ratio = math.NaN()
		}
		req := ms.Requests
		if !known(req) {
			req = math.NaN()
		}
		r.Windows = append(r.Windows, WindowBurn{Window: d, ErrorRatio: ratio, Burn: BurnRate(ratio, budget), Requests: req})
	}
	get := func(d time.Duration) WindowBurn {
		wb, _ := r.Window(d)
		return wb
	}
	tooFew := func(d time.Duration) bool {
		req := get(d).Requests
		return minRequests > 0 && known(req) && req < minRequests
	}

	heldBack := false
	for _, a := range w.Alerts() {
		if a.Level == LevelPage && s.Alerting.Page.Disable || a.Level == LevelTicket && s.Alerting.Ticket.Disable {
			continue
		}
		// NaN compares false: a window without data never fires.
		if !(get(a.Window.Long).Burn > a.Threshold && get(a.Window.Short).Burn > a.Threshold) {
			continue
		}
		if tooFew(a.Window.Long) {
			heldBack = true
			continue
		}
		r.Level, r.Alert = a.Level, a
		break
	}
	if r.Level == "" {
		fast := w.PageQuick.Long
		switch {
		case heldBack || tooFew(fast):
			r.Level = LevelLowTraffic
		case !known(get(fast).ErrorRatio):
			r.Level = LevelNoData
		default:
			r.Level = LevelOK
		}
	}

	r.BudgetRemaining = BudgetRemaining(get(w.Period).ErrorRatio, budget)
	r.Burn = get(w.PageQuick.Long).Burn
	if !known(r.Burn) {
		for i := len(r.Windows) - 1; i >= 0; i-- {
			if known(r.Windows[i].Burn) {
				r.Burn = r.Windows[i].Burn
				break
			}
		}
	}
	r.ExhaustsIn, r.Exhausts = TimeToExhaustion(r.BudgetRemaining, r.Burn, w.Period)
	return r
}

// PostmortemBudgetShare is the share of a period's error budget an
// incident must spend alone to need a post-mortem.
const PostmortemBudgetShare = 0.2

// Spent is the budget an interval spent for the SLO of a service that it
// hurt most.
type Spent struct {
	SLO string
	// Share is the share of the period's budget spent: the burn rate over
	// the interval times the interval's share of the period.
	Share float64
	// Unmeasured are the service's SLOs left out because their queries
	// are wrong (ErrBadQuery): the share is the largest of the others, and
	// may miss what these spent.
	Unmeasured []string
}

// NeedsPostmortem reports whether the share is over PostmortemBudgetShare.
func (s Spent) NeedsPostmortem() bool { return s.Share > PostmortemBudgetShare }
