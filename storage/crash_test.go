package storage_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/storage/storetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestCrashKeepsAcknowledgedWrites kills a writing child process with
// SIGKILL mid-stream and proves that everything it acknowledged is in the
// file it left behind, that the file passes every check, and that effects
// queued but not completed are still pending: the executor will find them
// after a restart. A child acknowledges a write only after Apply returned,
// that is after the commit's fsync.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	tests := []struct {
		name    string
		writers int
		execute bool // run an executor completing effects alongside
		kill    int  // acknowledgements read before the kill
	}{
		{"events early", 4, false, 37},
		{"events", 4, false, 200},
		{"events and outbox", 3, true, 200},
		{"events and outbox late", 3, true, 600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ooda.db")
			acks := storagetest.RunCrashWriter(t, path, tt.kill, func(db *storage.DB, ack func(string)) {
				crashWriter(db, ack, tt.writers, tt.execute)
			})

			db := storagetest.OpenPath(t, path)
			require.NoError(t, db.Check(t.Context()), "the killed writer's file checks")
			storetest.RequireConsistent(t, db)
			verifyAcks(t, db, acks, tt.execute)
		})
	}
}

// crashWriter runs in the child: writers each work their own incident,
// acknowledging every event and queued effect once committed; with
// execute, an executor completes effects and acknowledges each completion.
func crashWriter(db *storage.DB, ack func(string), writers int, execute bool) {
	ctx := context.Background()
	m := func(key string) incident.Meta {
		return incident.Meta{At: t0, Actor: "U1", Source: timeline.SourceCommand, Key: key}
	}
	report := func(res incident.Result) {
		for _, e := range res.Events {
			ack(fmt.Sprintf("event %d %d", res.Incident.Number, e.Seq))
		}
		for _, fx := range res.Effects {
			ack("queued " + fx.Key)
		}
	}
	fail := func(err error) { panic(err) } // the parent reads the child's stderr
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("w%d-declare", w)
			res, err := db.Declare(ctx, key, func(n uint64) (incident.Change, error) {
				return incident.Declare(n, incident.Declaration{Title: fmt.Sprintf("crash %d", w)}, m(key))
			})
			if err != nil {
				fail(err)
			}
			report(res)
			n := res.Incident.Number
			for i := range 100_000 {
				key := fmt.Sprintf("w%d-%d", w, i)
				res, err := db.Apply(ctx, n, key, func(inc *incident.Incident) (incident.Change, error) {
					return inc.AddEntry(timeline.PhaseObserve, "still burning "+key, false, m(key))
				})
				if err != nil {
					fail(err)
				}
				report(res)
			}
		})
	}
	if execute {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				pending, err := db.Pending(ctx, 4)
				if err != nil {
					fail(err)
				}
				for _, p := range pending {
					outcome := incident.Outcome{Result: map[string]string{"ts": strconv.FormatUint(p.OutboxSeq, 10)}}
					if p.Effect.Kind == incident.EffectCreateChannel {
						channel := fmt.Sprintf("C%d", p.Effect.Incident)
						outcome.Key = "channel-" + channel
						outcome.Decide = func(inc *incident.Incident) (incident.Change, error) {
							return inc.ChannelCreated(channel, incident.Meta{At: t0, Actor: incident.Bot, Source: timeline.SourceSystem, Key: outcome.Key})
						}
					}
					res, err := db.Complete(ctx, p.OutboxSeq, outcome)
					if err != nil {
						fail(err)
					}
					report(res)
					ack("done " + p.Effect.Key)
				}
			}
		})
	}
	// The writers stop only when the parent kills the process.
	wg.Wait()
	close(stop)
}

// verifyAcks asserts that every acknowledged line holds in db.
func verifyAcks(t *testing.T, db *storage.DB, acks []string, execute bool) {
	t.Helper()
	ctx := t.Context()
	pending, err := db.Pending(ctx, 0)
	require.NoError(t, err)
	isPending := map[string]bool{}
	for _, p := range pending {
		isPending[p.Effect.Key] = true
	}
	var events, queued, done int
	for _, line := range acks {
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "event":
			var n, seq uint64
			_, err := fmt.Sscanf(rest, "%d %d", &n, &seq)
			require.NoError(t, err, line)
			inc, err := db.Incident(ctx, n)
			require.NoError(t, err, line)
			require.GreaterOrEqual(t, inc.LastSeq, seq, "acknowledged %s is stored", line)
			stored, err := db.Events(ctx, n, seq)
			require.NoError(t, err)
			require.Equal(t, seq, stored[0].Seq, line)
			events++
		case "queued":
			// Queued and not yet known to be done: still pending, or done
			// by a completion that committed before its ack was printed;
			// never both, never neither.
			_, completed, err := db.EffectResult(ctx, rest)
			require.NoError(t, err)
			require.NotEqual(t, isPending[rest], completed, "acknowledged effect %s is pending xor done", rest)
			queued++
		case "done":
			_, completed, err := db.EffectResult(ctx, rest)
			require.NoError(t, err)
			require.True(t, completed, "acknowledged completion of %s is stored", rest)
			require.False(t, isPending[rest], "completed effect %s left the outbox", rest)
			done++
		default:
			t.Fatalf("unexpected ack %q", line)
		}
	}
	all, err := db.Incidents(ctx, true)
	require.NoError(t, err)
	var stored uint64
	for _, inc := range all {
		stored += inc.LastSeq
	}
	t.Logf("checked %d acknowledged events (of %d stored), %d queued effects, %d completions; %d effects pending after the crash",
		events, stored, queued, done, len(pending))
	require.NotZero(t, events)
	require.NotEmpty(t, pending, "effects were pending when the writer died, and still are")
	if execute {
		require.NotZero(t, done, "the executor completed effects before the kill")
	}
}
