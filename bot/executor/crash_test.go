package executor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/bot/slackapi"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// The child process finds the parent's fake Slack through these.
const (
	envCrashSlackURL = "OODA_EXECUTOR_CRASH_SLACK_URL"
	envCrashAnnounce = "OODA_EXECUTOR_CRASH_ANNOUNCE"
)

// TestExecutorSurvivesSIGKILL runs an executor in a child process (this
// test binary again) against the parent's fake Slack, kills it with
// SIGKILL in the middle of a drain, and drains the rest with a fresh
// executor on the same file: every effect is performed, and once. Killed
// between Slack's answer and the commit, a post is found again in the
// channel history, because it was marked as attempted before it was sent.
func TestExecutorSurvivesSIGKILL(t *testing.T) {
	// The child freezes before recording any post it completes after
	// stickAfter others, as if killed right there; the parent kills it for
	// real once two of its workers froze that way, with others mid-call.
	const incidents, notes, stickAfter, stuckWanted = 24, 12, 40, 2
	url, announce := os.Getenv(envCrashSlackURL), os.Getenv(envCrashAnnounce)
	path := filepath.Join(t.TempDir(), "ooda.db")
	var fake *slacktest.Server
	if url == "" { // the parent: everything up to StartProcess runs in the child too
		fake = slacktest.New()
		t.Cleanup(fake.Close)
		fake.AddUser(alice, "alice")
		url, announce = fake.URL(), fake.CreateChannel("incidents", false)
		t.Setenv(envCrashSlackURL, url)
		t.Setenv(envCrashAnnounce, announce)
		queueCrashWork(t, path, incidents, notes)
	}

	child := storagetest.StartProcess(t, path, func(db *storage.DB, ack func(string)) {
		// The child: drain until killed, acknowledging each completion.
		guard := newExecutorGuard(t, executorTestPolicy(), nil)
		e, err := New(Config{
			Store: db, Outbox: &ackingOutbox{Outbox: db, ack: ack, stickAfter: stickAfter},
			Slack: slackapi.NewSlackClient(fakeSlackToken, url, guard), Guard: guard,
			AnnounceChannel: announce,
		})
		if err != nil {
			panic(err)
		}
		for {
			if _, err := e.Drain(context.Background()); err != nil {
				panic(err)
			}
		}
	})
	acked, stuck := 0, 0
	for stuck < stuckWanted {
		if strings.HasPrefix(child.Ack(), "stuck ") {
			stuck++
		} else {
			acked++
		}
	}
	child.Kill()

	db := storagetest.OpenPath(t, path)
	left, _, err := db.OutboxStats(context.Background())
	require.NoError(t, err)
	require.Positive(t, left, "the child was killed with work left")
	// Posts the child sent but did not record: the restart must find them.
	inFlight := 0
	pending, err := db.Pending(context.Background(), 0)
	require.NoError(t, err)
	_, landed := duplicateKeys(fake)
	for _, p := range pending {
		if landed[p.Effect.Key] > 0 {
			inFlight++
			require.Positive(t, p.Attempts, "%s landed, so it was marked before it was sent", p.Effect.Key)
		}
	}
	t.Logf("killed after %d acknowledged completions: %d effects left, %d of them posts that had landed", acked, left, inFlight)
	require.GreaterOrEqual(t, inFlight, stuckWanted)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	guard := newExecutorGuard(t, executorTestPolicy(), nil)
	clock := resiliencetest.NewClock(time.Now())
	restarted, err := New(Config{
		Store: db, Outbox: db, Slack: slackapi.NewSlackClient(fakeSlackToken, url, guard), Guard: guard,
		AnnounceChannel: announce, Now: clock.Now, Registerer: prometheus.NewRegistry(),
	})
	require.NoError(t, err)
	drainUntilEmpty(t, ctx, restarted, db, clock, guard)

	dupes, keys := duplicateKeys(fake)
	require.Zero(t, dupes, "no post was sent twice")
	require.Len(t, keys, incidents*(2+notes), "every post was sent: kickoff, announcement and notes of each incident")
	for n := uint64(1); n <= incidents; n++ {
		chans := channelsFor(fake, n)
		require.Len(t, chans, 1, "one channel for %s", incident.ID(n))
		inc, err := db.Incident(ctx, n)
		require.NoError(t, err)
		require.Equal(t, chans[0].ID, inc.ChannelID)
		require.Contains(t, chans[0].Members, alice)
		require.NotEmpty(t, chans[0].Topic)
		require.Zero(t, inc.FailedEffects)
		msgs := fake.Messages(inc.ChannelID)
		require.Len(t, msgs, 1+notes)
		require.Equal(t, kickoffKey(n), messageKey(msgs[0]))
		for j := range notes {
			require.Contains(t, msgs[1+j].Text, fmt.Sprintf("note %d", j), "%s keeps its order", inc.ID)
		}
		created := 0
		evs, err := db.Events(ctx, n, 1)
		require.NoError(t, err)
		for _, ev := range evs {
			if ev.Kind == timeline.KindChannelCreated {
				created++
			}
		}
		require.Equal(t, 1, created, "%s records its channel once", inc.ID)
	}
}

// queueCrashWork declares incidents with notes in a database the test
// then lets go of, so the child can open it.
func queueCrashWork(t *testing.T, path string, incidents, notes int) {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	ctx := context.Background()
	at := time.Now().UTC()
	key := 0
	meta := func() incident.Meta {
		key++
		return incident.Meta{At: at, Actor: alice, Source: timeline.SourceCommand, Key: fmt.Sprintf("crash-%d", key)}
	}
	for i := range incidents {
		inc := declareIn(t, db, meta(), fmt.Sprintf("Outage %d", i), false)
		for j := range notes {
			m := meta()
			_, err := db.Apply(ctx, inc.Number, m.Key, func(inc *incident.Incident) (incident.Change, error) {
				return inc.AddEntry(timeline.PhaseNone, fmt.Sprintf("note %d", j), false, m)
			})
			require.NoError(t, err)
		}
	}
}

// ackingOutbox tells the parent about every effect that completed. After
// stickAfter completions, a worker about to record a post Slack took
// says so and freezes: the window between Slack and the commit, held open
// until the kill.
type ackingOutbox struct {
	incident.Outbox
	ack        func(string)
	stickAfter int64
	completed  atomic.Int64
}

func (o *ackingOutbox) Complete(ctx context.Context, seq uint64, out incident.Outcome) (incident.Result, error) {
	if strings.Contains(out.Key, "/post/") && !out.Failed && o.completed.Load() >= o.stickAfter {
		o.ack("stuck " + out.Key)
		<-ctx.Done() // never, in the child: it is killed first
		return incident.Result{}, ctx.Err()
	}
	res, err := o.Outbox.Complete(ctx, seq, out)
	if err == nil {
		o.completed.Add(1)
		o.ack(out.Key)
	}
	return res, err
}
