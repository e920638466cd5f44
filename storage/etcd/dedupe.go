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

// expireBatch is how many keys one transaction of ExpireDedupe deletes:
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
	type victim struct {
		key string
		rev int64
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
	dropped := 0
	for len(expired) > 0 {
		batch := expired[:min(expireBatch, len(expired))]
		expired = expired[len(batch):]
		ops := make([]clientv3.Op, len(batch))
		for i, v := range batch {
			ops[i] = clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(v.key), "=", v.rev)},
				[]clientv3.Op{clientv3.OpDelete(v.key)}, nil)
		}
		resp, err := s.txn(ctx, "expire", true, nil, ops, nil)
		if err != nil {
			return dropped, failed("expire idempotency keys", err)
		}
		for _, r := range resp.Responses {
			if r.GetResponseTxn().GetSucceeded() {
				dropped++
			}
		}
	}
	return dropped, nil
}
