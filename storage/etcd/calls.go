package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/resilience"
)

// etcd's limits on one request (server defaults, --max-txn-ops and
// --max-request-bytes). A plan stays below them with room for the
// request's own framing.
const (
	maxTxnOps   = 128
	maxTxnBytes = 1<<20 + 1<<19 - 64<<10 // 1.5 MiB less 64 KiB
	pageSize    = 256                    // keys per range read
)

// A command that loses its compare runs again, up to maxConflicts times,
// after a random wait below a ceiling that doubles from minBackoff to
// maxBackoff.
const (
	maxConflicts = 32
	minBackoff   = time.Millisecond
	maxBackoff   = 50 * time.Millisecond
)

// call runs fn through the guard, with the guard's deadline on each
// attempt. Only an idempotent fn may be re-sent by the guard.
func (s *Store) call(ctx context.Context, method string, idempotent bool, fn func(ctx context.Context) error) error {
	err := s.guard.Do(ctx, resilience.Op{Method: method, Idempotent: idempotent}, func(ctx context.Context) error {
		return mark(fn(ctx))
	})
	return unreachable(err)
}

// get is one range read (linearizable unless opts say otherwise).
func (s *Store) get(ctx context.Context, key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	var resp *clientv3.GetResponse
	err := s.call(ctx, "get", true, func(ctx context.Context) error {
		var err error
		resp, err = s.client.Get(ctx, key, opts...)
		return err
	})
	return resp, err
}

// txn is one transaction. Writes pass idempotent only when their compares
// make a second copy fail once the first has landed (see doc.go).
func (s *Store) txn(ctx context.Context, method string, idempotent bool, cmps []clientv3.Cmp, then, els []clientv3.Op) (*clientv3.TxnResponse, error) {
	var resp *clientv3.TxnResponse
	err := s.call(ctx, method, idempotent, func(ctx context.Context) error {
		var err error
		resp, err = s.client.Txn(ctx).If(cmps...).Then(then...).Else(els...).Commit()
		return err
	})
	return resp, err
}

// read gets several keys at one revision, in one request. The map holds
// the keys that exist.
func (s *Store) read(ctx context.Context, keys ...string) (map[string]*mvccpb.KeyValue, int64, error) {
	ops := make([]clientv3.Op, len(keys))
	for i, k := range keys {
		ops[i] = clientv3.OpGet(k)
	}
	resp, err := s.txn(ctx, "read", true, nil, ops, nil)
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string]*mvccpb.KeyValue, len(keys))
	for _, r := range resp.Responses {
		for _, kv := range r.GetResponseRange().GetKvs() {
			out[string(kv.Key)] = kv
		}
	}
	return out, resp.Header.Revision, nil
}

// scan calls each for every key in [start, end), in key order, reading
// pages of pageSize keys at one revision: rev, or when rev is 0 the
// revision of the first page, which it returns.
func (s *Store) scan(ctx context.Context, start, end string, rev int64, each func(kv *mvccpb.KeyValue) error) (int64, error) {
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize)}
		if rev > 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		resp, err := s.get(ctx, start, opts...)
		if err != nil {
			return rev, err
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			if err := each(kv); err != nil {
				return rev, err
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return rev, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// scanPrefix is scan over every key starting with prefix.
func (s *Store) scanPrefix(ctx context.Context, prefix string, rev int64, each func(kv *mvccpb.KeyValue) error) (int64, error) {
	return s.scan(ctx, prefix, prefixEnd(prefix), rev, each)
}

// plan is the compares and writes of one transaction.
type plan struct {
	cmps  []clientv3.Cmp
	ops   []clientv3.Op
	bytes int
}

func (p *plan) compare(c clientv3.Cmp) {
	p.cmps = append(p.cmps, c)
	p.bytes += len(c.KeyBytes()) + 16
}

// unchanged requires key to be at the mod revision it was read at (0:
// still absent).
func (p *plan) unchanged(key string, modRev int64) {
	p.compare(clientv3.Compare(clientv3.ModRevision(key), "=", modRev))
}

// absent requires key not to exist.
func (p *plan) absent(key string) {
	p.compare(clientv3.Compare(clientv3.CreateRevision(key), "=", 0))
}

func (p *plan) put(key string, value []byte) {
	p.ops = append(p.ops, clientv3.OpPut(key, string(value)))
	p.bytes += len(key) + len(value) + 8
}

func (p *plan) putJSON(key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	p.put(key, b)
	return nil
}

func (p *plan) delete(key string) {
	p.ops = append(p.ops, clientv3.OpDelete(key))
	p.bytes += len(key) + 8
}

// fits refuses a plan etcd would reject as one request.
func (p *plan) fits(what string) error {
	if n := max(len(p.cmps), len(p.ops)); n > maxTxnOps {
		return refusal{fmt.Errorf("storage: %s needs %d operations; one etcd transaction holds %d", what, n, maxTxnOps)}
	}
	if p.bytes > maxTxnBytes {
		return refusal{fmt.Errorf("storage: %s is %d bytes; one etcd request holds %d", what, p.bytes, maxTxnBytes)}
	}
	return nil
}

// commit sends the plan and reports whether its compares held.
func (s *Store) commit(ctx context.Context, p *plan) (bool, error) {
	resp, err := s.txn(ctx, "commit", true, p.cmps, p.ops, nil)
	if err != nil {
		return false, err
	}
	return resp.Succeeded, nil
}

// conflict waits before the next run of a command whose compare failed,
// or gives up with ErrContention after maxConflicts runs.
func conflict(ctx context.Context, run int) error {
	if run >= maxConflicts {
		return ErrContention
	}
	ceiling := min(maxBackoff, minBackoff<<min(run, 16))
	t := time.NewTimer(rand.N(ceiling) + time.Microsecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// locks serializes, within this process, the commands that would race
// for the same record: optimistic retries are then only between replicas.
type locks struct{ stripes [64]chan struct{} }

func newLocks() *locks {
	l := &locks{}
	for i := range l.stripes {
		l.stripes[i] = make(chan struct{}, 1)
	}
	return l
}

// lock takes the stripe of name, or gives up when ctx ends.
func (l *locks) lock(ctx context.Context, name string) (unlock func(), err error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	c := l.stripes[h.Sum32()%uint32(len(l.stripes))]
	select {
	case c <- struct{}{}:
		return func() { <-c }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// batcher sends independent writes in as few transactions as etcd's
// limits allow. Each transaction lands whole; together they do not.
type batcher struct {
	s *Store
	p plan
}

func (s *Store) batcher() *batcher { return &batcher{s: s} }

// room sends what is pending when one more write of size bytes would not
// fit, and returns the index the next write will have in its transaction.
func (b *batcher) room(ctx context.Context, size int) (int, error) {
	if len(b.p.ops)+1 > maxTxnOps || (len(b.p.ops) > 0 && b.p.bytes+size > maxTxnBytes) {
		if err := b.flush(ctx); err != nil {
			return 0, err
		}
	}
	return len(b.p.ops), nil
}

func (b *batcher) put(ctx context.Context, key string, value []byte) error {
	if _, err := b.room(ctx, len(key)+len(value)+8); err != nil {
		return err
	}
	b.p.put(key, value)
	return nil
}

// flush sends what is pending. Puts are idempotent: the guard may re-send.
func (b *batcher) flush(ctx context.Context) error {
	if len(b.p.ops) == 0 {
		return nil
	}
	_, err := b.s.txn(ctx, "commit", true, nil, b.p.ops, nil)
	b.p = plan{}
	return err
}
