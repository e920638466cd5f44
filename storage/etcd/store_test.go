package etcd_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/etcdserverpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/etcd"
	"github.com/ooda-sre/ooda/storage/etcd/etcdtest"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/storage/storetest"
	"github.com/ooda-sre/ooda/timeline"
)

// replicas opens k stores on one prefix: k replicas of Ooda, each with
// its own client and in-process locks, so their writes race in etcd.
func replicas(t *testing.T, endpoints []string, k int) []*etcd.Store {
	t.Helper()
	prefix := etcdtest.NewPrefix()
	out := make([]*etcd.Store, k)
	for i := range out {
		out[i] = etcdtest.OpenPrefix(t, endpoints, prefix, nil)
	}
	return out
}

func TestReplicas(t *testing.T) {
	endpoints := etcdtest.Start(t)

	t.Run("declarations racing in several replicas get distinct numbers", func(t *testing.T) {
		rs := replicas(t, endpoints, 4)
		const goroutines, each = 8, 5
		numbers := make(chan uint64, goroutines*each)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				s := rs[g%len(rs)]
				for i := range each {
					key := fmt.Sprintf("declare-%d-%d", g, i)
					res, err := s.Declare(context.Background(), key, declareDecider(key, key))
					if !assertNoError(t, err) {
						return
					}
					numbers <- res.Incident.Number
				}
			})
		}
		wg.Wait()
		close(numbers)
		seen := map[uint64]bool{}
		for n := range numbers {
			require.False(t, seen[n], "%s handed out twice", incident.ID(n))
			seen[n] = true
		}
		require.Len(t, seen, goroutines*each)
		for n := uint64(1); n <= goroutines*each; n++ {
			require.True(t, seen[n], "numbers run 1..%d without gaps; %s is missing", goroutines*each, incident.ID(n))
		}
	})

	t.Run("a key seen by one replica returns the original result from another", func(t *testing.T) {
		rs := replicas(t, endpoints, 2)
		first := declare(t, rs[0], "declare-1", "checkout down")
		again := declare(t, rs[1], "declare-1", "checkout down")
		require.True(t, again.Duplicate)
		require.Equal(t, first.Incident.Number, again.Incident.Number)
		require.Equal(t, first.Events, again.Events)

		note, err := rs[0].Apply(t.Context(), 1, "note-1", observe("5xx at 38%", "note-1"))
		require.NoError(t, err)
		_, err = rs[0].Apply(t.Context(), 1, "note-2", observe("rolling back", "note-2"))
		require.NoError(t, err)
		dup, err := rs[1].Apply(t.Context(), 1, "note-1", observe("something else", "note-1"))
		require.NoError(t, err)
		require.True(t, dup.Duplicate)
		require.Equal(t, note.Events, dup.Events, "the first application's events")
		require.Equal(t, uint64(4), dup.Incident.LastSeq, "and the incident as it is now")
	})

	t.Run("sequences stay contiguous and each key records once under racing replicas", func(t *testing.T) {
		rs := replicas(t, endpoints, 3)
		declare(t, rs[0], "declare", "one")
		const goroutines, each = 9, 8
		var wg sync.WaitGroup
		var recorded atomic.Int64
		for g := range goroutines {
			wg.Go(func() {
				s := rs[g%len(rs)]
				for i := range each {
					// Three goroutines, in three replicas, share each key.
					key := fmt.Sprintf("note-%d-%d", g/3, i)
					res, err := s.Apply(context.Background(), 1, key, observe(key, key))
					if !assertNoError(t, err) {
						return
					}
					if !res.Duplicate {
						recorded.Add(1)
					}
				}
			})
		}
		wg.Wait()
		require.EqualValues(t, goroutines/3*each, recorded.Load(), "each key recorded once")
		events := requireContiguous(t, rs[0], 1)
		keys := map[string]int{}
		for _, e := range events {
			keys[e.Key]++
		}
		for k, c := range keys {
			require.Equal(t, 1, c, "key %s has %d events", k, c)
		}
		storetest.RequireConsistent(t, rs[1])
	})

	t.Run("the outbox is in commit order across replicas", func(t *testing.T) {
		rs := replicas(t, endpoints, 3)
		var wg sync.WaitGroup
		for r := range rs {
			wg.Go(func() {
				for i := range 4 {
					key := fmt.Sprintf("declare-%d-%d", r, i)
					_, err := rs[r].Declare(context.Background(), key, declareDecider(key, key))
					assertNoError(t, err)
				}
			})
		}
		wg.Wait()
		all, err := rs[0].Pending(t.Context(), 0)
		require.NoError(t, err)
		require.NotEmpty(t, all)
		last := map[uint64]int{} // incident -> index of its last effect seen
		for i, p := range all {
			if i > 0 {
				require.Greater(t, p.OutboxSeq, all[i-1].OutboxSeq, "sequences grow in commit order")
				require.False(t, p.QueuedAt.Before(all[i-1].QueuedAt), "queue times follow commit order")
			}
			if j, ok := last[p.Effect.Incident]; ok {
				require.Equal(t, j+1, i, "an incident's effects are committed together and stay together")
			}
			last[p.Effect.Incident] = i
		}
		firstTwo, err := rs[2].Pending(t.Context(), 2)
		require.NoError(t, err)
		require.Equal(t, all[:2], firstTwo, "a limit takes the oldest")
	})

	t.Run("one replica completes an effect, the other gets a duplicate", func(t *testing.T) {
		rs := replicas(t, endpoints, 2)
		declare(t, rs[0], "declare", "one")
		all, err := rs[0].Pending(t.Context(), 0)
		require.NoError(t, err)
		p := all[0]
		outcome := incident.Outcome{
			Result: map[string]string{"channel": "C1"},
			Key:    "done-" + p.Effect.Key,
			Decide: func(inc *incident.Incident) (incident.Change, error) {
				return inc.ChannelCreated("C1", incident.Meta{At: t0, Actor: incident.Bot, Source: timeline.SourceSystem, Key: "done-" + p.Effect.Key})
			},
		}
		results := make([]incident.Result, len(rs))
		var wg sync.WaitGroup
		for i, s := range rs {
			wg.Go(func() {
				var err error
				results[i], err = s.Complete(context.Background(), p.OutboxSeq, outcome)
				assertNoError(t, err)
			})
		}
		wg.Wait()
		require.NotEqual(t, results[0].Duplicate, results[1].Duplicate, "exactly one completion is new")
		for _, res := range results {
			require.Len(t, res.Events, 1, "both see the one event the completion recorded")
		}
		events := requireContiguous(t, rs[0], 1)
		created := 0
		for _, e := range events {
			if e.Kind == timeline.KindChannelCreated {
				created++
			}
		}
		require.Equal(t, 1, created)
		n, err := rs[1].IncidentByChannel(t.Context(), "C1")
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		o, ok, err := rs[1].EffectResult(t.Context(), p.Effect.Key)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "C1", o.Result["channel"])
		rest, err := rs[1].Pending(t.Context(), 0)
		require.NoError(t, err)
		require.NotContains(t, rest, p)
	})
}

// assertNoError reports err from a goroutine other than the test's.
func assertNoError(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Errorf("unexpected error: %v", err)
		return false
	}
	return true
}

func TestLimits(t *testing.T) {
	endpoints := etcdtest.Start(t)

	t.Run("a command larger than one transaction is refused whole", func(t *testing.T) {
		s := etcdtest.Open(t, endpoints, nil)
		declare(t, s, "declare", "one")
		before, err := s.Incident(t.Context(), 1)
		require.NoError(t, err)
		_, err = s.Apply(t.Context(), 1, "big", entries(130, "big"))
		require.ErrorContains(t, err, "one etcd transaction holds 128")
		after, err := s.Incident(t.Context(), 1)
		require.NoError(t, err)
		require.Equal(t, before, after, "nothing was written")
		res, err := s.Apply(t.Context(), 1, "big", entries(2, "big"))
		require.NoError(t, err)
		require.False(t, res.Duplicate, "the refused command left its key free")
	})

	t.Run("long timelines and listings are read in pages at one revision", func(t *testing.T) {
		s := etcdtest.Open(t, endpoints, nil)
		declare(t, s, "declare", "one")
		for i := range 10 {
			key := fmt.Sprintf("batch-%d", i)
			_, err := s.Apply(t.Context(), 1, key, entries(60, key))
			require.NoError(t, err)
		}
		events := requireContiguous(t, s, 1)
		require.Greater(t, len(events), 600, "more than two pages")
		tail, err := s.Events(t.Context(), 1, 300)
		require.NoError(t, err)
		require.Equal(t, events[299:], tail)
		for i := range 300 {
			declare(t, s, fmt.Sprintf("declare-%d", i), "more")
		}
		all, err := s.Incidents(t.Context(), true)
		require.NoError(t, err)
		require.Len(t, all, 301)
		require.EqualValues(t, 301, all[0].Number, "newest first")
		require.EqualValues(t, 1, all[300].Number)
	})

	t.Run("more SLO states than one transaction holds are all saved", func(t *testing.T) {
		s := etcdtest.Open(t, endpoints, nil)
		states := sloStates(300)
		require.NoError(t, s.SaveSLOStates(t.Context(), states))
		got, err := s.SLOStates(t.Context())
		require.NoError(t, err)
		require.Len(t, got, len(states))
	})
}

// TestUnknownOutcome: a commit whose answer is lost after etcd applied it
// is resolved by reading the idempotency key, whichever way the guard
// was set: re-sent (its compares make the copy fail) or not.
func TestUnknownOutcome(t *testing.T) {
	endpoints := etcdtest.Start(t)
	for _, tt := range []struct {
		name     string
		attempts int
	}{
		{"the guard re-sends the commit", 3},
		{"the guard gives up and the store reads the key back", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var lose atomic.Int32 // writes whose answer is to be lost
			client, err := clientv3.New(clientv3.Config{
				Endpoints: endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop(),
				DialOptions: []grpc.DialOption{grpc.WithChainUnaryInterceptor(
					func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
						err := invoker(ctx, method, req, reply, cc, opts...)
						if err == nil && method == "/etcdserverpb.KV/Txn" && writes(req.(*etcdserverpb.TxnRequest)) && lose.Add(-1) >= 0 {
							return status.Error(codes.Unavailable, "the answer was lost")
						}
						return err
					})},
			})
			require.NoError(t, err)
			t.Cleanup(func() { _ = client.Close() })
			p := etcdtest.Policy()
			p.MaxAttempts = tt.attempts
			guard, err := resilience.New(p)
			require.NoError(t, err)
			s, err := etcd.New(t.Context(), etcd.Config{Client: client, Prefix: etcdtest.NewPrefix(), Guard: guard})
			require.NoError(t, err)

			lose.Store(1)
			res, err := s.Declare(t.Context(), "declare", declareDecider("one", "declare"))
			require.NoError(t, err)
			require.LessOrEqual(t, lose.Load(), int32(0), "an answer was lost")
			require.False(t, res.Duplicate, "the declaration that landed is this call's own")
			require.EqualValues(t, 1, res.Incident.Number)

			lose.Store(1)
			res, err = s.Apply(t.Context(), 1, "note", observe("5xx at 38%", "note"))
			require.NoError(t, err)
			require.LessOrEqual(t, lose.Load(), int32(0), "an answer was lost")
			require.False(t, res.Duplicate)
			require.Len(t, res.Events, 1)

			pending, err := s.Pending(t.Context(), 1)
			require.NoError(t, err)
			lose.Store(1)
			done, err := s.Complete(t.Context(), pending[0].OutboxSeq, incident.Outcome{Result: map[string]string{"channel": "C1"}})
			require.NoError(t, err)
			require.LessOrEqual(t, lose.Load(), int32(0), "an answer was lost")
			require.False(t, done.Duplicate, "the completion that landed is this call's own")

			events := requireContiguous(t, s, 1)
			keys := map[string]int{}
			for _, e := range events {
				keys[e.Key]++
			}
			require.Equal(t, 1, keys["note"], "recorded once")
			again, err := s.Declare(t.Context(), "second", declareDecider("two", "second"))
			require.NoError(t, err)
			require.EqualValues(t, 2, again.Incident.Number, "the number was taken once")
		})
	}
}

// TestUnreachable: without etcd, commands fail within the caller's
// deadline with ErrUnreachable, soon fail at once (the breaker), and
// resume once etcd is back.
func TestUnreachable(t *testing.T) {
	srv := etcdtest.StartServer(t)
	p := etcdtest.Policy()
	p.Timeout = 300 * time.Millisecond
	p.MaxAttempts = 1
	p.ConsecutiveFailures = 3
	p.OpenTimeout = 500 * time.Millisecond
	guard, err := resilience.New(p)
	require.NoError(t, err)
	s, err := etcd.Open(t.Context(), etcd.Options{Endpoints: srv.Endpoints, Prefix: etcdtest.NewPrefix(), Guard: guard})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	declare(t, s, "declare", "one")

	srv.Stop()
	for i := range 5 {
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		start := time.Now()
		key := fmt.Sprintf("note-%d", i)
		_, err := s.Apply(ctx, 1, key, observe("while etcd is away", key))
		cancel()
		require.ErrorIs(t, err, etcd.ErrUnreachable)
		require.Less(t, time.Since(start), 2*time.Second, "answered well within Slack's 3 seconds")
	}
	start := time.Now()
	_, err = s.Incident(t.Context(), 1)
	require.ErrorIs(t, err, etcd.ErrUnreachable)
	require.ErrorIs(t, err, resilience.ErrOpen, "the breaker is open")
	require.Less(t, time.Since(start), 50*time.Millisecond, "an open breaker fails at once")

	srv.Restart()
	require.Eventually(t, func() bool {
		_, err := s.Apply(t.Context(), 1, "after", observe("etcd is back", "after"))
		return err == nil
	}, 20*time.Second, 100*time.Millisecond, "commands resume once etcd is back")
	events := requireContiguous(t, s, 1)
	for _, e := range events {
		require.NotContains(t, e.Text, "while etcd is away", "nothing refused was recorded")
	}
}

// TestOpenRefusesNewerLayout: a prefix a newer ooda wrote is refused.
func TestOpenRefusesNewerLayout(t *testing.T) {
	endpoints := etcdtest.Start(t)
	prefix := etcdtest.NewPrefix()
	_, err := etcdtest.Client(t, endpoints).Put(t.Context(), prefix+"meta/schema", "99")
	require.NoError(t, err)
	_, err = etcd.Open(t.Context(), etcd.Options{Endpoints: endpoints, Prefix: prefix})
	require.ErrorIs(t, err, storage.ErrSchemaTooNew)
}

// TestUnreachableAtOpen: Open fails, in time, when no etcd answers.
func TestUnreachableAtOpen(t *testing.T) {
	srv := etcdtest.StartServer(t)
	srv.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	_, err := etcd.Open(ctx, etcd.Options{Endpoints: srv.Endpoints})
	require.ErrorIs(t, err, etcd.ErrUnreachable)
}

// TestLoadFromBolt: everything a bbolt file holds, loaded into etcd and
// backed up again, folds to the same incidents and answers repeated keys.
func TestLoadFromBolt(t *testing.T) {
	endpoints := etcdtest.Start(t)
	ctx := t.Context()
	src := storagetest.Open(t)
	for i := range 3 {
		key := fmt.Sprintf("declare-%d", i)
		_, err := src.Declare(ctx, key, declareDecider(key, key))
		require.NoError(t, err)
	}
	_, err := src.Apply(ctx, 2, "note", observe("5xx at 38%", "note"))
	require.NoError(t, err)
	_, err = src.RecordMessage(ctx, 1, storage.MessageChange{Op: storage.MessagePosted, TS: "1764666000.000100", User: "U2", Text: "rolling back"})
	require.NoError(t, err)
	require.NoError(t, src.SaveSLOStates(ctx, sloStates(2)))
	var items []storage.Item
	require.NoError(t, src.Dump(ctx, func(it storage.Item) error { items = append(items, it); return nil }))

	dst := etcdtest.Open(t, endpoints, nil)
	require.NoError(t, dst.Load(ctx, items))
	require.ErrorIs(t, dst.Load(ctx, items), storage.ErrNotEmpty)
	for n := uint64(1); n <= 3; n++ {
		a, err := src.Incident(ctx, n)
		require.NoError(t, err)
		b, err := dst.Incident(ctx, n)
		require.NoError(t, err)
		require.Equal(t, a, b, "%s folds the same", incident.ID(n))
	}
	again, err := dst.Apply(ctx, 2, "note", observe("5xx at 38%", "note"))
	require.NoError(t, err)
	require.True(t, again.Duplicate, "a key seen before the move is seen after it")
	want, err := src.Pending(ctx, 0)
	require.NoError(t, err)
	got, err := dst.Pending(ctx, 0)
	require.NoError(t, err)
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i].Effect, got[i].Effect, "the outbox keeps its order")
	}
	next := declare(t, dst, "declare-next", "next")
	require.EqualValues(t, 4, next.Incident.Number, "numbers go on after the loaded ones")
	msgs, err := dst.Transcript(ctx, 1)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
}

// TestWatchOutbox: a replica learns at once that another queued an effect.
func TestWatchOutbox(t *testing.T) {
	endpoints := etcdtest.Start(t)
	rs := replicas(t, endpoints, 2)
	ctx, cancel := context.WithCancel(t.Context())
	notified := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- rs[0].WatchOutbox(ctx, func() {
			select {
			case notified <- struct{}{}:
			default:
			}
		})
	}()
	select {
	case <-notified: // the first call, for what was already queued
	case <-time.After(10 * time.Second):
		t.Fatal("no notification at the start")
	}
	declare(t, rs[1], "declare", "one")
	select {
	case <-notified:
	case <-time.After(10 * time.Second):
		t.Fatal("no notification after another replica queued effects")
	}
	cancel()
	require.NoError(t, <-done)
}

// writes reports whether a transaction puts or deletes anything.
func writes(r *etcdserverpb.TxnRequest) bool {
	for _, op := range r.Success {
		if op.GetRequestPut() != nil || op.GetRequestDeleteRange() != nil {
			return true
		}
	}
	return false
}

func sloStates(k int) []slo.State {
	out := make([]slo.State, k)
	for i := range out {
		out[i] = slo.State{SLO: fmt.Sprintf("svc%03d/availability", i), Service: fmt.Sprintf("svc%03d", i), Level: slo.LevelPage, Since: t0}
	}
	return out
}
