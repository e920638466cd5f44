package etcd_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
)

// TestElectionFencesADeposedLeader: one replica leads; when its lead is
// gone (its key deleted, as an expired lease does, while it still believes
// it leads) its outbox writes fail with ErrFenced and leave the effect
// queued, and the replica that leads next completes it.
func TestElectionFencesADeposedLeader(t *testing.T) {
	endpoints := etcdtest.Start(t)
	prefix := etcdtest.NewPrefix()
	a := etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	b := etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	declare(t, a, "declare", "Checkout is down")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	ea := a.Election("replica-a", 2*time.Second)
	la, err := ea.Lead(ctx)
	require.NoError(t, err)
	leading, since := ea.Leading()
	require.True(t, leading)
	name, at, ok, err := ea.Leader(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "replica-a", name)
	require.WithinDuration(t, since, at, time.Millisecond)

	pending, err := a.Pending(ctx, 0)
	require.NoError(t, err)
	require.NotEmpty(t, pending)
	first := pending[0]
	require.NoError(t, a.Defer(la, first.OutboxSeq, incident.Retry{Attempts: 1, NextAt: time.Now(), Error: "slack down"}), "the leader writes")

	_, err = etcdtest.Client(t, endpoints).Delete(ctx, prefix+"leader/", clientv3.WithPrefix())
	require.NoError(t, err)
	_, err = a.Complete(la, first.OutboxSeq, incident.Outcome{At: time.Now(), Key: first.Effect.Key})
	require.ErrorIs(t, err, etcd.ErrFenced, "a deposed leader completes nothing")
	require.ErrorIs(t, a.Defer(la, first.OutboxSeq, incident.Retry{Attempts: 2, NextAt: time.Now()}), etcd.ErrFenced)
	still, err := b.Pending(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, first.OutboxSeq, still[0].OutboxSeq, "the effect stays queued")
	require.Equal(t, 1, still[0].Attempts, "and the deposed leader's last write did not land")

	eb := b.Election("replica-b", 2*time.Second)
	lb, err := eb.Lead(ctx)
	require.NoError(t, err)
	_, err = b.Complete(lb, first.OutboxSeq, incident.Outcome{At: time.Now(), Key: first.Effect.Key})
	require.NoError(t, err, "the new leader completes it")
	name, _, ok, err = eb.Leader(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "replica-b", name)
}

// TestLeadEndsWithItsLease: a lead whose lease is revoked (a replica cut
// off from etcd for longer than its TTL) ends its context.
func TestLeadEndsWithItsLease(t *testing.T) {
	endpoints := etcdtest.Start(t)
	prefix := etcdtest.NewPrefix()
	s := etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	lead, err := s.Election("replica", time.Second).Lead(ctx)
	require.NoError(t, err)

	cli := etcdtest.Client(t, endpoints)
	leases, err := cli.Leases(ctx)
	require.NoError(t, err)
	for _, l := range leases.Leases {
		_, err := cli.Revoke(ctx, l.ID)
		require.NoError(t, err)
	}
	select {
	case <-lead.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the lead outlived its lease")
	}
}
