package etcd_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
)

// BenchmarkFailover measures, with the default lease, the time from the
// leader's death (its client gone without resigning, as a SIGKILL leaves
// it: the lease lives until its TTL) to the first effect the next leader
// completes. Reported, never asserted; ten runs:
//
//	go test -run '^$' -bench Failover -benchtime 10x ./storage/etcd
func BenchmarkFailover(b *testing.B) {
	endpoints := etcdtest.Start(b)
	var took []time.Duration
	for range b.N {
		prefix := etcdtest.NewPrefix()
		guard, err := resilience.New(etcdtest.Policy())
		require.NoError(b, err)
		leader, err := etcd.Open(b.Context(), etcd.Options{Endpoints: endpoints, Prefix: prefix, Guard: guard})
		require.NoError(b, err)
		standby := etcdtest.OpenPrefix(b, endpoints, prefix, nil)
		declare(b, leader, "declare", "Checkout is down")
		ctx, cancel := context.WithCancel(b.Context())
		_, err = leader.Election("leader", 0).Lead(ctx)
		require.NoError(b, err)
		next := make(chan context.Context, 1)
		go func() {
			lead, err := standby.Election("standby", 0).Lead(ctx)
			if err == nil {
				next <- lead
			}
		}()

		start := time.Now()
		require.NoError(b, leader.Close())
		lead := <-next
		pending, err := standby.Pending(lead, 1)
		require.NoError(b, err)
		_, err = standby.Complete(lead, pending[0].OutboxSeq, incident.Outcome{At: time.Now(), Key: pending[0].Effect.Key})
		require.NoError(b, err)
		took = append(took, time.Since(start))
		cancel()
	}
	slices.Sort(took)
	b.ReportMetric(took[0].Seconds(), "min-s")
	b.ReportMetric(took[len(took)/2].Seconds(), "median-s")
	b.ReportMetric(took[len(took)-1].Seconds(), "max-s")
}
