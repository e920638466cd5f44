package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/ooda-sre/ooda/slo"
)

// SaveSLOState stores one SLO's state, replacing the one before.
func (s *Store) SaveSLOState(ctx context.Context, st slo.State) error {
	return s.SaveSLOStates(ctx, []slo.State{st})
}

// SaveSLOStates stores the states of one evaluation. Up to 128 states go
// in one transaction, all or none; a larger evaluation is written in
// several (etcd's limit), each of which lands whole. States are
// independent of each other, and the next evaluation writes them again.
func (s *Store) SaveSLOStates(ctx context.Context, states []slo.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, st := range states {
		if st.SLO == "" {
			return errors.New("storage: an SLO state needs its SLO id")
		}
	}
	return putAllJSON(ctx, s, "save slo states", states, func(st slo.State) string { return s.keys.slo(st.SLO) })
}

// putAllJSON writes each item as JSON under its key, in batches that each
// land whole (see batcher): for records independent of each other, which
// the next write of the same kind rewrites.
func putAllJSON[T any](ctx context.Context, s *Store, what string, items []T, key func(T) string) error {
	b := s.batcher()
	for _, it := range items {
		k := key(it)
		v, err := json.Marshal(it)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", what, k, err)
		}
		if err := b.put(ctx, k, v); err != nil {
			return failed(what, err)
		}
	}
	if err := b.flush(ctx); err != nil {
		return failed(what, err)
	}
	return nil
}

// LoadSLOState returns the state stored for an SLO; ok is false when there
// is none.
func (s *Store) LoadSLOState(ctx context.Context, id string) (st slo.State, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return slo.State{}, false, err
	}
	resp, err := s.get(ctx, s.keys.slo(id))
	if err != nil {
		return slo.State{}, false, failed("load slo state", err)
	}
	if len(resp.Kvs) == 0 {
		return slo.State{}, false, nil
	}
	if err := decodeSLOState(id, resp.Kvs[0].Value, &st); err != nil {
		return slo.State{}, false, failed("load slo state", err)
	}
	return st, true, nil
}

// SLOStates returns every stored SLO state, ordered by id.
func (s *Store) SLOStates(ctx context.Context) ([]slo.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []slo.State
	_, err := s.scanPrefix(ctx, s.keys.slos(), 0, func(kv *mvccpb.KeyValue) error {
		var st slo.State
		if err := decodeSLOState(strings.TrimPrefix(string(kv.Key), s.keys.slos()), kv.Value, &st); err != nil {
			return err
		}
		out = append(out, st)
		return nil
	})
	if err != nil {
		return nil, failed("read slo states", err)
	}
	return out, nil
}

// DeleteSLOState forgets an SLO, for one removed from the SLO files.
// Deleting an SLO without a state does nothing.
func (s *Store) DeleteSLOState(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.call(ctx, "delete", true, func(ctx context.Context) error {
		_, err := s.client.Delete(ctx, s.keys.slo(id))
		return err
	})
	if err != nil {
		return failed("delete slo state", err)
	}
	return nil
}

func decodeSLOState(id string, v []byte, st *slo.State) error {
	if err := json.Unmarshal(v, st); err != nil {
		return fmt.Errorf("slo state %s: %w", id, err)
	}
	return nil
}
