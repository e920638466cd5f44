package storage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ooda-sre/ooda/slo"
)

// The slo bucket holds one record per SLO: its id ("service/name") ->
// slo.State as JSON. Keys sort by service, then name.

var _ slo.StateStore = (*DB)(nil)

// SaveSLOState stores one SLO's state, replacing the one before.
func (db *DB) SaveSLOState(ctx context.Context, st slo.State) error {
	return db.SaveSLOStates(ctx, []slo.State{st})
}

// SaveSLOStates stores the states of one evaluation in one transaction:
// a tick of two hundred SLOs costs one fsync, and a crash keeps all or none
// of them.
func (db *DB) SaveSLOStates(ctx context.Context, states []slo.State) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(states) == 0 {
		return nil
	}
	for _, st := range states {
		if st.SLO == "" {
			return errors.New("storage: an SLO state needs its SLO id")
		}
	}
	return db.write("save slo states", func(t txn) error {
		b, err := t.tx.CreateBucketIfNotExists(bucketSLO)
		if err != nil {
			return err
		}
		for _, st := range states {
			if err := putJSON(b, []byte(st.SLO), st); err != nil {
				return fmt.Errorf("slo %s: %w", st.SLO, err)
			}
		}
		return nil
	})
}

// LoadSLOState returns the state stored for an SLO; ok is false when there
// is none.
func (db *DB) LoadSLOState(ctx context.Context, id string) (st slo.State, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return slo.State{}, false, err
	}
	err = db.read("load slo state", func(t txn) error {
		st, ok = slo.State{}, false
		b := t.tx.Bucket(bucketSLO)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return decodeSLOState(id, v, &st)
	})
	return st, ok, err
}

// SLOStates returns every stored SLO state, ordered by id.
func (db *DB) SLOStates(ctx context.Context) ([]slo.State, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []slo.State
	err := db.read("read slo states", func(t txn) error {
		out = nil
		b := t.tx.Bucket(bucketSLO)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var st slo.State
			if err := decodeSLOState(string(k), v, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	return out, err
}

// DeleteSLOState forgets an SLO, for one removed from the SLO files.
// Deleting an SLO without a state does nothing.
func (db *DB) DeleteSLOState(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return db.write("delete slo state", func(t txn) error {
		b := t.tx.Bucket(bucketSLO)
		if b == nil {
			return nil
		}
		return b.Delete([]byte(id))
	})
}

func decodeSLOState(id string, v []byte, st *slo.State) error {
	if err := json.Unmarshal(v, st); err != nil {
		return fmt.Errorf("slo state %s: %w", id, err)
	}
	return nil
}
