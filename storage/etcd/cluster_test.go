package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/timeline"
)

// The cluster test's stream: commands notes on clusterIncidents
// incidents from clusterWriters goroutines. The leader is killed once
// killAfter of them were acknowledged; the commands from index holdUntilKill
// on are sent only after the kill, so the stream goes on through the
// election and on two members.
const (
	clusterIncidents = 3
	clusterWriters   = 6
	clusterCommands  = 300
	killAfter        = 60
	holdUntilKill    = 120
)

// Bounds that only catch hangs: a command must be answered (acknowledged
// or refused) within answerBound, and one refused while the cluster
// recovers must get through within recoverBound of retrying with its key.
// Neither measures speed.
const (
	answerBound  = 20 * time.Second
	recoverBound = 60 * time.Second
	retryPause   = 100 * time.Millisecond
)

// sent is what became of one command of the stream.
type sent struct {
	key       string
	n         uint64
	attempts  int              // Apply calls until one was acknowledged
	firstErr  error            // what the first refused attempt returned
	acked     incident.Result  // the acknowledged result
	afterKill bool             // its first attempt began after the kill
	events    []timeline.Event // acked.Events
}

// TestClusterSurvivesAMemberAndRefusesWithoutQuorum runs the store on a
// real three-member etcd cluster (etcd processes on loopback):
//
//   - the leader (member 0) is killed with SIGKILL in the middle of a
//     stream of concurrent commands: every command is eventually
//     acknowledged (those refused while the cluster elects a new leader
//     are repeated with their idempotency key, as Slack users would), and
//     each key is recorded exactly once, where its acknowledgement said,
//     with every incident's sequences contiguous;
//   - a second member is stopped, so the cluster has no quorum: commands
//     are answered, within a bound, with an error matching
//     incident.ErrUnavailable (the command layer's "not recorded")
//     and never acknowledged;
//   - the two members are started again: commands succeed again, nothing
//     acknowledged before is lost, and repeating the commands refused
//     during the outage records each of them once.
func TestClusterSurvivesAMemberAndRefusesWithoutQuorum(t *testing.T) {
	cluster := etcdtest.StartCluster(t, 3)
	s := etcdtest.Open(t, cluster.Endpoints(), nil)
	ctx := t.Context()
	var all []sent // every command of the test, acknowledged
	for i := range clusterIncidents {
		key := fmt.Sprintf("declare-%d", i)
		res := declare(t, s, key, fmt.Sprintf("incident %d", i))
		all = append(all, sent{key: key, n: res.Incident.Number, acked: res, events: res.Events})
	}
	// Member 0 leads, so killing it costs the cluster its leader: the
	// harder case, an election in the middle of the stream.
	cluster.MoveLeader(0)

	// Phase 1: a member dies mid-stream.
	calls := make([]sent, clusterCommands)
	for i := range calls {
		key := fmt.Sprintf("note-%03d", i)
		calls[i] = sent{key: key, n: uint64(i%clusterIncidents) + 1}
	}
	var (
		next     atomic.Int64
		acked    atomic.Int64
		killed   = make(chan struct{})
		halfway  = make(chan struct{})
		halfOnce sync.Once
		wg       sync.WaitGroup
	)
	for range clusterWriters {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(calls) {
					return
				}
				if i >= holdUntilKill {
					<-killed
				}
				c := &calls[i]
				select {
				case <-killed:
					c.afterKill = true
				default:
				}
				if !sendUntilAcked(t, s, c) {
					return
				}
				if acked.Add(1) == killAfter {
					halfOnce.Do(func() { close(halfway) })
				}
			}
		})
	}
	select {
	case <-halfway:
	case <-time.After(recoverBound):
		t.Fatalf("only %d of %d commands acknowledged before the kill", acked.Load(), killAfter)
	}
	leader := cluster.Leader()
	cluster.Kill(0)
	killedAt := time.Now()
	close(killed)
	wg.Wait()
	require.False(t, t.Failed(), "every command of the stream was acknowledged")
	t.Logf("stream: %d commands, %d writers; m%d (the leader) SIGKILLed after %d acknowledgements; the stream ended %v after the kill",
		clusterCommands, clusterWriters, leader, killAfter, time.Since(killedAt).Round(time.Millisecond))

	var refused, landedAnyway, afterKill int
	for _, c := range calls {
		if c.afterKill {
			afterKill++
		}
		if c.firstErr != nil {
			refused++
			if c.acked.Duplicate {
				// A refused attempt had landed after all; the repeat found
				// its key and returned what it recorded.
				landedAnyway++
			}
		}
	}
	t.Logf("stream: %d commands sent after the kill; %d refused at least once (%d of which had landed: the repeat returned the original)",
		afterKill, refused, landedAnyway)
	require.Positive(t, afterKill, "the stream went on after the kill")
	all = append(all, calls...)
	requireRecordedOnce(t, s, all)

	// Phase 2: a second member stops, the cluster has no quorum.
	cluster.Stop(1)
	var outage []string
	for i := range 3 {
		key := fmt.Sprintf("outage-%d", i)
		outage = append(outage, key)
		actx, cancel := context.WithTimeout(ctx, answerBound+5*time.Second)
		start := time.Now()
		_, err := s.Apply(actx, 1, key, observe("while the cluster has no quorum", key))
		took := time.Since(start)
		cancel()
		require.Error(t, err, "a command without quorum is never acknowledged")
		require.ErrorIs(t, err, incident.ErrUnavailable, "refused as not recorded: %v", err)
		require.ErrorIs(t, err, etcd.ErrUnreachable)
		require.Less(t, took, answerBound, "answered at all")
		t.Logf("without quorum: %s refused after %v: %v", key, took.Round(time.Millisecond), err)
	}

	// Phase 3: quorum returns.
	cluster.Start(1)
	cluster.Start(0)
	start := time.Now()
	resumed := sent{key: "after-quorum", n: 2}
	require.Eventually(t, func() bool {
		res, err := s.Apply(ctx, resumed.n, resumed.key, observe("the cluster is back", resumed.key))
		resumed.acked, resumed.events = res, res.Events
		return err == nil
	}, recoverBound, retryPause, "commands resume once the cluster has its quorum again")
	t.Logf("quorum back: commands succeed again after %v", time.Since(start).Round(time.Millisecond))
	all = append(all, resumed)

	// The commands refused during the outage, repeated with their keys,
	// record once each, whether or not a refused attempt landed once the
	// quorum was back; and nothing acknowledged before was lost.
	for _, key := range outage {
		c := sent{key: key, n: 1}
		require.True(t, sendUntilAcked(t, s, &c))
		t.Logf("without quorum: %s repeated, duplicate of a refused attempt that landed: %v", key, c.acked.Duplicate)
		all = append(all, c)
	}
	requireRecordedOnce(t, s, all)
}

// sendUntilAcked applies c's note until it is acknowledged, repeating it
// with the same idempotency key while the store refuses it as
// unavailable. It reports false (having failed t) when the store refuses
// it otherwise, or for longer than recoverBound, or takes longer than
// answerBound to answer.
func sendUntilAcked(t *testing.T, s *etcd.Store, c *sent) bool {
	deadline := time.Now().Add(recoverBound)
	for {
		c.attempts++
		ctx, cancel := context.WithTimeout(context.Background(), answerBound+5*time.Second)
		start := time.Now()
		res, err := s.Apply(ctx, c.n, c.key, observe("note "+c.key, c.key))
		took := time.Since(start)
		cancel()
		if took > answerBound {
			t.Errorf("%s: answered after %v (%v)", c.key, took, err)
			return false
		}
		if err == nil {
			c.acked, c.events = res, res.Events
			return true
		}
		if !errors.Is(err, incident.ErrUnavailable) {
			t.Errorf("%s: refused, not as unavailable: %v", c.key, err)
			return false
		}
		if c.firstErr == nil {
			c.firstErr = err
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: still refused after %v of retrying: %v", c.key, recoverBound, err)
			return false
		}
		time.Sleep(retryPause) // a person trying again
	}
}

// requireRecordedOnce reads every incident's log and checks that its
// sequences are contiguous and that it holds exactly the events the
// acknowledged commands in all were acknowledged with, each once, at the
// incident and sequence its acknowledgement said: nothing acknowledged is
// lost, nothing is recorded twice, nothing is recorded that was not
// acknowledged. (A command's first event carries its idempotency key, its
// further events the key with "#1", "#2"... appended.)
func requireRecordedOnce(t *testing.T, s *etcd.Store, all []sent) {
	t.Helper()
	type place struct {
		n, seq uint64
		cmd    string
	}
	want := map[string]place{} // event key → where it was acknowledged
	for _, c := range all {
		require.NotEmpty(t, c.events, "%s was acknowledged with its events", c.key)
		for _, e := range c.events {
			require.NotContains(t, want, e.Key, "the test uses each key once")
			want[e.Key] = place{n: c.n, seq: e.Seq, cmd: c.key}
		}
	}
	recorded := map[string]int{}
	for n := uint64(1); n <= clusterIncidents; n++ {
		for _, e := range requireContiguous(t, s, n) {
			p, ok := want[e.Key]
			require.True(t, ok, "%s#%d carries key %q, which no acknowledged command was acknowledged with", incident.ID(n), e.Seq, e.Key)
			require.Equal(t, place{n: n, seq: e.Seq, cmd: p.cmd}, p, "%s: stored where its acknowledgement said", e.Key)
			recorded[e.Key]++
		}
	}
	for key, p := range want {
		require.Equal(t, 1, recorded[key], "%s (of command %s, acknowledged as %s#%d) recorded exactly once", key, p.cmd, incident.ID(p.n), p.seq)
	}
}
