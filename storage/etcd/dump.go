package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage"
)

// Dump reads everything under the prefix at one revision, in pages, and
// hands it to emit in storage's order (storage.DB.Dump): the counter, each
// incident's log (by number), idempotency keys, the outbox (in commit
// order, with this store's sequences), effect results, transcripts, SLO
// states, people and sessions. A revision compacted away while the dump
// runs fails it.
func (s *Store) Dump(ctx context.Context, emit func(storage.Item) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.dump(ctx, emit); err != nil {
		return failed("dump", err)
	}
	return nil
}

func (s *Store) dump(ctx context.Context, emit func(storage.Item) error) error {
	resp, err := s.get(ctx, s.keys.counter())
	if err != nil {
		return err
	}
	rev := resp.Header.Revision
	if len(resp.Kvs) > 0 {
		next, err := parseNum(string(resp.Kvs[0].Value))
		if err != nil {
			return fmt.Errorf("%s is %q, not a number: %w", s.keys.counter(), resp.Kvs[0].Value, err)
		}
		if err := emit(storage.Item{NextIncident: next}); err != nil {
			return err
		}
	}

	var log *storage.IncidentLog
	_, err = s.scanPrefix(ctx, s.keys.allEvents(), rev, func(kv *mvccpb.KeyValue) error {
		n, err := numberIn(string(kv.Key), s.keys.allEvents())
		if err != nil {
			return err
		}
		if log != nil && log.Number != n {
			if err := emit(storage.Item{Log: log}); err != nil {
				return err
			}
			log = nil
		}
		if log == nil {
			log = &storage.IncidentLog{Number: n}
		}
		e, err := decodeEvent(n, kv)
		log.Events = append(log.Events, e)
		return err
	})
	if err != nil {
		return err
	}
	if log != nil {
		if err := emit(storage.Item{Log: log}); err != nil {
			return err
		}
	}

	_, err = s.scanPrefix(ctx, s.keys.dedupes(), rev, func(kv *mvccpb.KeyValue) error {
		key := strings.TrimPrefix(string(kv.Key), s.keys.dedupes())
		var d dedupeRecord
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			return fmt.Errorf("dedupe key %q: %w", key, err)
		}
		return emit(storage.Item{Dedupe: &storage.DedupeEntry{Key: key, Incident: d.Incident, FirstSeq: d.FirstSeq, Count: d.Count, FirstSeen: d.FirstSeen}})
	})
	if err != nil {
		return err
	}

	var outbox []incident.Pending
	_, err = s.scanPrefix(ctx, s.keys.outbox(), rev, func(kv *mvccpb.KeyValue) error {
		p, err := decodePending(kv)
		outbox = append(outbox, p)
		return err
	})
	if err != nil {
		return err
	}
	slices.SortFunc(outbox, func(a, b incident.Pending) int { return cmpUint(a.OutboxSeq, b.OutboxSeq) })
	for i := range outbox {
		if err := emit(storage.Item{Pending: &outbox[i]}); err != nil {
			return err
		}
	}

	_, err = s.scanPrefix(ctx, s.keys.effects(), rev, func(kv *mvccpb.KeyValue) error {
		key := strings.TrimPrefix(string(kv.Key), s.keys.effects())
		var rec effectRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			return fmt.Errorf("effect result %q: %w", key, err)
		}
		return emit(storage.Item{Effect: &storage.EffectEntry{Key: key, Outcome: rec.Outcome}})
	})
	if err != nil {
		return err
	}

	_, err = s.scanPrefix(ctx, s.keys.transcripts(), rev, func(kv *mvccpb.KeyValue) error {
		n, err := numberIn(string(kv.Key), s.keys.transcripts())
		if err != nil {
			return err
		}
		var m storage.TranscriptMessage
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			return fmt.Errorf("transcript of %s, message %s: %w", incident.ID(n), lastComponent(string(kv.Key)), err)
		}
		return emit(storage.Item{Message: &storage.TranscriptEntry{Incident: n, Message: m}})
	})
	if err != nil {
		return err
	}

	_, err = s.scanPrefix(ctx, s.keys.slos(), rev, func(kv *mvccpb.KeyValue) error {
		var st slo.State
		if err := decodeSLOState(strings.TrimPrefix(string(kv.Key), s.keys.slos()), kv.Value, &st); err != nil {
			return err
		}
		return emit(storage.Item{SLO: &st})
	})
	if err != nil {
		return err
	}

	_, err = s.scanPrefix(ctx, s.keys.allPeople(), rev, func(kv *mvccpb.KeyValue) error {
		p, err := people.Decode(s.keys.personID(string(kv.Key)), kv.Value)
		if err != nil {
			return err
		}
		return emit(storage.Item{Person: &p})
	})
	if err != nil {
		return err
	}

	_, err = s.scanPrefix(ctx, s.keys.sessions(), rev, func(kv *mvccpb.KeyValue) error {
		sess, err := storage.DecodeSession(s.keys.sessionID(string(kv.Key)), kv.Value)
		if err != nil {
			return err
		}
		return emit(storage.Item{Session: &sess})
	})
	return err
}

// numberIn reads the incident number that follows prefix in key
// ("<prefix><n>/...").
func numberIn(key, prefix string) (uint64, error) {
	rest := strings.TrimPrefix(key, prefix)
	n, _, _ := strings.Cut(rest, "/")
	v, err := parseNum(n)
	if err != nil {
		return 0, fmt.Errorf("key %q: no incident number: %w", key, err)
	}
	return v, nil
}

// Load writes items into an empty prefix: each incident's events, then its
// snapshot and channel (the fold of its log), idempotency keys, the outbox
// in the items' order (with new sequences, in the same order), effect
// results, transcripts, SLO states, people and sessions. A prefix that
// holds an incident, an outbox entry or an SLO state already is refused
// with storage.ErrNotEmpty.
//
// Unlike storage.DB.Load it is not one transaction: etcd caps one at 128
// operations. Writes go in as few transactions as fit, and an incident's
// snapshot is written after all its events, so an interrupted load leaves
// no snapshot without its log; resuming one is the caller's to arrange
// (ooda migrate's marker).
func (s *Store) Load(ctx context.Context, items []storage.Item) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.load(ctx, items); err != nil {
		return failed("load", err)
	}
	return nil
}

func (s *Store) load(ctx context.Context, items []storage.Item) error {
	var ops []clientv3.Op
	for _, prefix := range []string{s.keys.incidents(), s.keys.outbox(), s.keys.slos()} {
		ops = append(ops, clientv3.OpGet(prefix, clientv3.WithRange(prefixEnd(prefix)), clientv3.WithCountOnly()))
	}
	resp, err := s.txn(ctx, "read", true, nil, ops, nil)
	if err != nil {
		return err
	}
	for _, r := range resp.Responses {
		if r.GetResponseRange().GetCount() > 0 {
			return storage.ErrNotEmpty
		}
	}
	b := s.batcher()
	putJSON := func(key string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode %s: %w", key, err)
		}
		return b.put(ctx, key, data)
	}
	for _, it := range items {
		var err error
		switch {
		case it.NextIncident != 0:
			err = b.put(ctx, s.keys.counter(), []byte(fmt.Sprint(it.NextIncident)))
		case it.Log != nil:
			err = s.loadLog(ctx, b, it.Log)
		case it.Dedupe != nil:
			d := it.Dedupe
			err = putJSON(s.keys.dedupe(d.Key), dedupeRecord{Incident: d.Incident, FirstSeq: d.FirstSeq, Count: d.Count, FirstSeen: d.FirstSeen})
		case it.Pending != nil:
			p := *it.Pending
			var data []byte
			if data, err = json.Marshal(p); err != nil {
				break
			}
			batch := fmt.Sprintf("load-%s", num(p.OutboxSeq))
			var i int
			if i, err = b.room(ctx, len(data)+len(batch)+64); err != nil {
				break
			}
			b.p.put(s.keys.outboxEntry(batch, i), data)
		case it.Effect != nil:
			err = putJSON(s.keys.effect(it.Effect.Key), effectRecord{Outcome: it.Effect.Outcome})
		case it.Message != nil:
			err = putJSON(s.keys.message(it.Message.Incident, it.Message.Message.TS), it.Message.Message)
		case it.SLO != nil:
			err = putJSON(s.keys.slo(it.SLO.SLO), it.SLO)
		case it.Person != nil:
			if it.Person.ID == "" {
				err = fmt.Errorf("storage: %w", people.ErrNoID)
				break
			}
			err = putJSON(s.keys.person(it.Person.ID), it.Person)
		case it.Session != nil:
			if err = it.Session.Validate(); err != nil {
				break
			}
			err = putJSON(s.keys.session(it.Session.ID), it.Session)
		default:
			err = fmt.Errorf("an empty item")
		}
		if err != nil {
			return err
		}
	}
	return b.flush(ctx)
}

// loadLog writes one incident's events, then its snapshot and channel.
func (s *Store) loadLog(ctx context.Context, b *batcher, log *storage.IncidentLog) error {
	n := log.Number
	inc := incident.Replay(log.Events)
	if inc.Number != n {
		return fmt.Errorf("%s: its log does not declare it", incident.ID(n))
	}
	for _, e := range log.Events {
		v, err := encodeEvent(e)
		if err != nil {
			return err
		}
		if err := b.put(ctx, s.keys.event(n, e.Seq), v); err != nil {
			return err
		}
	}
	snap, err := json.Marshal(inc)
	if err != nil {
		return fmt.Errorf("%s snapshot: %w", incident.ID(n), err)
	}
	if err := b.put(ctx, s.keys.incident(n), snap); err != nil {
		return err
	}
	if inc.ChannelID != "" {
		return b.put(ctx, s.keys.channel(inc.ChannelID), []byte(fmt.Sprint(n)))
	}
	return nil
}

// Backup writes a copy of everything under the prefix, as of one revision,
// to w as a bbolt file in storage's format: `ooda check` accepts it and
// `ooda serve --db` starts from it, so backups look the same whatever the
// backend. The copy is built in a temporary file (storage.Open, then
// storage.DB.Load of this store's Dump), which is removed afterwards. It
// returns the number of bytes written.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var items []storage.Item
	if err := s.Dump(ctx, func(it storage.Item) error {
		items = append(items, it)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	dir, err := os.MkdirTemp("", "ooda-etcd-backup-*")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := storage.Open(filepath.Join(dir, "backup.db"), storage.Options{Now: s.now})
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	if err := db.Load(ctx, items); err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := db.Backup(ctx, w)
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}
