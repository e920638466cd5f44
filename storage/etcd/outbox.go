package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/incident"
)

// effectRecord is a completed effect's outcome as stored, with the token
// of the attempt that completed it.
type effectRecord struct {
	incident.Outcome
	Token string `json:"token,omitempty"`
}

// Pending returns up to limit effects not yet done (all of them when limit
// is 0 or less), in the order they were committed: by the create revision
// of their keys, then by their index within the transaction. It skips
// nothing: which of them is due and which must wait for an earlier effect
// of the same incident is the executor's decision. The outbox is read
// whole, in pages at one revision, since commit order is not key order.
func (s *Store) Pending(ctx context.Context, limit int) ([]incident.Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []incident.Pending
	_, err := s.scanPrefix(ctx, s.keys.outbox(), 0, func(kv *mvccpb.KeyValue) error {
		p, err := decodePending(kv)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, failed("read outbox", err)
	}
	slices.SortFunc(out, func(a, b incident.Pending) int { return cmpUint(a.OutboxSeq, b.OutboxSeq) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// decodePending reads an outbox entry and gives it its sequence.
func decodePending(kv *mvccpb.KeyValue) (incident.Pending, error) {
	var p incident.Pending
	if err := json.Unmarshal(kv.Value, &p); err != nil {
		return p, fmt.Errorf("outbox entry %s: %w", kv.Key, err)
	}
	i, err := strconv.Atoi(lastComponent(string(kv.Key)))
	if err != nil || i < 0 || i >= 1<<indexBits {
		return p, fmt.Errorf("outbox entry %s: the key does not end in an index", kv.Key)
	}
	p.OutboxSeq = outboxSeq(kv.CreateRevision, i)
	return p, nil
}

// pending finds the outbox entry with sequence seq: the entry created at
// its revision with its index.
func (s *Store) pending(ctx context.Context, seq uint64) (*mvccpb.KeyValue, incident.Pending, bool, error) {
	rev, index := splitOutboxSeq(seq)
	if rev <= 0 {
		return nil, incident.Pending{}, false, nil
	}
	prefix := s.keys.outbox()
	resp, err := s.get(ctx, prefix, clientv3.WithRange(prefixEnd(prefix)),
		clientv3.WithMinCreateRev(rev), clientv3.WithMaxCreateRev(rev))
	if err != nil {
		return nil, incident.Pending{}, false, err
	}
	for _, kv := range resp.Kvs {
		if lastComponent(string(kv.Key)) != fmt.Sprintf("%03d", index) {
			continue
		}
		p, err := decodePending(kv)
		return kv, p, err == nil, err
	}
	return nil, incident.Pending{}, false, nil
}

// Complete removes effect outboxSeq from the outbox and keeps its outcome
// under the effect's key (see EffectResult). When outcome.Decide is set,
// the events it returns are appended to the effect's incident in the same
// transaction, exactly as Apply would with outcome.Key as the idempotency
// key (no key: no dedupe record; the removal of the outbox entry, which
// the transaction requires to exist, makes the completion happen once).
// If Decide fails, nothing is written and its error is returned as it is.
//
// Completing an effect that is no longer in the outbox (completed before,
// or never queued) writes nothing: it returns the result outcome.Key first
// recorded if there is one, and an empty result otherwise, both with
// Duplicate set.
func (s *Store) Complete(ctx context.Context, outboxSeq uint64, outcome incident.Outcome) (incident.Result, error) {
	if err := ctx.Err(); err != nil {
		return incident.Result{}, err
	}
	res, err := s.complete(ctx, outboxSeq, outcome)
	if err != nil {
		return incident.Result{}, failed("complete effect", err)
	}
	return res, nil
}

func (s *Store) complete(ctx context.Context, seq uint64, o incident.Outcome) (incident.Result, error) {
	if o.Decide != nil {
		// The outcome writes to the effect's incident: serialize with the
		// incident's other writers in this process.
		_, p, ok, err := s.pending(ctx, seq)
		if err != nil {
			return incident.Result{}, err
		}
		if ok {
			unlock, err := s.locks.lock(ctx, incidentLock(p.Effect.Incident))
			if err != nil {
				return incident.Result{}, err
			}
			defer unlock()
		}
	}
	tried := sent{}
	fxKey := "" // the effect's key, once the entry has been read
	for run := 0; ; run++ {
		if run > 0 {
			if err := s.checkFence(ctx); err != nil {
				return incident.Result{}, err
			}
			if err := conflict(ctx, run); err != nil {
				return incident.Result{}, err
			}
		}
		entry, p, ok, err := s.pending(ctx, seq)
		if err != nil {
			return incident.Result{}, err
		}
		if !ok {
			return s.completed(ctx, fxKey, o.Key, tried)
		}
		fxKey = p.Effect.Key
		n := p.Effect.Incident
		keys := []string{s.keys.incident(n)}
		if o.Decide != nil && o.Key != "" {
			keys = append(keys, s.keys.dedupe(o.Key))
		}
		kvs, _, err := s.read(ctx, keys...)
		if err != nil {
			return incident.Result{}, err
		}
		snap := kvs[s.keys.incident(n)]
		plan := &plan{}
		var res incident.Result
		token := ""
		switch {
		case o.Decide != nil && o.Key != "" && kvs[s.keys.dedupe(o.Key)] != nil:
			// The outcome's key recorded events before (an earlier
			// command used it): as in storage, its result stands and the
			// effect still leaves the outbox.
			if res, err = s.duplicate(ctx, o.Key, kvs[s.keys.dedupe(o.Key)], tried); err != nil {
				return incident.Result{}, err
			}
		case o.Decide != nil:
			if token, res, _, err = s.decideOn(ctx, plan, n, o.Key, o.Decide, snap); err != nil {
				return incident.Result{}, err
			}
		default:
			if snap != nil {
				if res.Incident, err = decodeIncident(n, snap.Value); err != nil {
					return incident.Result{}, err
				}
			}
		}
		if token == "" {
			token = randToken()
		}
		plan.compare(clientv3.Compare(clientv3.CreateRevision(string(entry.Key)), "=", entry.CreateRevision))
		fenced(ctx, plan)
		plan.delete(string(entry.Key))
		rec := effectRecord{Outcome: o, Token: token}
		if rec.At.IsZero() {
			rec.At = s.nowUTC()
		}
		if err := plan.putJSON(s.keys.effect(fxKey), rec); err != nil {
			return incident.Result{}, err
		}
		if err := plan.fits("completing effect " + fxKey); err != nil {
			return incident.Result{}, err
		}
		tried[token] = res
		ok, err = s.commit(ctx, plan)
		if err != nil {
			return s.reconcile(ctx, s.keys.effect(fxKey), tried, err)
		}
		if ok {
			return res, nil
		}
	}
}

// completed answers a Complete whose entry is not in the outbox: the
// result of this call's own attempt if one landed (its token is on the
// effect's record), else the result key first recorded, else an empty
// one, with Duplicate set.
func (s *Store) completed(ctx context.Context, fxKey, key string, tried sent) (incident.Result, error) {
	var keys []string
	if fxKey != "" && len(tried) > 0 {
		keys = append(keys, s.keys.effect(fxKey))
	}
	if key != "" {
		keys = append(keys, s.keys.dedupe(key))
	}
	if len(keys) == 0 {
		return incident.Result{Duplicate: true}, nil
	}
	kvs, _, err := s.read(ctx, keys...)
	if err != nil {
		return incident.Result{}, err
	}
	if kv := kvs[s.keys.effect(fxKey)]; fxKey != "" && kv != nil {
		var rec effectRecord
		if err := json.Unmarshal(kv.Value, &rec); err == nil {
			if res, ok := tried[rec.Token]; ok && rec.Token != "" {
				return res, nil
			}
		}
	}
	if kv := kvs[s.keys.dedupe(key)]; key != "" && kv != nil {
		return s.duplicate(ctx, key, kv, tried)
	}
	return incident.Result{Duplicate: true}, nil
}

// Defer records a failed attempt at effect outboxSeq: how many attempts
// there have been, when to try next, what went wrong and any partial
// result. An effect no longer in the outbox (completed meanwhile) is left
// alone. The write compares the entry's revision, so it cannot bring back
// an entry another replica completed.
func (s *Store) Defer(ctx context.Context, outboxSeq uint64, retry incident.Retry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for run := 0; ; run++ {
		if run > 0 {
			if err := s.checkFence(ctx); err != nil {
				return failed("defer effect", err)
			}
			if err := conflict(ctx, run); err != nil {
				return failed("defer effect", err)
			}
		}
		entry, p, ok, err := s.pending(ctx, outboxSeq)
		if err != nil {
			return failed("defer effect", err)
		}
		if !ok {
			return nil
		}
		p.Attempts = retry.Attempts
		p.NextAt = retry.NextAt
		p.LastError = retry.Error
		p.Result = retry.Result
		plan := &plan{}
		plan.unchanged(string(entry.Key), entry.ModRevision)
		fenced(ctx, plan)
		if err := plan.putJSON(string(entry.Key), p); err != nil {
			return failed("defer effect", err)
		}
		ok, err = s.commit(ctx, plan)
		if err != nil {
			return failed("defer effect", err)
		}
		if ok {
			return nil
		}
	}
}

// EffectResult returns the outcome of the completed effect with key, and
// whether there is one.
func (s *Store) EffectResult(ctx context.Context, key string) (incident.Outcome, bool, error) {
	if err := ctx.Err(); err != nil {
		return incident.Outcome{}, false, err
	}
	resp, err := s.get(ctx, s.keys.effect(key))
	if err != nil {
		return incident.Outcome{}, false, failed("read effect result", err)
	}
	if len(resp.Kvs) == 0 {
		return incident.Outcome{}, false, nil
	}
	var rec effectRecord
	if err := json.Unmarshal(resp.Kvs[0].Value, &rec); err != nil {
		return incident.Outcome{}, false, failed("read effect result", fmt.Errorf("effect result %q: %w", key, err))
	}
	return rec.Outcome, true, nil
}

// OutboxStats returns how many effects wait and when the oldest was
// queued (zero when none waits), read at one revision.
func (s *Store) OutboxStats(ctx context.Context) (depth int, oldest time.Time, err error) {
	if err := ctx.Err(); err != nil {
		return 0, time.Time{}, err
	}
	prefix := s.keys.outbox()
	end := prefixEnd(prefix)
	resp, err := s.txn(ctx, "read", true, nil, []clientv3.Op{
		clientv3.OpGet(prefix, clientv3.WithRange(end), clientv3.WithCountOnly()),
		clientv3.OpGet(prefix, append([]clientv3.OpOption{clientv3.WithRange(end)}, clientv3.WithFirstCreate()...)...),
	}, nil)
	if err != nil {
		return 0, time.Time{}, failed("read outbox stats", err)
	}
	depth = int(resp.Responses[0].GetResponseRange().GetCount())
	if kvs := resp.Responses[1].GetResponseRange().GetKvs(); len(kvs) > 0 {
		p, err := decodePending(kvs[0])
		if err != nil {
			return 0, time.Time{}, failed("read outbox stats", err)
		}
		oldest = p.QueuedAt
	}
	return depth, oldest, nil
}

// WatchOutbox calls notify whenever an effect is queued, by this process
// or any other sharing the prefix, so the executor sees new effects at
// once instead of polling. It calls notify once at the start, for what was
// queued before, and returns nil when ctx ends. A watch is a stream, not
// a call with a deadline, so it does not go through the guard; when etcd
// is unreachable it waits for it (the client reconnects), and when the
// revision it watches from has been compacted it starts again from now,
// after a notify.
func (s *Store) WatchOutbox(ctx context.Context, notify func()) error {
	prefix := s.keys.outbox()
	for {
		resp, err := s.get(ctx, prefix, clientv3.WithCountOnly())
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			// The guard's breaker paces these probes while etcd is away.
			if werr := wait(ctx, time.Second); werr != nil {
				return nil
			}
			continue
		}
		notify()
		if err := s.watch(ctx, prefix, resp.Header.Revision+1, notify); err != nil && ctx.Err() == nil {
			continue
		}
		return nil
	}
}

// watch follows puts under prefix from revision rev until ctx ends (nil)
// or the watch fails (its error).
func (s *Store) watch(ctx context.Context, prefix string, rev int64, notify func()) error {
	ctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	for resp := range s.client.Watch(ctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(rev), clientv3.WithFilterDelete()) {
		if err := resp.Err(); err != nil {
			return err
		}
		if len(resp.Events) > 0 {
			notify()
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return errors.New("watch closed")
}

func wait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
