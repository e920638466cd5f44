package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// benchIncidents is how many incidents the list's benchmark holds: years
// of a busy team.
const benchIncidents = 10_000

// BenchmarkListPage renders a page of the incidents list over 10,000
// incidents (every 20th open, every 10th private and the viewer a member
// of none, two thirds closed), from the store to the bytes, as a
// signed-in person asks for it: the snapshots from the site's index
// (read from the store once, then kept in step by the change feed), the
// access rule, the filters, the order and the template. Aim: under 50 ms.
// store-read is what each page would cost without the index.
func BenchmarkListPage(b *testing.B) {
	db := storagetest.Open(b)
	seedBench(b, db)
	h := listSite(b, db, listNow, listPeople{listAlice: "Alice Chen"})
	cookie := listSession(b, db, listViewer, listNow)
	pages := []struct{ name, query string }{
		{"first", "/"},
		{"page-100", "/?page=100"},
		{"filtered", "/?status=closed&severity=2&from=2026-01-01&to=2026-06-30&page=3"},
	}
	for _, bm := range pages {
		b.Run(bm.name, func(b *testing.B) {
			code, body, _ := listGet(b, h, cookie, bm.query)
			require.Equal(b, http.StatusOK, code, body)
			require.Len(b, listRows(body), listPageSize)
			b.ReportAllocs()
			for b.Loop() {
				listGet(b, h, cookie, bm.query)
			}
		})
	}
	// The same pages split in two: the store's read of every snapshot,
	// and the rest (access rule, filters, order, template) over a list
	// read once.
	b.Run("store-read", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, err := db.Incidents(b.Context(), true)
			require.NoError(b, err)
		}
	})
	incs, err := db.Incidents(b.Context(), true)
	require.NoError(b, err)
	held := listSiteOver(b, readOnce{DB: db, incs: incs})
	for _, bm := range pages {
		b.Run("without-store/"+bm.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				listGet(b, held, cookie, bm.query)
			}
		})
	}
}

// readOnce is the store with its list of incidents read once, so a
// benchmark measures the page without the store's read.
type readOnce struct {
	*storage.DB
	incs []incident.Incident
}

func (r readOnce) Incidents(context.Context, bool) ([]incident.Incident, error) { return r.incs, nil }

// listSiteOver is listSite over any store.
func listSiteOver(b *testing.B, store Store) http.Handler {
	site, err := New(Config{
		Store: store, People: listPeople{listAlice: "Alice Chen"}, Now: func() time.Time { return listNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
	})
	require.NoError(b, err)
	b.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return mux
}

// seedBench declares benchIncidents incidents, 32 at a time so the
// store's batching commits them together.
func seedBench(b *testing.B, db *storage.DB) {
	b.Helper()
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	jobs := make(chan int)
	errs := make(chan error, benchIncidents)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range jobs {
				errs <- seedBenchIncident(ctx, db, i, t0.Add(time.Duration(i)*2*time.Hour))
			}
		})
	}
	for i := range benchIncidents {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(b, err)
	}
}

func seedBenchIncident(ctx context.Context, db *storage.DB, i int, at time.Time) error {
	key := "bench-" + strconv.Itoa(i)
	m := incident.Meta{At: at, Actor: listAlice, Source: timeline.SourceCommand, Key: key}
	res, err := db.Declare(ctx, key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{
			Title: fmt.Sprintf("Checkout errors in region %d", i), Severity: 1 + i%4, Service: "svc-" + strconv.Itoa(i%7), Private: i%10 == 0,
		}, m)
	})
	if err != nil {
		return fmt.Errorf("declare %d: %w", i, err)
	}
	if i%20 == 0 {
		return nil
	}
	n := res.Incident.Number
	apply := func(step string, at time.Time, decide func(*incident.Incident, incident.Meta) (incident.Change, error)) error {
		m := incident.Meta{At: at, Actor: listAlice, Source: timeline.SourceCommand, Key: key + "-" + step}
		_, err := db.Apply(ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return decide(inc, m) })
		return err
	}
	if err := apply("resolve", at.Add(90*time.Minute), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("rolled back", m)
	}); err != nil || i%3 == 0 {
		return err
	}
	return apply("close", at.Add(3*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example.com/pm/"+strconv.Itoa(i), m)
	})
}
