package storage

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// Declare allocates the next incident number and commits what decide
// returns for it, in one transaction: the events, the snapshot, the
// idempotency key and the effects. A key seen before returns the first
// declaration's result with Duplicate set and writes nothing.
//
// The number comes from meta/next_incident inside the transaction, so
// concurrent declarations get distinct numbers and a committed number is
// never handed out again. When decide fails, the transaction writes
// nothing, the allocation included: the refused number was shown to nobody,
// so giving it to the next declaration reuses nothing anyone can refer to,
// and the numbers people see have no gaps. decide's error is returned as
// it is, so errors.Is(err, incident.ErrInvalid) still holds.
func (db *DB) Declare(ctx context.Context, key string, decide func(number uint64) (incident.Change, error)) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	if key == "" {
		return incident.Result{}, errNoKey
	}
	var res incident.Result
	err := db.write("declare", func(t txn) error {
		// Assigned on every run: a batch may run this closure twice.
		var err error
		res, err = t.declare(key, decide)
		return err
	})
	if err != nil {
		return incident.Result{}, err
	}
	return res, nil
}

func (t txn) declare(key string, d func(uint64) (incident.Change, error)) (incident.Result, error) {
	if res, ok, err := t.duplicate(key); err != nil || ok {
		return res, err
	}
	n := btoi(t.meta.Get(keyNextIncident))
	ch, err := decide(func() (incident.Change, error) { return d(n) })
	if err != nil {
		return incident.Result{}, refusal{err}
	}
	if len(ch.Events) == 0 || ch.Events[0].Kind != timeline.KindDeclared {
		return incident.Result{}, refusal{fmt.Errorf("storage: declaring %s must record a %s event first", incident.ID(n), timeline.KindDeclared)}
	}
	after, err := t.prepare(incident.Incident{}, n, ch)
	if err != nil {
		return incident.Result{}, err
	}
	if err := t.meta.Put(keyNextIncident, itob(n+1)); err != nil {
		return incident.Result{}, err
	}
	return t.commit(incident.Incident{}, after, key, ch)
}

// Apply commits what decide returns for incident number, in one
// transaction, deciding on the freshest state. A key seen before returns
// the first application's result with Duplicate set and writes nothing. A
// change without events writes nothing and returns the current state. It
// returns incident.NotFound(number) when there is no such incident, and
// decide's own error as it is.
func (db *DB) Apply(ctx context.Context, number uint64, key string, decide incident.Decider) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	if key == "" {
		return incident.Result{}, errNoKey
	}
	var res incident.Result
	err := db.write("apply", func(t txn) error {
		// Assigned on every run: a batch may run this closure twice.
		var err error
		res, err = t.apply(number, key, decide)
		return err
	})
	if err != nil {
		return incident.Result{}, err
	}
	return res, nil
}

// Incident returns the current state of incident number, or
// incident.NotFound(number).
func (db *DB) Incident(ctx context.Context, number uint64) (incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return incident.Incident{}, err
	}
	var inc incident.Incident
	err := db.read("read incident", func(t txn) error {
		var ok bool
		var err error
		inc, ok, err = t.incident(number)
		if err == nil && !ok {
			err = refusal{incident.NotFound(number)}
		}
		return err
	})
	return inc, err
}

// Events returns incident number's events with sequence >= from, in
// order, or incident.NotFound(number).
func (db *DB) Events(ctx context.Context, number uint64, from uint64) ([]timeline.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var events []timeline.Event
	err := db.read("read events", func(t txn) error {
		if t.incidents.Get(itob(number)) == nil {
			return refusal{incident.NotFound(number)}
		}
		var err error
		events, err = t.eventRange(number, from, 0)
		return err
	})
	return events, err
}

// Event returns incident number's event seq, or an error wrapping
// incident.ErrNotFound when the incident or the event does not exist.
func (db *DB) Event(ctx context.Context, number uint64, seq uint64) (timeline.Event, error) {
	if err := ctx.Err(); err != nil {
		return timeline.Event{}, err
	}
	var event timeline.Event
	err := db.read("read event", func(t txn) error {
		events, err := t.eventRange(number, seq, seq+1)
		if err != nil {
			return err
		}
		if len(events) == 0 {
			if t.incidents.Get(itob(number)) == nil {
				return refusal{incident.NotFound(number)}
			}
			return refusal{fmt.Errorf("%s has no event %d: %w", incident.ID(number), seq, incident.ErrNotFound)}
		}
		event = events[0]
		return nil
	})
	return event, err
}

// Incidents lists incidents, newest first; only active ones unless all.
func (db *DB) Incidents(ctx context.Context, all bool) ([]incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []incident.Incident
	err := db.read("list incidents", func(t txn) error {
		out = nil
		c := t.incidents.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var inc incident.Incident
			if err := json.Unmarshal(v, &inc); err != nil {
				return fmt.Errorf("%s snapshot: %w", incident.ID(btoi(k)), err)
			}
			if all || inc.Status.Active() {
				out = append(out, inc)
			}
		}
		return nil
	})
	return out, err
}

// IncidentByChannel finds the incident whose channel is channelID. It
// returns an error wrapping incident.ErrNotFound when no incident has it.
func (db *DB) IncidentByChannel(ctx context.Context, channelID string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var n uint64
	err := db.read("find incident by channel", func(t txn) error {
		v := t.channels.Get([]byte(channelID))
		if v == nil {
			return refusal{fmt.Errorf("channel %s is not an incident channel: %w", channelID, incident.ErrNotFound)}
		}
		n = btoi(v)
		return nil
	})
	return n, err
}
