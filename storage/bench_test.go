package storage_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.etcd.io/bbolt"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

const benchText = "p99 checkout latency 4.2s since 09:12, error rate 3% on api-gateway"

// BenchmarkAppend measures commands committed through the store: one
// AddEntry each, which writes an event, the snapshot, an idempotency key
// and one outbox entry, fsynced.
func BenchmarkAppend(b *testing.B) {
	for _, bb := range []struct {
		name    string
		writers int
		opts    storage.Options
	}{
		{"one-writer", 1, storage.Options{}},
		{"64-writers-64-incidents", 64, storage.Options{}},
		{"64-writers-64-incidents-nobatch", 64, storage.Options{NoBatch: true}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			run := setupAppend(b, bb.writers, bb.opts)
			b.ReportAllocs()
			b.ResetTimer()
			b.ReportMetric(run(b.N), "events/s")
		})
	}
}

// BenchmarkRawBatchPut measures the floor under BenchmarkAppend: the JSON
// bytes of a comparable event put through bbolt's Batch and nothing else.
// A lone Batch caller waits out MaxBatchDelay (10ms) for company, which is
// why the store commits a lone writer with Update; one-writer-update is
// that floor.
func BenchmarkRawBatchPut(b *testing.B) {
	for _, bb := range []struct {
		name    string
		writers int
		batch   bool
	}{
		{"one-writer", 1, true},
		{"one-writer-update", 1, false},
		{"64-writers", 64, true},
	} {
		b.Run(bb.name, func(b *testing.B) {
			run := setupRaw(b, bb.writers, bb.batch)
			b.ResetTimer()
			b.ReportMetric(run(b.N), "puts/s")
		})
	}
}

// BenchmarkAppendVsRaw runs both in one benchmark, on the same machine
// state, and reports what a stored command costs against a bare put:
// raw/store above 1 means the store commits fewer per second. The one
// writer is compared with raw Update, the commit the store uses for it,
// and 64 writers with raw Batch.
func BenchmarkAppendVsRaw(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("%d-writers", writers), func(b *testing.B) {
			store := setupAppend(b, writers, storage.Options{})
			raw := setupRaw(b, writers, writers > 1)
			b.ResetTimer()
			s, r := store(b.N), raw(b.N)
			b.ReportMetric(s, "store-events/s")
			b.ReportMetric(r, "raw-puts/s")
			b.ReportMetric(r/s, "raw/store")
		})
	}
}

// setupAppend prepares writers incidents and returns a run that commits n
// commands from writers goroutines, each on its own incident, and returns
// events per second.
func setupAppend(b *testing.B, writers int, opts storage.Options) func(n int) float64 {
	db := storagetest.Open(b, opts)
	numbers := make([]uint64, writers)
	for w := range writers {
		numbers[w] = declare(b, db, fmt.Sprintf("declare-%d", w), fmt.Sprintf("bench %d", w)).Incident.Number
	}
	return func(n int) float64 {
		return parallel(b, n, writers, func(w, i int) error {
			key := fmt.Sprintf("w%d-%d", w, i)
			_, err := db.Apply(b.Context(), numbers[w], key, func(inc *incident.Incident) (incident.Change, error) {
				return inc.AddEntry(timeline.PhaseObserve, benchText, false, meta(key))
			})
			return err
		})
	}
}

// setupRaw returns a run that puts n copies of an event's JSON with bbolt
// alone, each writer into its own bucket under increasing keys, and
// returns puts per second.
func setupRaw(b *testing.B, writers int, batch bool) func(n int) float64 {
	db := storagetest.Open(b)
	payload := eventJSON(b)
	raw := db.Bolt()
	names := make([][]byte, writers)
	require.NoError(b, raw.Update(func(tx *bbolt.Tx) error {
		for w := range writers {
			names[w] = fmt.Appendf(nil, "bench-%d", w)
			if _, err := tx.CreateBucket(names[w]); err != nil {
				return err
			}
		}
		return nil
	}))
	commit := raw.Update
	if batch {
		commit = raw.Batch
	}
	return func(n int) float64 {
		return parallel(b, n, writers, func(w, i int) error {
			return commit(func(tx *bbolt.Tx) error {
				return tx.Bucket(names[w]).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), payload)
			})
		})
	}
}

// parallel runs n operations over writers goroutines, writer w doing
// operations w, w+writers, w+2*writers and so on, and returns operations
// per second.
func parallel(b *testing.B, n, writers int, op func(w, i int) error) float64 {
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < n; i += writers {
				if err := op(w, i); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

// eventJSON is the stored form of the event BenchmarkAppend records.
func eventJSON(b *testing.B) []byte {
	inc := incident.Replay(nil)
	ch, err := incident.Declare(1, incident.Declaration{Title: "bench"}, meta("d"))
	require.NoError(b, err)
	for _, e := range ch.Events {
		inc.Apply(e)
	}
	ch, err = inc.AddEntry(timeline.PhaseObserve, benchText, false, meta("w0-0"))
	require.NoError(b, err)
	data, err := json.Marshal(ch.Events[0])
	require.NoError(b, err)
	return data
}

// BenchmarkLoad10k reads an incident of 10,000 events and folds them, as
// the timeline view and the post-mortem do.
func BenchmarkLoad10k(b *testing.B) {
	const total = 10_000
	db := storagetest.Open(b)
	d := declare(b, db, "declare", "a long incident")
	// One transaction for the lot: 10,000 fsyncs would make the setup the
	// benchmark.
	apply(b, db, d.Incident.Number, "bulk", func(inc *incident.Incident) (incident.Change, error) {
		var all incident.Change
		for i := range total - int(inc.LastSeq) {
			ch, err := inc.AddEntry(timeline.PhaseObserve, fmt.Sprintf("%s (%d)", benchText, i), false, meta(fmt.Sprintf("bulk-%d", i)))
			if err != nil {
				return incident.Change{}, err
			}
			for _, e := range ch.Events {
				inc.Apply(e)
			}
			all.Events = append(all.Events, ch.Events...)
		}
		return all, nil
	})
	b.Run("fold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			events, err := db.Events(b.Context(), d.Incident.Number, 1)
			if err != nil {
				b.Fatal(err)
			}
			inc := incident.Replay(events)
			if len(events) != total || inc.LastSeq != total {
				b.Fatalf("loaded %d events, last %d", len(events), inc.LastSeq)
			}
		}
	})
	// What /incident timeline does: load, fold, group by minute, render.
	b.Run("fold+timeline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			events, err := db.Events(b.Context(), d.Incident.Number, 1)
			if err != nil {
				b.Fatal(err)
			}
			inc := incident.Replay(events)
			view := timeline.Build(events, inc.DeclaredAt, timeline.Options{})
			if err := view.WriteText(io.Discard, timeline.TextOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
