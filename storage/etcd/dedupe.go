package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// expireBatch is how many keys one transaction of a sweep deletes:
// each is a nested transaction of one compare and one delete, and etcd
// counts those against the same 128 operations as the outer ones.
const expireBatch = 60

// ExpireDedupe forgets the idempotency keys first seen before before and
// returns how many it dropped. Keys expire by this sweep, as in bbolt, not
// by etcd leases: a cron job calls it, and a key only needs to outlive the
// retries and replays it guards against. The keys are read in pages at
// one revision and deleted in batches, each delete comparing the key's
// revision, so a sweep racing another replica's counts each key once.
func (s *Store) ExpireDedupe(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var expired []victim
	_, err := s.scanPrefix(ctx, s.keys.dedupes(), 0, func(kv *mvccpb.KeyValue) error {
		var d dedupeRecord
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			return fmt.Errorf("dedupe key %q: %w", strings.TrimPrefix(string(kv.Key), s.keys.dedupes()), err)
		}
		if d.FirstSeen.Before(before) {
			expired = append(expired, victim{string(kv.Key), kv.ModRevision})
		}
		return nil
	})
	if err != nil {
		return 0, failed("expire idempotency keys", err)
	}
	dropped, err := s.sweep(ctx, expired)
	if err != nil {
		return dropped, failed("expire idempotency keys", err)
	}
	return dropped, nil
}

// victim is a key a sweep deletes. When rev is set, it is the revision
// the sweep read the key at, and the key is deleted only if it is still
// at it: a record rewritten since is left alone.
type victim struct {
	key string
	rev int64
}

// sweep deletes the victims in batches and returns how many keys it
// deleted. It counts the deletes that took effect, so a sweep racing
// another replica's counts each key once.
func (s *Store) sweep(ctx context.Context, victims []victim) (int, error) {
	dropped := 0
	for len(victims) > 0 {
		batch := victims[:min(expireBatch, len(victims))]
		victims = victims[len(batch):]
		ops := make([]clientv3.Op, len(batch))
		for i, v := range batch {
			var cmps []clientv3.Cmp
			if v.rev != 0 {
				cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(v.key), "=", v.rev))
			}
			ops[i] = clientv3.OpTxn(cmps, []clientv3.Op{clientv3.OpDelete(v.key)}, nil)
		}
		resp, err := s.txn(ctx, "expire", true, nil, ops, nil)
		if err != nil {
			return dropped, err
		}
		for _, r := range resp.Responses {
			for _, d := range r.GetResponseTxn().GetResponses() {
				dropped += int(d.GetResponseDeleteRange().GetDeleted())
			}
		}
	}
	return dropped, nil
}
