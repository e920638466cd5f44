package etcd

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/ooda-sre/ooda/people"
)

func (k keys) allPeople() string          { return k.p + "people/" }
func (k keys) person(id string) string    { return k.allPeople() + id }
func (k keys) personID(key string) string { return strings.TrimPrefix(key, k.allPeople()) }

// SavePeople stores people, each replacing what was stored under their
// member ID. Up to 128 people go in one transaction, all or none; a larger
// workspace is written in several (etcd's limit), each of which lands
// whole. People are independent of each other, and the next refresh
// writes them again.
func (s *Store) SavePeople(ctx context.Context, ps []people.Person) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, p := range ps {
		if p.ID == "" {
			return fmt.Errorf("storage: %w", people.ErrNoID)
		}
	}
	return putAllJSON(ctx, s, "save people", ps, func(p people.Person) string { return s.keys.person(p.ID) })
}

// People returns every stored person, ordered by member ID.
func (s *Store) People(ctx context.Context) ([]people.Person, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []people.Person
	_, err := s.scanPrefix(ctx, s.keys.allPeople(), 0, func(kv *mvccpb.KeyValue) error {
		p, err := people.Decode(s.keys.personID(string(kv.Key)), kv.Value)
		out = append(out, p)
		return err
	})
	if err != nil {
		return nil, failed("read people", err)
	}
	return out, nil
}
