package etcd_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/storage/storetest"
)

// TestConformance holds the etcd store to the suite every backend passes,
// each test on a prefix of its own on one embedded etcd. A replica is a
// second store, with its own connection, on the same prefix.
func TestConformance(t *testing.T) {
	endpoints := etcdtest.Start(t)
	storetest.Run(t, storetest.Backend{
		Open: func(t *testing.T, now func() time.Time) storage.Store {
			return etcdtest.Open(t, endpoints, now)
		},
		Reopen: func(t *testing.T, s storage.Store, now func() time.Time) storage.Store {
			prefix := s.(*etcd.Store).Prefix()
			require.NoError(t, s.Close())
			return etcdtest.OpenPrefix(t, endpoints, prefix, now)
		},
		Replica: func(t *testing.T, s storage.Store) storage.Store {
			return etcdtest.OpenPrefix(t, endpoints, s.(*etcd.Store).Prefix(), time.Now)
		},
	})
}
