package storage

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ooda-sre/ooda/incident"
)

// Pending returns up to limit effects not yet done (all of them when limit
// is 0 or less), in the order they were committed. It skips nothing: which
// of them is due (NextAt) and which must wait for an earlier effect of the
// same incident is the executor's decision.
func (db *DB) Pending(ctx context.Context, limit int) ([]incident.Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []incident.Pending
	err := db.read("read outbox", func(t txn) error {
		out = nil
		c := t.outbox.Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var p incident.Pending
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("outbox entry %d: %w", btoi(k), err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// Complete removes effect outboxSeq from the outbox and keeps its outcome
// under the effect's key (see EffectResult). When outcome.Decide is set,
// the events it returns are appended to the effect's incident in the same
// transaction, exactly as Apply would with outcome.Key as the idempotency
// key (no key: no dedupe record; the outbox entry's removal already makes
// the completion happen once). If Decide fails, nothing is written and its
// error is returned as it is.
//
// Completing an effect that is no longer in the outbox (completed before,
// or never queued) writes nothing: it returns the result outcome.Key first
// recorded if there is one, and an empty result otherwise, both with
// Duplicate set.
func (db *DB) Complete(ctx context.Context, outboxSeq uint64, outcome incident.Outcome) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	var res incident.Result
	err := db.write("complete effect", func(t txn) error {
		// Assigned on every run: a batch may run this closure twice.
		var err error
		res, err = t.complete(outboxSeq, outcome)
		return err
	})
	if err != nil {
		return incident.Result{}, err
	}
	return res, nil
}

func (t txn) complete(seq uint64, o incident.Outcome) (incident.Result, error) {
	p, ok, err := t.pending(seq)
	if err != nil {
		return incident.Result{}, err
	}
	if !ok {
		if res, ok, err := t.duplicate(o.Key); err != nil || ok {
			return res, err
		}
		return incident.Result{Duplicate: true}, nil
	}
	// The outcome's own events are decided before anything is written, so
	// a refused Decide leaves the effect in the outbox as it was.
	var res incident.Result
	if o.Decide != nil {
		res, err = t.apply(p.Effect.Incident, o.Key, o.Decide)
		if err != nil {
			return incident.Result{}, err
		}
	} else {
		inc, _, err := t.incident(p.Effect.Incident)
		if err != nil {
			return incident.Result{}, err
		}
		res = incident.Result{Incident: inc}
	}
	if err := t.outbox.Delete(itob(seq)); err != nil {
		return incident.Result{}, err
	}
	if o.At.IsZero() {
		o.At = t.now
	}
	if err := putJSON(t.fx, []byte(p.Effect.Key), o); err != nil {
		return incident.Result{}, err
	}
	return res, nil
}

func (t txn) pending(seq uint64) (incident.Pending, bool, error) {
	v := t.outbox.Get(itob(seq))
	if v == nil {
		return incident.Pending{}, false, nil
	}
	var p incident.Pending
	if err := json.Unmarshal(v, &p); err != nil {
		return incident.Pending{}, false, fmt.Errorf("outbox entry %d: %w", seq, err)
	}
	return p, true, nil
}

// Defer records a failed attempt at effect outboxSeq: how many attempts
// there have been, when to try next, what went wrong and any partial
// result. An effect no longer in the outbox (completed meanwhile) is left
// alone.
func (db *DB) Defer(ctx context.Context, outboxSeq uint64, retry incident.Retry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.write("defer effect", func(t txn) error {
		p, ok, err := t.pending(outboxSeq)
		if err != nil || !ok {
			return err
		}
		p.Attempts = retry.Attempts
		p.NextAt = retry.NextAt
		p.LastError = retry.Error
		p.Result = retry.Result
		return putJSON(t.outbox, itob(outboxSeq), p)
	})
}

// EffectResult returns the outcome of the completed effect with key, and
// whether there is one.
func (db *DB) EffectResult(ctx context.Context, key string) (incident.Outcome, bool, error) {
	if err := ctx.Err(); err != nil {
		return incident.Outcome{}, false, err
	}
	var o incident.Outcome
	var found bool
	err := db.read("read effect result", func(t txn) error {
		v := t.fx.Get([]byte(key))
		if found = v != nil; !found {
			return nil
		}
		o = incident.Outcome{}
		return json.Unmarshal(v, &o)
	})
	return o, found, err
}

// OutboxStats returns how many effects wait and when the oldest was
// queued (zero when none waits).
func (db *DB) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	err = db.read("read outbox stats", func(t txn) error {
		depth = t.outbox.Stats().KeyN
		oldest = time.Time{}
		if k, _ := t.outbox.Cursor().First(); k != nil {
			p, _, err := t.pending(btoi(k))
			oldest = p.QueuedAt
			return err
		}
		return nil
	})
	return depth, oldest, err
}
