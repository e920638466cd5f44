package storage

import (
	"context"
	"fmt"

	"github.com/ooda-sre/ooda/people"
)

// The people bucket holds the workspace's directory as Slack last
// described it: member ID -> people.Person as JSON. It is created by the
// first save, so files written before it existed need no migration.
var bucketPeople = []byte("people")

// errAnonymousPerson refuses a person without a member ID.
var errAnonymousPerson = fmt.Errorf("storage: %w", people.ErrNoID)

// SavePeople stores people in one transaction, each replacing what was
// stored under their member ID: a refresh of the whole workspace costs one
// fsync, and a crash keeps all or none of it.
func (db *DB) SavePeople(ctx context.Context, ps []people.Person) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(ps) == 0 {
		return nil
	}
	for _, p := range ps {
		if p.ID == "" {
			return errAnonymousPerson
		}
	}
	return db.write("save people", func(t txn) error {
		b, err := t.tx.CreateBucketIfNotExists(bucketPeople)
		if err != nil {
			return err
		}
		for _, p := range ps {
			if err := putJSON(b, []byte(p.ID), p); err != nil {
				return fmt.Errorf("person %s: %w", p.ID, err)
			}
		}
		return nil
	})
}

// People returns every stored person, ordered by member ID.
func (db *DB) People(ctx context.Context) ([]people.Person, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []people.Person
	err := db.read("read people", func(t txn) error {
		out = nil
		b := t.tx.Bucket(bucketPeople)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			p, err := people.Decode(string(k), v)
			if err != nil {
				return err
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}
