package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/timeline"
)

// Item is one thing a store keeps, in a form every backend reads and
// writes: what `ooda migrate` carries from one backend to another and what
// a backup of any backend is made of. Exactly one of its parts is set.
// Snapshots and the channel index are not items: they are the fold of an
// incident's events, rebuilt on load.
type Item struct {
	// NextIncident is the number the next declaration gets.
	NextIncident uint64 `json:"next_incident,omitempty"`
	// Log is one incident's whole event log, in order.
	Log *IncidentLog `json:"log,omitempty"`
	// Dedupe is one idempotency key and what it recorded.
	Dedupe *DedupeEntry `json:"dedupe,omitempty"`
	// Pending is one effect in the outbox, with its sequence.
	Pending *incident.Pending `json:"pending,omitempty"`
	// Effect is the stored outcome of one effect, by its key.
	Effect *EffectEntry `json:"effect,omitempty"`
	// Message is one message of an incident channel's transcript.
	Message *TranscriptEntry `json:"message,omitempty"`
	// SLO is one SLO's state.
	SLO *slo.State `json:"slo,omitempty"`
	// Person is one person of the workspace's directory.
	Person *people.Person `json:"person,omitempty"`
	// Session is one session of the web UI.
	Session *Session `json:"session,omitempty"`
}

// IncidentLog is an incident's number and its events.
type IncidentLog struct {
	Number uint64           `json:"number"`
	Events []timeline.Event `json:"events"`
}

// DedupeEntry is an idempotency key and the events it recorded: Count
// events of Incident from FirstSeq, first seen at FirstSeen.
type DedupeEntry struct {
	Key       string    `json:"key"`
	Incident  uint64    `json:"incident"`
	FirstSeq  uint64    `json:"first_seq"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
}

// EffectEntry is an effect's key and its stored outcome.
type EffectEntry struct {
	Key     string           `json:"key"`
	Outcome incident.Outcome `json:"outcome"`
}

// TranscriptEntry is one transcript message of an incident.
type TranscriptEntry struct {
	Incident uint64            `json:"incident"`
	Message  TranscriptMessage `json:"message"`
}

// ErrNotEmpty is Load's refusal of a store that holds data already.
var ErrNotEmpty = errors.New("the destination holds data already")

// Dump reads everything the file holds in one read transaction, so the
// items are of one moment, and hands them to emit in a fixed order: the
// counter, each incident's log (by number), idempotency keys, the outbox
// (in commit order), effect results, transcripts, SLO states, people
// (by member ID) and sessions (by ID).
func (db *DB) Dump(ctx context.Context, emit func(Item) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.read("dump", func(t txn) error {
		if v := t.meta.Get(keyNextIncident); v != nil {
			if err := emit(Item{NextIncident: btoi(v)}); err != nil {
				return err
			}
		}
		if err := t.incidents.ForEach(func(k, _ []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := btoi(k)
			log := IncidentLog{Number: n}
			if eb := t.events.Bucket(k); eb != nil {
				if err := eb.ForEach(func(_, v []byte) error {
					e, err := decodeEvent(v)
					if err != nil {
						return fmt.Errorf("%s: %w", incident.ID(n), err)
					}
					log.Events = append(log.Events, e)
					return nil
				}); err != nil {
					return err
				}
			}
			return emit(Item{Log: &log})
		}); err != nil {
			return err
		}
		if err := t.dedupe.ForEach(func(k, v []byte) error {
			var d dedupeRecord
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("dedupe key %q: %w", k, err)
			}
			return emit(Item{Dedupe: &DedupeEntry{Key: string(k), Incident: d.Incident, FirstSeq: d.FirstSeq, Count: d.Count, FirstSeen: d.FirstSeen}})
		}); err != nil {
			return err
		}
		if err := t.outbox.ForEach(func(k, v []byte) error {
			var p incident.Pending
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("outbox entry %d: %w", btoi(k), err)
			}
			return emit(Item{Pending: &p})
		}); err != nil {
			return err
		}
		if err := t.fx.ForEach(func(k, v []byte) error {
			var o incident.Outcome
			if err := json.Unmarshal(v, &o); err != nil {
				return fmt.Errorf("effect result %q: %w", k, err)
			}
			return emit(Item{Effect: &EffectEntry{Key: string(k), Outcome: o}})
		}); err != nil {
			return err
		}
		if tb := t.tx.Bucket(bucketTranscript); tb != nil {
			if err := tb.ForEachBucket(func(k []byte) error {
				n := btoi(k)
				return tb.Bucket(k).ForEach(func(ts, v []byte) error {
					var m TranscriptMessage
					if err := json.Unmarshal(v, &m); err != nil {
						return fmt.Errorf("transcript of %s, message %s: %w", incident.ID(n), ts, err)
					}
					return emit(Item{Message: &TranscriptEntry{Incident: n, Message: m}})
				})
			}); err != nil {
				return err
			}
		}
		if sb := t.tx.Bucket(bucketSLO); sb != nil {
			if err := sb.ForEach(func(k, v []byte) error {
				var st slo.State
				if err := decodeSLOState(string(k), v, &st); err != nil {
					return err
				}
				return emit(Item{SLO: &st})
			}); err != nil {
				return err
			}
		}
		if pb := t.tx.Bucket(bucketPeople); pb != nil {
			if err := pb.ForEach(func(k, v []byte) error {
				p, err := people.Decode(string(k), v)
				if err != nil {
					return err
				}
				return emit(Item{Person: &p})
			}); err != nil {
				return err
			}
		}
		if sb := t.tx.Bucket(bucketSessions); sb != nil {
			if err := sb.ForEach(func(k, v []byte) error {
				s, err := DecodeSession(string(k), v)
				if err != nil {
					return err
				}
				return emit(Item{Session: &s})
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// Load writes items into an empty file, in one transaction: all of them or
// none. Each incident's snapshot and channel are the fold of its log; the
// outbox keeps its sequences, and the next effect queued gets a later one.
// A file that holds an incident, an outbox entry or an SLO state already
// is refused with ErrNotEmpty.
func (db *DB) Load(ctx context.Context, items []Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var touched []uint64
	err := db.update(func(tx *bbolt.Tx) error {
		touched = touched[:0]
		t := newTxn(tx, db.nowUTC())
		t.touched = &touched
		if k, _ := t.incidents.Cursor().First(); k != nil {
			return ErrNotEmpty
		}
		if k, _ := t.outbox.Cursor().First(); k != nil {
			return ErrNotEmpty
		}
		if sb := tx.Bucket(bucketSLO); sb != nil {
			if k, _ := sb.Cursor().First(); k != nil {
				return ErrNotEmpty
			}
		}
		var maxOutbox uint64
		for _, it := range items {
			if err := t.load(it, &maxOutbox); err != nil {
				return err
			}
		}
		if maxOutbox > t.outbox.Sequence() {
			return t.outbox.SetSequence(maxOutbox)
		}
		return nil
	})
	if err != nil {
		return err
	}
	db.feed.publish(touched)
	return nil
}

// load writes one item; maxOutbox tracks the highest outbox sequence.
func (t txn) load(it Item, maxOutbox *uint64) error {
	switch {
	case it.NextIncident != 0:
		return t.meta.Put(keyNextIncident, itob(it.NextIncident))
	case it.Log != nil:
		n := it.Log.Number
		eb, err := t.events.CreateBucketIfNotExists(itob(n))
		if err != nil {
			return err
		}
		eb.FillPercent = 0.95
		for _, e := range it.Log.Events {
			if err := eb.Put(itob(e.Seq), encodeEvent(e)); err != nil {
				return err
			}
		}
		inc := incident.Replay(it.Log.Events)
		if inc.Number != n {
			return fmt.Errorf("%s: its log does not declare it", incident.ID(n))
		}
		t.touch(n)
		if err := putJSON(t.incidents, itob(n), inc); err != nil {
			return err
		}
		if inc.ChannelID != "" {
			return t.channels.Put([]byte(inc.ChannelID), itob(n))
		}
		return nil
	case it.Dedupe != nil:
		d := it.Dedupe
		return putJSON(t.dedupe, []byte(d.Key), dedupeRecord{Incident: d.Incident, FirstSeq: d.FirstSeq, Count: d.Count, FirstSeen: d.FirstSeen})
	case it.Pending != nil:
		p := *it.Pending
		*maxOutbox = max(*maxOutbox, p.OutboxSeq)
		return putJSON(t.outbox, itob(p.OutboxSeq), p)
	case it.Effect != nil:
		return putJSON(t.fx, []byte(it.Effect.Key), it.Effect.Outcome)
	case it.Message != nil:
		t.touch(it.Message.Incident)
		tb, err := t.tx.CreateBucketIfNotExists(bucketTranscript)
		if err != nil {
			return err
		}
		b, err := tb.CreateBucketIfNotExists(itob(it.Message.Incident))
		if err != nil {
			return err
		}
		return putJSON(b, []byte(it.Message.Message.TS), it.Message.Message)
	case it.SLO != nil:
		sb, err := t.tx.CreateBucketIfNotExists(bucketSLO)
		if err != nil {
			return err
		}
		return putJSON(sb, []byte(it.SLO.SLO), it.SLO)
	case it.Person != nil:
		if it.Person.ID == "" {
			return errAnonymousPerson
		}
		pb, err := t.tx.CreateBucketIfNotExists(bucketPeople)
		if err != nil {
			return err
		}
		return putJSON(pb, []byte(it.Person.ID), it.Person)
	case it.Session != nil:
		if err := it.Session.Validate(); err != nil {
			return err
		}
		sb, err := t.tx.CreateBucketIfNotExists(bucketSessions)
		if err != nil {
			return err
		}
		return putJSON(sb, []byte(it.Session.ID), it.Session)
	}
	return errors.New("an empty item")
}
