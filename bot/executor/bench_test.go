package executor

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// BenchmarkExecutorDrain drains 10,000 queued effects (1,000 incidents,
// each declared with its five effects and given five notes) against the
// fake Slack: with no faults, and with every 20th chat.postMessage
// answered 500; with the default 4 workers and with 8 (the Slack guard's
// bulkhead). It reports effects/s and the duplicate posts seen, which
// must be 0. Backoff waits return at once; the time is Slack calls (over
// loopback HTTP) and fsynced commits.
func BenchmarkExecutorDrain(b *testing.B) {
	const incidents, notesEach = 1000, 5
	for _, bc := range []struct {
		name    string
		every   int64 // inject a 500 before every n-th post; 0: none
		workers int
	}{{"clean/workers=4", 0, 4}, {"5pct_500/workers=4", 20, 4}, {"clean/workers=8", 0, 8}, {"5pct_500/workers=8", 20, 8}} {
		b.Run(bc.name, func(b *testing.B) {
			var effects, dupes, injected int
			var spent time.Duration
			for range b.N {
				b.StopTimer()
				r := newDrainBench(b, incidents, notesEach, bc.every, bc.workers)
				effects += r.queued
				b.StartTimer()
				start := time.Now()
				drainUntilEmpty(b, r.ctx, r.exec, r.db, r.clock, r.guard)
				spent += time.Since(start)
				b.StopTimer()
				d, _ := duplicateKeys(r.fake)
				dupes += d
				if r.faults != nil {
					injected += int(r.faults.injected.Load())
				}
				r.close()
			}
			b.ReportMetric(float64(effects)/spent.Seconds(), "effects/s")
			b.ReportMetric(float64(dupes), "duplicates")
			b.ReportMetric(float64(injected)/float64(b.N), "500s/op")
			if dupes != 0 {
				b.Fatalf("%d duplicate posts", dupes)
			}
		})
	}
}

type drainBench struct {
	ctx    context.Context
	cancel context.CancelFunc
	db     *storage.DB
	fake   *slacktest.Server
	guard  *resilience.Guard
	clock  *resiliencetest.Clock
	exec   *Executor
	faults *every500
	queued int
}

func newDrainBench(b *testing.B, incidents, notesEach int, every int64, workers int) *drainBench {
	b.Helper()
	r := &drainBench{db: storagetest.Open(b), fake: slacktest.New(), clock: resiliencetest.NewClock(time.Now())}
	r.ctx, r.cancel = context.WithTimeout(context.Background(), 10*time.Minute)
	r.fake.AddUser(alice, "alice")
	announce := r.fake.CreateChannel("incidents", false)

	// Queue from several goroutines, so commits share fsyncs as they do
	// under real load.
	var wg sync.WaitGroup
	var next atomic.Int64
	for w := range 16 {
		wg.Go(func() {
			for i := int(next.Add(1)); i <= incidents; i = int(next.Add(1)) {
				m := incident.Meta{At: r.clock.Now(), Actor: alice, Source: timeline.SourceCommand, Key: fmt.Sprintf("d%d-%d", w, i)}
				inc := declareIn(b, r.db, m, fmt.Sprintf("Outage %d", i), false)
				for j := range notesEach {
					key := fmt.Sprintf("n%d-%d", i, j)
					_, err := r.db.Apply(r.ctx, inc.Number, key, func(inc *incident.Incident) (incident.Change, error) {
						return inc.AddEntry(timeline.PhaseNone, fmt.Sprintf("note %d", j), false,
							incident.Meta{At: m.At, Actor: alice, Source: timeline.SourceCommand, Key: key})
					})
					require.NoError(b, err)
				}
			}
		})
	}
	wg.Wait()
	depth, _, err := r.db.OutboxStats(r.ctx)
	require.NoError(b, err)
	r.queued = depth

	r.guard = newExecutorGuard(b, resilience.DefaultPolicy(resilience.DependencySlack), nil)
	var api slackapi.SlackAPI = slackapi.NewSlackClient(fakeSlackToken, r.fake.URL(), r.guard)
	if every > 0 {
		r.faults = &every500{SlackAPI: api, fake: r.fake, every: every}
		api = r.faults
	}
	r.exec, err = New(Config{
		Store: r.db, Outbox: r.db, Slack: api, Guard: r.guard,
		AnnounceChannel: announce, Now: r.clock.Now, Workers: workers,
	})
	require.NoError(b, err)
	return r
}

func (r *drainBench) close() {
	r.cancel()
	r.fake.Close()
	r.guard.HTTPClient().CloseIdleConnections()
}

// every500 has the fake answer 500 to every n-th chat.postMessage: the
// fake's faults are scripted per call, not drawn at random.
type every500 struct {
	slackapi.SlackAPI
	fake     *slacktest.Server
	every    int64
	n        atomic.Int64
	injected atomic.Int64
}

func (w *every500) PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error) {
	if w.n.Add(1)%w.every == 0 {
		w.fake.Fault("chat.postMessage", slacktest.Fault{Kind: slacktest.FaultStatus, Status: 500})
		w.injected.Add(1)
	}
	return w.SlackAPI.PostMessageContext(ctx, channelID, options...)
}
