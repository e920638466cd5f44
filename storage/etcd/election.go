package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultLeaseTTL is how long a leader that stopped renewing its lease
// (killed, or cut off from etcd) keeps the lead: long enough to ride out
// a slow renewal, short enough that effects wait seconds, not minutes.
const DefaultLeaseTTL = 5 * time.Second

// ErrFenced refuses an executor's write made under a lead this replica no
// longer holds: another replica leads, and does that work now.
var ErrFenced = errors.New("this replica no longer leads; its write was refused")

// Election elects one replica among those sharing the store to run the
// work only one may run (app's Leadership): a campaign on a key under the
// prefix, held by a session lease that the replica keeps alive. A replica
// killed or cut off from etcd loses the lease after its TTL, and the next
// in line leads. The context Lead returns carries a fence: every write of
// the outbox made with it (Complete, Defer) compares the leader key's
// revision, so a deposed leader's late writes fail with ErrFenced.
type Election struct {
	s    *Store
	name string
	ttl  time.Duration

	mu    sync.Mutex
	since time.Time // when this replica took the lead; zero while it does not lead
}

// Election returns the election of this store's replicas; name says
// which replica this is (in the status), ttl is the lease's (zero:
// DefaultLeaseTTL).
func (s *Store) Election(name string, ttl time.Duration) *Election {
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return &Election{s: s, name: name, ttl: ttl}
}

func (k keys) leader() string { return k.p + "leader/" }

// Name is this replica's name.
func (e *Election) Name() string { return e.name }

// Lead campaigns until this replica leads or ctx ends. The context it
// returns ends as soon as the lease is lost (or ctx ends), when the lead
// is also resigned, so the next in line need not wait out the TTL.
func (e *Election) Lead(ctx context.Context) (context.Context, error) {
	sess, err := concurrency.NewSession(e.s.client, concurrency.WithTTL(int(e.ttl.Seconds())), concurrency.WithContext(ctx))
	if err != nil {
		return nil, unreachable(fmt.Errorf("election session: %w", err))
	}
	el := concurrency.NewElection(sess, e.s.keys.leader())
	if err := el.Campaign(ctx, e.name); err != nil {
		_ = sess.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreachable(fmt.Errorf("campaign: %w", err))
	}
	// Since when it leads is known only now that the campaign is won:
	// proclaimed, so the other replicas read it too.
	now := time.Now().UTC()
	if err := el.Proclaim(ctx, e.name+"@"+now.Format(time.RFC3339Nano)); err != nil {
		_ = sess.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unreachable(fmt.Errorf("proclaim: %w", err))
	}
	e.mu.Lock()
	e.since = now
	e.mu.Unlock()
	lctx, cancel := context.WithCancel(withFence(ctx, fence{key: el.Key(), rev: el.Rev()}))
	// Owned by the lead: it ends with lctx, which it ends itself when the
	// session is lost.
	go func() {
		lost := false
		select {
		case <-sess.Done():
			lost = true
		case <-lctx.Done():
		}
		cancel()
		e.mu.Lock()
		e.since = time.Time{}
		e.mu.Unlock()
		if lost {
			// The lease is gone (or etcd out of reach): nothing to
			// resign, and no call to wait on.
			return
		}
		rctx, rcancel := context.WithTimeout(context.Background(), time.Second)
		_ = el.Resign(rctx)
		rcancel()
		_ = sess.Close()
	}()
	return lctx, nil
}

// Leading reports whether this replica leads, and since when.
func (e *Election) Leading() (bool, time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return !e.since.IsZero(), e.since
}

// Leader says which replica leads and since when; ok is false when none
// does (or etcd cannot say).
func (e *Election) Leader(ctx context.Context) (name string, since time.Time, ok bool, err error) {
	resp, err := e.s.get(ctx, e.s.keys.leader(), clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1))
	if err != nil {
		return "", time.Time{}, false, failed("read the leader", err)
	}
	if len(resp.Kvs) == 0 {
		return "", time.Time{}, false, nil
	}
	v := string(resp.Kvs[0].Value)
	name, at, _ := strings.Cut(v, "@")
	since, _ = time.Parse(time.RFC3339Nano, at)
	return name, since, true, nil
}

// fence is the leader key and the revision a lead was won at.
type fence struct {
	key string
	rev int64
}

type fenceKey struct{}

func withFence(ctx context.Context, f fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

func fenceOf(ctx context.Context) (fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(fence)
	return f, ok
}

// fenced adds the fence of ctx, if any, to a plan.
func fenced(ctx context.Context, p *plan) {
	if f, ok := fenceOf(ctx); ok {
		p.compare(clientv3.Compare(clientv3.CreateRevision(f.key), "=", f.rev))
	}
}

// checkFence fails with ErrFenced when ctx carries a lead that is gone: a
// plan that lost its compares is retried only while the lead holds.
func (s *Store) checkFence(ctx context.Context) error {
	f, ok := fenceOf(ctx)
	if !ok {
		return nil
	}
	resp, err := s.get(ctx, f.key)
	if err != nil {
		return err
	}
	if len(resp.Kvs) == 0 || resp.Kvs[0].CreateRevision != f.rev {
		return ErrFenced
	}
	return nil
}
