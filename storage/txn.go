package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// txn is one bbolt transaction seen as Ooda's records: the buckets it
// touches and the time it is committed at.
type txn struct {
	tx                                                    *bbolt.Tx
	now                                                   time.Time
	meta, incidents, events, channels, dedupe, outbox, fx *bbolt.Bucket
	// touched collects the incidents the transaction changes, for the
	// feed (WatchIncidents); nil where nobody listens.
	touched *[]uint64
}

func newTxn(tx *bbolt.Tx, now time.Time) txn {
	return txn{
		tx: tx, now: now,
		meta:      tx.Bucket(bucketMeta),
		incidents: tx.Bucket(bucketIncidents),
		events:    tx.Bucket(bucketEvents),
		channels:  tx.Bucket(bucketChannels),
		dedupe:    tx.Bucket(bucketDedupe),
		outbox:    tx.Bucket(bucketOutbox),
		fx:        tx.Bucket(bucketEffects),
	}
}

// dedupeRecord is what an idempotency key remembers: which events the
// command that first used it appended.
type dedupeRecord struct {
	Incident  uint64    `json:"incident"`
	FirstSeq  uint64    `json:"first_seq"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
}

// refusal is a command the store declined before writing anything: the
// decider's own error, or a change that breaks the log's rules. The write
// closure reports it to the caller and returns nil, so a batch it shares
// with other commands still commits theirs.
type refusal struct{ err error }

func (r refusal) Error() string { return r.err.Error() }

// incident loads incident n's snapshot.
func (t txn) incident(n uint64) (incident.Incident, bool, error) {
	v := t.incidents.Get(itob(n))
	if v == nil {
		return incident.Incident{}, false, nil
	}
	var inc incident.Incident
	if err := json.Unmarshal(v, &inc); err != nil {
		return incident.Incident{}, false, fmt.Errorf("%s snapshot: %w", incident.ID(n), err)
	}
	return inc, true, nil
}

// eventRange reads incident n's events with from <= seq < to (to 0: all).
func (t txn) eventRange(n, from, to uint64) ([]timeline.Event, error) {
	b := t.events.Bucket(itob(n))
	if b == nil {
		return nil, nil
	}
	from = max(from, 1)
	c := b.Cursor()
	var out []timeline.Event
	if last, _ := c.Last(); last != nil && btoi(last) >= from {
		end := btoi(last) + 1
		if to != 0 && to < end {
			end = to
		}
		if end > from {
			out = make([]timeline.Event, 0, end-from)
		}
	}
	for k, v := c.Seek(itob(from)); k != nil && (to == 0 || btoi(k) < to); k, v = c.Next() {
		e, err := decodeEvent(v)
		if err != nil {
			return nil, fmt.Errorf("%s event %d: %w", incident.ID(n), btoi(k), err)
		}
		out = append(out, e)
	}
	return out, nil
}

// duplicate returns what the command that first used key left behind, if
// one did.
func (t txn) duplicate(key string) (incident.Result, bool, error) {
	if key == "" {
		return incident.Result{}, false, nil
	}
	v := t.dedupe.Get([]byte(key))
	if v == nil {
		return incident.Result{}, false, nil
	}
	var d dedupeRecord
	if err := json.Unmarshal(v, &d); err != nil {
		return incident.Result{}, false, fmt.Errorf("dedupe key %q: %w", key, err)
	}
	inc, ok, err := t.incident(d.Incident)
	if err != nil {
		return incident.Result{}, false, err
	}
	if !ok {
		return incident.Result{}, false, fmt.Errorf("dedupe key %q points to %s, which is missing", key, incident.ID(d.Incident))
	}
	events, err := t.eventRange(d.Incident, d.FirstSeq, d.FirstSeq+d.Count)
	if err != nil {
		return incident.Result{}, false, err
	}
	return incident.Result{Incident: inc, Events: events, Duplicate: true}, true, nil
}

// decide runs a command. A panic in it is a bug in the domain; it fails
// the command instead of the process.
func decide(fn func() (incident.Change, error)) (ch incident.Change, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("storage: command panicked: %v", r)
		}
	}()
	return fn()
}

// Prepare checks a change against the log's rules and folds it into the
// state before it: events continue the log without gaps, effects carry a
// key and their own incident, and the events describe incident n. It
// writes nothing; a backend refuses the change with its error. Every
// backend applies these rules, and the conformance suite holds them to
// the same sentences.
func Prepare(before incident.Incident, n uint64, ch incident.Change) (incident.Incident, error) {
	id := incident.ID(n)
	if len(ch.Events) == 0 && len(ch.Effects) > 0 {
		return incident.Incident{}, fmt.Errorf("storage: %s: a change queued effects without recording an event", id)
	}
	for i, e := range ch.Events {
		// Sequences are assigned by the domain from the state it was
		// given; a gap or an overlap means it decided on stale state.
		if want := before.LastSeq + 1 + uint64(i); e.Seq != want {
			return incident.Incident{}, fmt.Errorf("storage: %s: event %d has sequence %d, want %d: events must continue the log without gaps", id, i, e.Seq, want)
		}
	}
	for _, fx := range ch.Effects {
		if fx.Incident != n || fx.Key == "" {
			return incident.Incident{}, fmt.Errorf("storage: %s: effect %q belongs to %s; effects must carry a key and their own incident", id, fx.Key, incident.ID(fx.Incident))
		}
	}
	after := before.Clone()
	for _, e := range ch.Events {
		after.Apply(e)
	}
	if after.Number != n {
		return incident.Incident{}, fmt.Errorf("storage: %s: the events describe %s", id, incident.ID(after.Number))
	}
	return after, nil
}

// prepare is Prepare, with the channel index this file keeps: a change
// that gives the incident a channel another incident has is refused.
func (t txn) prepare(before incident.Incident, n uint64, ch incident.Change) (incident.Incident, error) {
	after, err := Prepare(before, n, ch)
	if err != nil {
		return incident.Incident{}, refusal{err}
	}
	if after.ChannelID != before.ChannelID && after.ChannelID != "" {
		if v := t.channels.Get([]byte(after.ChannelID)); v != nil && btoi(v) != n {
			return incident.Incident{}, refusal{fmt.Errorf("storage: channel %s already belongs to %s", after.ChannelID, incident.ID(btoi(v)))}
		}
	}
	return after, nil
}

// touch records that the transaction changes incident n (its events, its
// snapshot or its transcript), to be told to the feed once it commits.
func (t txn) touch(n uint64) {
	if t.touched == nil {
		return
	}
	if ns := *t.touched; len(ns) > 0 && ns[len(ns)-1] == n {
		return // a load touches one incident many times in a row
	}
	*t.touched = append(*t.touched, n)
}

// commit writes a prepared change: its events, the snapshot after them,
// the channel index, the idempotency key (unless key is empty) and the
// effects it queues, all in the caller's transaction.
func (t txn) commit(before, after incident.Incident, key string, ch incident.Change) (incident.Result, error) {
	n := after.Number
	t.touch(n)
	eb, err := t.events.CreateBucketIfNotExists(itob(n))
	if err != nil {
		return incident.Result{}, err
	}
	// Events only ever go at the end of their bucket: full pages waste
	// nothing, where bbolt's default half-full split would double the file.
	eb.FillPercent = 0.95
	for _, e := range ch.Events {
		if err := eb.Put(itob(e.Seq), encodeEvent(e)); err != nil {
			return incident.Result{}, err
		}
	}
	if err := putJSON(t.incidents, itob(n), after); err != nil {
		return incident.Result{}, err
	}
	if after.ChannelID != before.ChannelID {
		if old := before.ChannelID; old != "" {
			if v := t.channels.Get([]byte(old)); v != nil && btoi(v) == n {
				if err := t.channels.Delete([]byte(old)); err != nil {
					return incident.Result{}, err
				}
			}
		}
		if after.ChannelID != "" {
			if err := t.channels.Put([]byte(after.ChannelID), itob(n)); err != nil {
				return incident.Result{}, err
			}
		}
	}
	if key != "" && len(ch.Events) > 0 {
		d := dedupeRecord{Incident: n, FirstSeq: ch.Events[0].Seq, Count: uint64(len(ch.Events)), FirstSeen: t.now}
		if err := putJSON(t.dedupe, []byte(key), d); err != nil {
			return incident.Result{}, err
		}
	}
	for _, fx := range ch.Effects {
		seq, err := t.outbox.NextSequence()
		if err != nil {
			return incident.Result{}, err
		}
		if err := putJSON(t.outbox, itob(seq), incident.Pending{OutboxSeq: seq, Effect: fx, QueuedAt: t.now}); err != nil {
			return incident.Result{}, err
		}
	}
	return incident.Result{Incident: after, Events: ch.Events, Effects: ch.Effects}, nil
}

// apply is Apply inside a transaction: the shared path of Apply and of an
// outcome's Decide in Complete.
func (t txn) apply(n uint64, key string, d incident.Decider) (incident.Result, error) {
	if res, ok, err := t.duplicate(key); err != nil || ok {
		return res, err
	}
	before, ok, err := t.incident(n)
	if err != nil {
		return incident.Result{}, err
	}
	if !ok {
		return incident.Result{}, refusal{incident.NotFound(n)}
	}
	ch, err := decide(func() (incident.Change, error) {
		c := before.Clone()
		return d(&c)
	})
	if err != nil {
		return incident.Result{}, refusal{err}
	}
	after, err := t.prepare(before, n, ch)
	if err != nil {
		return incident.Result{}, err
	}
	if len(ch.Events) == 0 {
		return incident.Result{Incident: before}, nil
	}
	return t.commit(before, after, key, ch)
}

func putJSON(b *bbolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(key, data)
}

// write runs fn in a write transaction and separates its refusals (a
// command declined, nothing written, returned as they are) from failures
// of the store (wrapped with op).
func (db *DB) write(op string, fn func(t txn) error) error {
	return db.inTx(op, db.update, db.nowUTC, fn)
}

// read runs fn in a read transaction, separating refusals as write does.
func (db *DB) read(op string, fn func(t txn) error) error {
	return db.inTx(op, db.view, func() time.Time { return time.Time{} }, fn)
}

// inTx runs fn through do (update or view). A refusal (see refusal: made
// before anything is written) lets the transaction end normally, so a batch
// it shares still commits, and comes back to the caller as it is. The
// closure may run more than once (a failed batch is retried one by one), so
// it starts afresh each time; the incidents its last run touched are told
// to the feed once do has returned, which is after they were committed.
func (db *DB) inTx(op string, do func(func(*bbolt.Tx) error) error, now func() time.Time, fn func(t txn) error) error {
	var refused error
	var touched []uint64
	err := do(func(tx *bbolt.Tx) error {
		refused, touched = nil, touched[:0]
		t := newTxn(tx, now())
		t.touched = &touched
		err := fn(t)
		var r refusal
		if errors.As(err, &r) {
			refused = r.err
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	db.feed.publish(touched)
	return refused
}
