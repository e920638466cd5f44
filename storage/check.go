package storage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/timeline"
)

// Check verifies the database and returns every problem it finds, joined;
// nil means it is sound. It runs bbolt's page-level consistency check and,
// when the pages are sound, checks the records Ooda relies on:
//
//   - every incident's events run from 1 to its last sequence without gaps,
//     each stored under its own sequence;
//   - every snapshot equals the fold of its events (incident.Replay);
//   - the channel index and the snapshots agree;
//   - idempotency keys and outbox entries point at events that exist;
//   - meta/next_incident is above every incident number;
//   - every person of the directory is stored under their own member ID;
//   - every session is stored under its own ID and names its user.
//
// Writers wait while it runs: bbolt's check reads the free list, which a
// concurrent commit rewrites, so it runs in a write transaction (rolled
// back, never committed). A database opened with OpenReadOnly has no
// writers (its lock keeps them out) and is checked in a read transaction.
// The page walk cannot be interrupted; ctx is checked between incidents.
func (db *DB) Check(ctx context.Context) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	defer recoverDamage(&err)
	tx, err := db.bolt.Begin(!db.bolt.IsReadOnly())
	if err != nil {
		return fmt.Errorf("check %s: %w", db.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	var errs []error
	for e := range tx.Check() {
		errs = append(errs, e)
	}
	if len(errs) == 0 {
		errs = checkRecords(ctx, tx)
	}
	return errors.Join(errs...)
}

// checkRecords checks Ooda's records in tx (see Check).
func checkRecords(ctx context.Context, tx *bbolt.Tx) []error {
	if err := checkBuckets(tx); err != nil {
		return []error{err}
	}
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	t := newTxn(tx, time.Time{})

	if v, err := schemaVersion(tx); err != nil {
		add("%v", err)
	} else if want := uint64(len(migrations())); v != want {
		add("schema version %d, want %d", v, want)
	}
	next := btoi(t.meta.Get(keyNextIncident))

	// What later checks need to know about each incident.
	type seen struct {
		lastSeq uint64
		channel string
	}
	incidents := map[uint64]seen{}

	c := t.incidents.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if err := ctx.Err(); err != nil {
			return append(errs, err)
		}
		if len(k) != 8 {
			add("incidents: key %x is not an incident number", k)
			continue
		}
		n := btoi(k)
		id := incident.ID(n)
		if n >= next {
			add("%s: meta/next_incident is %d, so its number would be handed out again", id, next)
		}
		var snap incident.Incident
		if err := json.Unmarshal(v, &snap); err != nil {
			add("%s: snapshot: %v", id, err)
			continue
		}
		incidents[n] = seen{lastSeq: snap.LastSeq, channel: snap.ChannelID}
		if snap.Number != n {
			add("%s: snapshot is of %s", id, incident.ID(snap.Number))
		}
		events, end, problems := checkLog(t, n)
		errs = append(errs, problems...)
		if end != snap.LastSeq {
			add("%s: snapshot says the last event is %d but the log ends at %d", id, snap.LastSeq, end)
		}
		want, err1 := json.Marshal(incident.Replay(events))
		got, err2 := json.Marshal(snap)
		if err := errors.Join(err1, err2); err != nil {
			add("%s: %v", id, err)
		} else if !bytes.Equal(want, got) {
			add("%s: snapshot differs from the fold of its %d events", id, len(events))
		}
		if snap.ChannelID != "" {
			if v := t.channels.Get([]byte(snap.ChannelID)); v == nil || btoi(v) != n {
				add("%s: channel %s is missing from the channel index", id, snap.ChannelID)
			}
		}
	}

	_ = t.events.ForEach(func(k, v []byte) error {
		if v != nil || len(k) != 8 {
			add("events: %x is not an incident's log", k)
		} else if _, ok := incidents[btoi(k)]; !ok {
			add("events: log of %s, which has no snapshot", incident.ID(btoi(k)))
		}
		return nil
	})
	_ = t.channels.ForEach(func(k, v []byte) error {
		if len(v) != 8 {
			add("channels: %s: malformed value", k)
		} else if s, ok := incidents[btoi(v)]; !ok || s.channel != string(k) {
			add("channels: %s points to %s, whose channel it is not", k, incident.ID(btoi(v)))
		}
		return nil
	})
	_ = t.dedupe.ForEach(func(k, v []byte) error {
		var d dedupeRecord
		if err := json.Unmarshal(v, &d); err != nil {
			add("dedupe: %q: %v", k, err)
		} else if s, ok := incidents[d.Incident]; !ok || d.FirstSeq == 0 || d.Count == 0 || d.FirstSeq+d.Count-1 > s.lastSeq {
			add("dedupe: %q points to events %d+%d of %s, which do not exist", k, d.FirstSeq, d.Count, incident.ID(d.Incident))
		}
		return nil
	})
	_ = t.outbox.ForEach(func(k, v []byte) error {
		var p incident.Pending
		if err := json.Unmarshal(v, &p); err != nil {
			add("outbox: %x: %v", k, err)
		} else if len(k) != 8 || p.OutboxSeq != btoi(k) || p.OutboxSeq > t.outbox.Sequence() {
			add("outbox: entry %x claims sequence %d", k, p.OutboxSeq)
		} else if s, ok := incidents[p.Effect.Incident]; !ok || p.Effect.Seq > s.lastSeq {
			add("outbox: effect %s refers to event %d of %s, which does not exist", p.Effect.Key, p.Effect.Seq, incident.ID(p.Effect.Incident))
		}
		return nil
	})
	_ = t.fx.ForEach(func(k, v []byte) error {
		var o incident.Outcome
		if err := json.Unmarshal(v, &o); err != nil {
			add("effects: %q: %v", k, err)
		}
		return nil
	})
	if pb := tx.Bucket(bucketPeople); pb != nil {
		_ = pb.ForEach(func(k, v []byte) error {
			if _, err := people.Decode(string(k), v); err != nil {
				add("people: %v", err)
			}
			return nil
		})
	}
	if sb := tx.Bucket(bucketSessions); sb != nil {
		_ = sb.ForEach(func(k, v []byte) error {
			s, err := DecodeSession(string(k), v)
			if err == nil {
				err = s.Validate()
			}
			if err != nil {
				add("sessions: %q: %v", k, err)
			}
			return nil
		})
	}
	return errs
}

// checkLog reads incident n's events, reporting gaps and misfiled events.
// It returns the events and the sequence the log ends at.
func checkLog(t txn, n uint64) ([]timeline.Event, uint64, []error) {
	id := incident.ID(n)
	b := t.events.Bucket(itob(n))
	if b == nil {
		return nil, 0, []error{fmt.Errorf("%s: it has no event log", id)}
	}
	var (
		events []timeline.Event
		errs   []error
		last   uint64
	)
	_ = b.ForEach(func(k, v []byte) error {
		if v == nil || len(k) != 8 {
			errs = append(errs, fmt.Errorf("%s: event log holds %x, which is not an event", id, k))
			return nil
		}
		seq := btoi(k)
		if seq != last+1 {
			errs = append(errs, fmt.Errorf("%s: event %d follows %d: sequences must be contiguous", id, seq, last))
		}
		last = seq
		e, err := decodeEvent(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: event %d: %v", id, seq, err))
			return nil
		}
		if e.Seq != seq {
			errs = append(errs, fmt.Errorf("%s: event stored at %d says it is %d", id, seq, e.Seq))
		}
		events = append(events, e)
		return nil
	})
	return events, last, errs
}
