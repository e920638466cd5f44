package etcd

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/timeline"
)

// dedupeRecord is what an idempotency key remembers: which events the
// command that first used it appended, and the token of the attempt that
// wrote them.
type dedupeRecord struct {
	Incident  uint64    `json:"incident"`
	FirstSeq  uint64    `json:"first_seq"`
	Count     uint64    `json:"count"`
	FirstSeen time.Time `json:"first_seen"`
	Token     string    `json:"token,omitempty"`
}

// sent holds the results of a command's attempts that went to etcd, by
// the token each wrote: when a record carries one of them, that attempt
// landed, and its result is the command's.
type sent map[string]incident.Result

// Declare allocates the next incident number and commits what decide
// returns for it, in one transaction: the events, the snapshot, the
// idempotency key, the effects and the counter. A key seen before returns
// the first declaration's result with Duplicate set and writes nothing.
//
// The number is read from meta/next_incident and written back incremented
// in the same transaction, which compares the counter's revision, so
// concurrent declarations, in any process, get distinct numbers and a
// committed number is never handed out again. When decide fails nothing is
// written, the allocation included, and decide's error is returned as it
// is.
func (s *Store) Declare(ctx context.Context, key string, decide func(number uint64) (incident.Change, error)) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	if key == "" {
		return incident.Result{}, errNoKey
	}
	res, err := s.declare(ctx, key, decide)
	if err != nil {
		return incident.Result{}, failed("declare", err)
	}
	return res, nil
}

func (s *Store) declare(ctx context.Context, key string, d func(uint64) (incident.Change, error)) (incident.Result, error) {
	unlock, err := s.locks.lock(ctx, "declare")
	if err != nil {
		return incident.Result{}, err
	}
	defer unlock()
	dkey, ckey := s.keys.dedupe(key), s.keys.counter()
	tried := sent{}
	for run := 0; ; run++ {
		if run > 0 {
			if err := conflict(ctx, run); err != nil {
				return incident.Result{}, err
			}
		}
		kvs, _, err := s.read(ctx, dkey, ckey)
		if err != nil {
			return incident.Result{}, err
		}
		if kv := kvs[dkey]; kv != nil {
			return s.duplicate(ctx, key, kv, tried)
		}
		n, counterRev := uint64(1), int64(0)
		if kv := kvs[ckey]; kv != nil {
			if n, err = parseNum(string(kv.Value)); err != nil {
				return incident.Result{}, fmt.Errorf("%s is %q, not a number: %w", ckey, kv.Value, err)
			}
			counterRev = kv.ModRevision
		}
		ch, err := decide(func() (incident.Change, error) { return d(n) })
		if err != nil {
			return incident.Result{}, refusal{err}
		}
		if len(ch.Events) == 0 || ch.Events[0].Kind != timeline.KindDeclared {
			return incident.Result{}, refusal{fmt.Errorf("storage: declaring %s must record a %s event first", incident.ID(n), timeline.KindDeclared)}
		}
		after, err := prepare(incident.Incident{}, n, ch)
		if err != nil {
			return incident.Result{}, err
		}
		p := &plan{}
		p.unchanged(ckey, counterRev)
		p.absent(s.keys.incident(n))
		p.put(ckey, []byte(strconv.FormatUint(n+1, 10)))
		token, res, err := s.planCommit(ctx, p, incident.Incident{}, after, key, ch)
		if err != nil {
			return incident.Result{}, err
		}
		if err := p.fits("declaring " + incident.ID(n)); err != nil {
			return incident.Result{}, err
		}
		tried[token] = res
		ok, err := s.commit(ctx, p)
		if err != nil {
			return s.reconcile(ctx, dkey, tried, err)
		}
		if ok {
			return res, nil
		}
	}
}

// Apply commits what decide returns for incident number, in one
// transaction, deciding on the freshest state. A key seen before returns
// the first application's result with Duplicate set and writes nothing. A
// change without events writes nothing and returns the current state. It
// returns incident.NotFound(number) when there is no such incident, and
// decide's own error as it is.
func (s *Store) Apply(ctx context.Context, number uint64, key string, decide incident.Decider) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	if key == "" {
		return incident.Result{}, errNoKey
	}
	res, err := s.apply(ctx, number, key, decide)
	if err != nil {
		return incident.Result{}, failed("apply", err)
	}
	return res, nil
}

func (s *Store) apply(ctx context.Context, n uint64, key string, d incident.Decider) (incident.Result, error) {
	unlock, err := s.locks.lock(ctx, incidentLock(n))
	if err != nil {
		return incident.Result{}, err
	}
	defer unlock()
	dkey, ikey := s.keys.dedupe(key), s.keys.incident(n)
	tried := sent{}
	for run := 0; ; run++ {
		if run > 0 {
			if err := conflict(ctx, run); err != nil {
				return incident.Result{}, err
			}
		}
		kvs, _, err := s.read(ctx, dkey, ikey)
		if err != nil {
			return incident.Result{}, err
		}
		if kv := kvs[dkey]; kv != nil {
			return s.duplicate(ctx, key, kv, tried)
		}
		p := &plan{}
		token, res, write, err := s.decideOn(ctx, p, n, key, d, kvs[ikey])
		if err != nil || !write {
			return res, err
		}
		if err := p.fits("a command on " + incident.ID(n)); err != nil {
			return incident.Result{}, err
		}
		tried[token] = res
		ok, err := s.commit(ctx, p)
		if err != nil {
			return s.reconcile(ctx, dkey, tried, err)
		}
		if ok {
			return res, nil
		}
	}
}

// incidentLock names the in-process lock of incident n's writers.
func incidentLock(n uint64) string { return "incident/" + strconv.FormatUint(n, 10) }

// decideOn runs d on the snapshot snap (nil: no such incident) and adds
// what it decided to p, compared against the snapshot's revision. write
// is false when the change has no events: nothing is to be written and
// res is the current state.
func (s *Store) decideOn(ctx context.Context, p *plan, n uint64, key string, d incident.Decider, snap *mvccpb.KeyValue) (token string, res incident.Result, write bool, err error) {
	if snap == nil {
		return "", incident.Result{}, false, refusal{incident.NotFound(n)}
	}
	before, err := decodeIncident(n, snap.Value)
	if err != nil {
		return "", incident.Result{}, false, err
	}
	ch, err := decide(func() (incident.Change, error) {
		c := before.Clone()
		return d(&c)
	})
	if err != nil {
		return "", incident.Result{}, false, refusal{err}
	}
	after, err := prepare(before, n, ch)
	if err != nil {
		return "", incident.Result{}, false, err
	}
	if len(ch.Events) == 0 {
		return "", incident.Result{Incident: before}, false, nil
	}
	p.unchanged(string(snap.Key), snap.ModRevision)
	token, res, err = s.planCommit(ctx, p, before, after, key, ch)
	return token, res, err == nil, err
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

// prepare is storage.Prepare, the log's rules every backend applies,
// its error a refusal; the channel index is checked by planCommit, which
// has to read it.
func prepare(before incident.Incident, n uint64, ch incident.Change) (incident.Incident, error) {
	after, err := storage.Prepare(before, n, ch)
	if err != nil {
		return incident.Incident{}, refusal{err}
	}
	return after, nil
}

// planCommit adds a prepared change to p: its events, the snapshot after
// them, the channel index, the idempotency key (unless key is empty) with
// a new token, and the effects it queues. It reads the channel index when
// the change moves the incident's channel, and refuses a channel another
// incident has.
func (s *Store) planCommit(ctx context.Context, p *plan, before, after incident.Incident, key string, ch incident.Change) (string, incident.Result, error) {
	n := after.Number
	if err := s.planChannel(ctx, p, n, before.ChannelID, after.ChannelID); err != nil {
		return "", incident.Result{}, err
	}
	for _, e := range ch.Events {
		b, err := encodeEvent(e)
		if err != nil {
			return "", incident.Result{}, err
		}
		p.put(s.keys.event(n, e.Seq), b)
	}
	if err := p.putJSON(s.keys.incident(n), after); err != nil {
		return "", incident.Result{}, err
	}
	token := randToken()
	now := s.nowUTC()
	if key != "" {
		dkey := s.keys.dedupe(key)
		p.absent(dkey)
		d := dedupeRecord{Incident: n, FirstSeq: ch.Events[0].Seq, Count: uint64(len(ch.Events)), FirstSeen: now, Token: token}
		if err := p.putJSON(dkey, d); err != nil {
			return "", incident.Result{}, err
		}
	}
	batch := commandBatch(n, ch.Events[0].Seq)
	for i, fx := range ch.Effects {
		if err := p.putJSON(s.keys.outboxEntry(batch, i), incident.Pending{Effect: fx, QueuedAt: now}); err != nil {
			return "", incident.Result{}, err
		}
	}
	return token, incident.Result{Incident: after, Events: ch.Events, Effects: ch.Effects}, nil
}

// planChannel keeps the channel index in step when incident n's channel
// changes from old to new: the index entries are compared at the
// revisions read here, the old one removed if it was n's, the new one
// refused if it is another incident's.
func (s *Store) planChannel(ctx context.Context, p *plan, n uint64, old, new string) error {
	if old == new {
		return nil
	}
	var names []string
	if old != "" {
		names = append(names, s.keys.channel(old))
	}
	if new != "" {
		names = append(names, s.keys.channel(new))
	}
	kvs, _, err := s.read(ctx, names...)
	if err != nil {
		return err
	}
	owner := func(k string) (uint64, bool) {
		kv := kvs[k]
		if kv == nil {
			return 0, false
		}
		v, err := parseNum(string(kv.Value))
		return v, err == nil
	}
	if new != "" {
		if m, ok := owner(s.keys.channel(new)); ok && m != n {
			return refusal{fmt.Errorf("storage: channel %s already belongs to %s", new, incident.ID(m))}
		}
	}
	for _, k := range names {
		var rev int64
		if kv := kvs[k]; kv != nil {
			rev = kv.ModRevision
		}
		p.unchanged(k, rev)
	}
	if old != "" {
		if m, ok := owner(s.keys.channel(old)); ok && m == n {
			p.delete(s.keys.channel(old))
		}
	}
	if new != "" {
		p.put(s.keys.channel(new), []byte(strconv.FormatUint(n, 10)))
	}
	return nil
}

// duplicate returns what the command that first used key left behind,
// given its record kv: the events it appended and the incident as it is
// now. A record one of tried's attempts wrote means that attempt landed:
// its own result is returned.
func (s *Store) duplicate(ctx context.Context, key string, kv *mvccpb.KeyValue, tried sent) (incident.Result, error) {
	var d dedupeRecord
	if err := json.Unmarshal(kv.Value, &d); err != nil {
		return incident.Result{}, fmt.Errorf("dedupe key %q: %w", key, err)
	}
	if res, ok := tried[d.Token]; ok && d.Token != "" {
		return res, nil
	}
	ikey := s.keys.incident(d.Incident)
	resp, err := s.txn(ctx, "read", true, nil, []clientv3.Op{
		clientv3.OpGet(ikey),
		clientv3.OpGet(s.keys.event(d.Incident, d.FirstSeq), clientv3.WithRange(s.keys.event(d.Incident, d.FirstSeq+d.Count))),
	}, nil)
	if err != nil {
		return incident.Result{}, err
	}
	snap := resp.Responses[0].GetResponseRange().GetKvs()
	if len(snap) == 0 {
		return incident.Result{}, fmt.Errorf("dedupe key %q points to %s, which is missing", key, incident.ID(d.Incident))
	}
	inc, err := decodeIncident(d.Incident, snap[0].Value)
	if err != nil {
		return incident.Result{}, err
	}
	var events []timeline.Event
	for _, ekv := range resp.Responses[1].GetResponseRange().GetKvs() {
		e, err := decodeEvent(d.Incident, ekv)
		if err != nil {
			return incident.Result{}, err
		}
		events = append(events, e)
	}
	return incident.Result{Incident: inc, Events: events, Duplicate: true}, nil
}

// reconcile resolves a commit whose outcome is unknown (failed is what
// the guard gave up with) by reading the record the commit would have
// written, recordKey: when it carries the token of one of tried's
// attempts, that attempt landed and its result stands. Otherwise the
// failure stands: nothing this caller can see was committed, and
// repeating the command with its key is safe.
func (s *Store) reconcile(ctx context.Context, recordKey string, tried sent, failed error) (incident.Result, error) {
	if ctx.Err() != nil {
		return incident.Result{}, failed
	}
	kvs, _, err := s.read(ctx, recordKey)
	if err != nil || kvs[recordKey] == nil {
		return incident.Result{}, failed
	}
	var rec struct {
		Token string `json:"token"`
	}
	if json.Unmarshal(kvs[recordKey].Value, &rec) != nil {
		return incident.Result{}, failed
	}
	if res, ok := tried[rec.Token]; ok && rec.Token != "" {
		return res, nil
	}
	return incident.Result{}, failed
}

// Incident returns the current state of incident number, or
// incident.NotFound(number).
func (s *Store) Incident(ctx context.Context, number uint64) (incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return incident.Incident{}, err
	}
	resp, err := s.get(ctx, s.keys.incident(number))
	if err != nil {
		return incident.Incident{}, failed("read incident", err)
	}
	if len(resp.Kvs) == 0 {
		return incident.Incident{}, incident.NotFound(number)
	}
	inc, err := decodeIncident(number, resp.Kvs[0].Value)
	if err != nil {
		return incident.Incident{}, failed("read incident", err)
	}
	return inc, nil
}

// Events returns incident number's events with sequence >= from, in
// order, or incident.NotFound(number). A long timeline is read in pages,
// all at the revision the incident was found at.
func (s *Store) Events(ctx context.Context, number uint64, from uint64) ([]timeline.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	events, err := s.events(ctx, number, from)
	if err != nil {
		return nil, failed("read events", err)
	}
	return events, nil
}

func (s *Store) events(ctx context.Context, n, from uint64) ([]timeline.Event, error) {
	resp, err := s.get(ctx, s.keys.incident(n), clientv3.WithKeysOnly())
	if err != nil {
		return nil, err
	}
	if len(resp.Kvs) == 0 {
		return nil, refusal{incident.NotFound(n)}
	}
	var out []timeline.Event
	_, err = s.scan(ctx, s.keys.event(n, max(from, 1)), prefixEnd(s.keys.events(n)), resp.Header.Revision, func(kv *mvccpb.KeyValue) error {
		e, err := decodeEvent(n, kv)
		out = append(out, e)
		return err
	})
	return out, err
}

// Event returns incident number's event seq, or an error wrapping
// incident.ErrNotFound when the incident or the event does not exist.
func (s *Store) Event(ctx context.Context, number uint64, seq uint64) (timeline.Event, error) {
	if err := ctx.Err(); err != nil {
		return timeline.Event{}, err
	}
	resp, err := s.txn(ctx, "read", true, nil, []clientv3.Op{
		clientv3.OpGet(s.keys.event(number, seq)),
		clientv3.OpGet(s.keys.incident(number), clientv3.WithKeysOnly()),
	}, nil)
	if err != nil {
		return timeline.Event{}, failed("read event", err)
	}
	if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 {
		e, err := decodeEvent(number, kvs[0])
		if err != nil {
			return timeline.Event{}, failed("read event", err)
		}
		return e, nil
	}
	if len(resp.Responses[1].GetResponseRange().GetKvs()) == 0 {
		return timeline.Event{}, incident.NotFound(number)
	}
	return timeline.Event{}, fmt.Errorf("%s has no event %d: %w", incident.ID(number), seq, incident.ErrNotFound)
}

// Incidents lists incidents, newest first; only active ones unless all.
// The snapshots are read in pages at one revision.
func (s *Store) Incidents(ctx context.Context, all bool) ([]incident.Incident, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []incident.Incident
	_, err := s.scanPrefix(ctx, s.keys.incidents(), 0, func(kv *mvccpb.KeyValue) error {
		n, err := parseNum(lastComponent(string(kv.Key)))
		if err != nil {
			return fmt.Errorf("incident key %q: %w", kv.Key, err)
		}
		inc, err := decodeIncident(n, kv.Value)
		if err != nil {
			return err
		}
		if all || inc.Status.Active() {
			out = append(out, inc)
		}
		return nil
	})
	if err != nil {
		return nil, failed("list incidents", err)
	}
	slices.Reverse(out)
	return out, nil
}

// IncidentByChannel finds the incident whose channel is channelID. It
// returns an error wrapping incident.ErrNotFound when no incident has it.
func (s *Store) IncidentByChannel(ctx context.Context, channelID string) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	resp, err := s.get(ctx, s.keys.channel(channelID))
	if err != nil {
		return 0, failed("find incident by channel", err)
	}
	if len(resp.Kvs) == 0 {
		return 0, fmt.Errorf("channel %s is not an incident channel: %w", channelID, incident.ErrNotFound)
	}
	n, err := parseNum(string(resp.Kvs[0].Value))
	if err != nil {
		return 0, failed("find incident by channel", fmt.Errorf("channel %s: %q is not a number: %w", channelID, resp.Kvs[0].Value, err))
	}
	return n, nil
}

func decodeIncident(n uint64, v []byte) (incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal(v, &inc); err != nil {
		return incident.Incident{}, fmt.Errorf("%s snapshot: %w", incident.ID(n), err)
	}
	return inc, nil
}

// encodeEvent is the stored form of e. Its time is kept in UTC, as
// storage's binary events keep it, so both backends give back the same
// event.
func encodeEvent(e timeline.Event) ([]byte, error) {
	e.At = e.At.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %d: %w", e.Seq, err)
	}
	return b, nil
}

func decodeEvent(n uint64, kv *mvccpb.KeyValue) (timeline.Event, error) {
	var e timeline.Event
	if err := json.Unmarshal(kv.Value, &e); err != nil {
		return e, fmt.Errorf("%s event %s: %w", incident.ID(n), strings.TrimLeft(lastComponent(string(kv.Key)), "0"), err)
	}
	return e, nil
}

// randToken names one attempt of a command on the records it writes.
func randToken() string { return rand.Text() }
