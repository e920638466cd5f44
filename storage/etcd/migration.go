package etcd

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Migration is the marker `ooda migrate` keeps in the prefix it loads: the
// source it copies, and whether the copy finished. A load that was cut
// short leaves it unfinished, so the same source can start again into the
// prefix; any other prefix that holds data is never loaded into.
type Migration struct {
	Source   string    `json:"source"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
}

func (k keys) migration() string { return k.p + "meta/migration" }

// Migration reads the prefix's migration marker; ok is false without one.
func (s *Store) Migration(ctx context.Context) (m Migration, ok bool, err error) {
	resp, err := s.get(ctx, s.keys.migration())
	if err != nil {
		return Migration{}, false, failed("read the migration marker", err)
	}
	if len(resp.Kvs) == 0 {
		return Migration{}, false, nil
	}
	if err := json.Unmarshal(resp.Kvs[0].Value, &m); err != nil {
		return Migration{}, false, fmt.Errorf("etcd store: the migration marker: %w", err)
	}
	return m, true, nil
}

// SetMigration writes the prefix's migration marker.
func (s *Store) SetMigration(ctx context.Context, m Migration) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := s.txn(ctx, "put", true, nil, []clientv3.Op{clientv3.OpPut(s.keys.migration(), string(data))}, nil); err != nil {
		return failed("write the migration marker", err)
	}
	return nil
}

// Holds reports whether the prefix holds any key but the layout version
// and the migration marker.
func (s *Store) Holds(ctx context.Context) (bool, error) {
	resp, err := s.get(ctx, s.keys.p, clientv3.WithRange(prefixEnd(s.keys.p)), clientv3.WithKeysOnly(), clientv3.WithLimit(3))
	if err != nil {
		return false, failed("look at the prefix", err)
	}
	for _, kv := range resp.Kvs {
		if k := string(kv.Key); k != s.keys.schema() && k != s.keys.migration() {
			return true, nil
		}
	}
	return false, nil
}

// ClearForMigration deletes every key of the prefix but the layout version
// and the migration marker, so an unfinished migration can load again.
// It refuses a prefix without an unfinished marker: it is for nothing
// else.
func (s *Store) ClearForMigration(ctx context.Context) error {
	m, ok, err := s.Migration(ctx)
	if err != nil {
		return err
	}
	if !ok || !m.Finished.IsZero() {
		return fmt.Errorf("etcd store: %s holds no unfinished migration to clear", s.keys.p)
	}
	for _, sub := range []string{"incidents/", "events/", "channels/", "dedupe/", "outbox/", "effects/", "transcript/", "slo/", "people/", "sessions/"} {
		p := s.keys.p + sub
		if _, err := s.txn(ctx, "delete", true, nil, []clientv3.Op{clientv3.OpDelete(p, clientv3.WithRange(prefixEnd(p)))}, nil); err != nil {
			return failed("clear "+p, err)
		}
	}
	if _, err := s.txn(ctx, "delete", true, nil, []clientv3.Op{clientv3.OpDelete(s.keys.counter())}, nil); err != nil {
		return failed("clear the counter", err)
	}
	return nil
}
