package incident

import (
	"context"
	"time"

	"github.com/ooda-sre/ooda/timeline"
)

// Decider is a command applied to the state it is about to change. It runs
// inside the store's transaction, on the freshest state, and may run more
// than once (a batched transaction that fails is retried alone), so it must
// be a pure function of its argument.
type Decider func(inc *Incident) (Change, error)

// Result is what a committed command left behind.
type Result struct {
	Incident Incident         // the state after the command
	Events   []timeline.Event // the events the command appended, with their sequences
	Effects  []Effect         // the effects it queued
	// Duplicate is true when the command's key had been seen before: nothing
	// was written and Events are the ones the first application recorded.
	Duplicate bool
}

// Store keeps incidents' event logs, their snapshots and the outbox of
// effects. An event, the snapshot it changes, its idempotency key and its
// effects are committed together or not at all. It speaks of incidents,
// events and effects, never of how it stores them, so a second backend can
// take its place.
type Store interface {
	// Declare allocates the next incident number and commits what decide
	// returns for it. Numbers are never reused, even when decide fails.
	Declare(ctx context.Context, key string, decide func(number uint64) (Change, error)) (Result, error)
	// Apply commits what decide returns for incident number. It returns an
	// error wrapping ErrNotFound when there is no such incident.
	Apply(ctx context.Context, number uint64, key string, decide Decider) (Result, error)
	// Incident returns the current state of incident number.
	Incident(ctx context.Context, number uint64) (Incident, error)
	// Events returns incident number's events with sequence >= from, in order.
	Events(ctx context.Context, number uint64, from uint64) ([]timeline.Event, error)
	// Event returns incident number's event seq, wrapping ErrNotFound when
	// there is none.
	Event(ctx context.Context, number uint64, seq uint64) (timeline.Event, error)
	// Incidents lists incidents, newest first; only active ones unless all.
	Incidents(ctx context.Context, all bool) ([]Incident, error)
	// IncidentByChannel finds the incident whose channel is channelID.
	IncidentByChannel(ctx context.Context, channelID string) (uint64, error)
}

// Outbox is the queue of effects the store keeps for the executor. An
// effect stays in the outbox until it is completed; its result is then kept
// under its key, so a later effect (an update of a kickoff message) can find
// what an earlier one produced.
type Outbox interface {
	// Pending returns up to limit effects not yet done, in commit order.
	Pending(ctx context.Context, limit int) ([]Pending, error)
	// Complete removes an effect from the outbox and records its outcome;
	// when the outcome carries a Decide, the events it returns are appended
	// to the effect's incident in the same transaction (a created channel,
	// a failure recorded in the timeline).
	Complete(ctx context.Context, outboxSeq uint64, outcome Outcome) (Result, error)
	// Defer records a failed attempt, what it learned, and when to try again.
	Defer(ctx context.Context, outboxSeq uint64, retry Retry) error
	// EffectResult returns the outcome of a completed effect by key.
	EffectResult(ctx context.Context, key string) (Outcome, bool, error)
	// OutboxStats returns how many effects wait and when the oldest was queued.
	OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error)
}

// Pending is an effect waiting in the outbox.
type Pending struct {
	OutboxSeq uint64            `json:"outbox_seq"`
	Effect    Effect            `json:"effect"`
	QueuedAt  time.Time         `json:"queued_at"`
	Attempts  int               `json:"attempts"`
	NextAt    time.Time         `json:"next_at,omitzero"`
	LastError string            `json:"last_error,omitempty"`
	Result    map[string]string `json:"result,omitempty"` // partial result of an earlier attempt (a message ts that landed)
}

// Retry is what a failed attempt leaves for the next one.
type Retry struct {
	Attempts int
	NextAt   time.Time
	Error    string
	Result   map[string]string
}

// Outcome is how an effect ended.
type Outcome struct {
	// Result holds what Slack returned that later effects need: channel id,
	// message ts, file id.
	Result map[string]string `json:"result,omitempty"`
	// Failed is true when the effect failed for good; Error says why.
	Failed bool      `json:"failed,omitempty"`
	Error  string    `json:"error,omitempty"`
	At     time.Time `json:"at"`
	// Key and Decide, when Decide is set, append events to the effect's
	// incident in the same transaction. They are not stored.
	Key    string  `json:"-"`
	Decide Decider `json:"-"`
}
