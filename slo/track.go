package slo

import (
	"context"
	"time"
)

// State is what Ooda remembers about one SLO between evaluations, so that
// a warning is posted once per change and a restart does not repeat it.
type State struct {
	SLO     string `json:"slo"`
	Service string `json:"service"`
	// Level is the level of the latest evaluation that could be made.
	Level Level `json:"level"`
	// Since is when the SLO reached Level.
	Since time.Time `json:"since"`
	// NotifiedAt is when the latest notice about Level was given.
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// Frozen is set while the SLO's budget over the period is spent.
	Frozen      bool      `json:"frozen"`
	FrozenSince time.Time `json:"frozen_since,omitzero"`
	// BudgetRemaining is the latest known share of the budget left; nil
	// until one is known.
	BudgetRemaining *float64  `json:"budget_remaining"`
	EvaluatedAt     time.Time `json:"evaluated_at"`
}

// NoticeKind says why a Notice was given.
type NoticeKind string

// The kinds of notice.
const (
	// NoticeWarning: the SLO reached page, ticket or no data, from
	// anywhere (page to ticket is a warning too: the level changed).
	NoticeWarning NoticeKind = "warning"
	// NoticeRepeat: the SLO is still alerting after the re-notify interval.
	NoticeRepeat NoticeKind = "repeat"
	// NoticeRecovery: the SLO left page, ticket or no data for ok or low
	// traffic.
	NoticeRecovery NoticeKind = "recovery"
	// NoticeFreeze: only the freeze changed; see Notice.Freeze.
	NoticeFreeze NoticeKind = "freeze"
)

// FreezeChange is a freeze starting or ending with a notice.
type FreezeChange string

// The freeze changes; the empty FreezeChange is none.
const (
	FreezeStarted FreezeChange = "started"
	FreezeEnded   FreezeChange = "ended"
)

// Notice is something to tell people about an SLO: what the Slack layer
// posts. A level change and a freeze change of the same evaluation come in
// one notice.
type Notice struct {
	Kind    NoticeKind
	SLO     string
	Service string
	File    string
	// From is the level before; empty on an SLO's first evaluation.
	From   Level
	To     Level
	Freeze FreezeChange
	// Result is the evaluation behind the notice: burn rates per window,
	// budget left, time to exhaustion.
	Result Result
	At     time.Time
}

// Track folds one evaluation of an SLO into its state and says what, if
// anything, to announce. A change of level gives one notice: a warning on
// reaching page, ticket or no data, a recovery on leaving them (moving
// between ok and low traffic is not news). While the level stays alerting
// the warning is repeated when renotify has passed since the last notice
// (never when renotify ≤ 0). A freeze starts when the budget is spent and
// ends when some comes back, with a notice each; while the budget is
// unknown the freeze stays as it was. A failed evaluation (LevelError,
// LevelConfigError) changes nothing.
func Track(prev State, r Result, now time.Time, renotify time.Duration) (State, *Notice) {
	if r.Level.Failed() || r.Level == "" {
		return prev, nil
	}
	next := prev
	next.SLO, next.Service, next.EvaluatedAt = r.SLO, r.Service, now
	var kind NoticeKind
	switch {
	case prev.Level != r.Level:
		next.Level, next.Since = r.Level, now
		switch {
		case r.Level.Alerting():
			kind = NoticeWarning
		case prev.Level.Alerting():
			kind = NoticeRecovery
		}
	case r.Level.Alerting() && renotify > 0 && now.Sub(prev.NotifiedAt) >= renotify:
		kind = NoticeRepeat
	}
	if kind != "" {
		next.NotifiedAt = now
	}

	var freeze FreezeChange
	if known(r.BudgetRemaining) {
		b := r.BudgetRemaining
		next.BudgetRemaining = &b
		switch spent := r.Exhausted(); {
		case spent && !prev.Frozen:
			next.Frozen, next.FrozenSince, freeze = true, now, FreezeStarted
		case !spent && prev.Frozen:
			next.Frozen, next.FrozenSince, freeze = false, time.Time{}, FreezeEnded
		}
	}
	if kind == "" && freeze == "" {
		return next, nil
	}
	if kind == "" {
		kind = NoticeFreeze
	}
	return next, &Notice{
		Kind: kind, SLO: r.SLO, Service: r.Service, File: r.File,
		From: prev.Level, To: r.Level, Freeze: freeze, Result: r, At: now,
	}
}

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
