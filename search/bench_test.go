package search_test

import (
	"context"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// The size of the benchmarks' history: 10,000 incidents of 200 entries.
const (
	benchIncidents = 10_000
	benchEntries   = 200
)

// words is the generated history's vocabulary: words of incidents, then
// made-up ones, drawn with a Zipf distribution so that, as in real text,
// a few words are everywhere and most are rare.
func words() []string {
	out := strings.Fields(`error errors latency timeout timeouts pool connection database
		replica primary failover deploy rollback config cache redis kafka consumer queue
		backlog disk memory cpu throttling pod node cluster dns certificate tls expired
		gateway payment checkout login token session api endpoint alert page p99 5xx 502
		503 retry storm traffic peak region zone network packet loss load balancer health
		check probe restart crash oom leak index query slow lock deadlock migration schema
		feature flag rate limit quota scheduler batch job cron backup restore snapshot`)
	for i := len(out); i < 5000; i++ {
		out = append(out, "w"+strconv.Itoa(i))
	}
	return out
}

// generator writes the varied text of the generated history.
type generator struct {
	r     *rand.Rand
	zipf  *rand.Zipf
	vocab []string
}

func newGenerator(seed uint64) *generator {
	r := rand.New(rand.NewPCG(seed, 42))
	v := words()
	return &generator{r: r, zipf: rand.NewZipf(r, 1.1, 2, uint64(len(v)-1)), vocab: v}
}

func (g *generator) sentence(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.vocab[g.zipf.Uint64()]
	}
	return strings.Join(ws, " ")
}

var services = []string{"checkout", "payments", "search", "auth", "edge", "jobs", "billing", "catalog", "mobile", "email"}

// incidentOf generates INC-n with entries loop entries: a declaration, an
// impact, a cause, updates, and observe/orient/decide/act entries of 6 to
// 14 words; every tenth incident is private.
func (g *generator) incidentOf(n uint64, entries int) (incident.Incident, []timeline.Event) {
	at := t0.Add(time.Duration(n) * time.Hour)
	ch, err := incident.Declare(n, incident.Declaration{
		Title: g.sentence(4 + g.r.IntN(4)), Severity: 1 + g.r.IntN(4), Private: n%10 == 0,
		Service: services[g.r.IntN(len(services))],
	}, incident.Meta{At: at, Actor: alice, Source: timeline.SourceCommand, Key: "d" + strconv.FormatUint(n, 10)})
	if err != nil {
		panic(err)
	}
	events := ch.Events
	phases := [...]timeline.Phase{timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct}
	for i := range entries {
		at = at.Add(20 * time.Second)
		e := timeline.Event{Seq: uint64(len(events) + 1), At: at, Actor: bob, Source: timeline.SourceCommand,
			Kind: timeline.KindLoopEntry, Phase: phases[i%4], Text: g.sentence(6 + g.r.IntN(9))}
		switch {
		case i == 3:
			e.Kind, e.Phase = timeline.KindImpactSet, timeline.PhaseObserve
		case i == 9:
			e.Phase, e.Attrs = timeline.PhaseOrient, map[string]string{timeline.AttrCause: "true"}
		case i%40 == 20:
			e.Kind, e.Phase = timeline.KindUpdatePosted, timeline.PhaseNone
		}
		events = append(events, e)
	}
	return incident.Replay(events), events
}

// big is the generated history's index, built once for every benchmark,
// and the heap it takes.
var big = sync.OnceValues(func() (*search.Index, float64) {
	g := newGenerator(1)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	x := search.New()
	for n := uint64(1); n <= benchIncidents; n++ {
		x.Put(g.incidentOf(n, benchEntries))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return x, float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
})

// BenchmarkSearch searches 10,000 incidents of 200 entries for two words
// (aim: under 50 ms): two frequent words, which most incidents hold, and
// two of middling frequency.
func BenchmarkSearch(b *testing.B) {
	x, mb := big()
	for _, q := range []string{"error latency", "deadlock w400"} {
		b.Run(q, func(b *testing.B) {
			var res search.Results
			b.ReportAllocs()
			for b.Loop() {
				res = x.Search(q, admits(erin), 20)
			}
			b.ReportMetric(float64(res.Total), "matches")
			b.ReportMetric(mb, "index-MB")
		})
	}
}

// BenchmarkSimilar ranks 10,000 incidents of 200 entries against a new one
// (aim: under 50 ms).
func BenchmarkSimilar(b *testing.B) {
	x, _ := big()
	to, events := newGenerator(2).incidentOf(benchIncidents+1, 20)
	public := func(inc incident.Incident) bool { return !inc.Private }
	var hits []search.Hit
	b.ReportAllocs()
	for b.Loop() {
		hits = x.Similar(to, events, public, 3)
	}
	b.ReportMetric(float64(len(hits)), "hits")
}

// BenchmarkIndexMemory reports the heap the index of 10,000 incidents of
// 200 entries takes (HeapAlloc before and after building it).
// The text of the lines is most of it: text-MB says how much.
func BenchmarkIndexMemory(b *testing.B) {
	x, mb := big()
	for b.Loop() {
		_ = x.Len()
	}
	text, lines := search.Sizes(x)
	b.ReportMetric(mb, "index-MB")
	b.ReportMetric(float64(text)/(1<<20), "text-MB")
	b.ReportMetric(float64(lines), "lines")
}

// memory is a Source over generated incidents, for the rebuild's
// indexing cost without the store's.
type memory struct {
	incs   []incident.Incident
	events map[uint64][]timeline.Event
}

func (m *memory) Incidents(context.Context, bool) ([]incident.Incident, error) { return m.incs, nil }
func (m *memory) Events(_ context.Context, n, _ uint64) ([]timeline.Event, error) {
	return m.events[n], nil
}
func (m *memory) WatchIncidents(ctx context.Context, changed func(uint64)) error {
	changed(0)
	<-ctx.Done()
	return ctx.Err()
}

// BenchmarkRebuild measures the start-up rebuild: from a bbolt store of
// 1,000 incidents × 200 entries (seeding 10,000 through the store takes
// too long for a benchmark; the rebuild is linear in the number of
// incidents, so ×10 is the figure for 10,000), and from memory at the
// full 10,000 × 200, which is the indexing alone.
func BenchmarkRebuild(b *testing.B) {
	b.Run("store-1k", func(b *testing.B) {
		db := storagetest.Open(b)
		g := newGenerator(3)
		items := []storage.Item{{NextIncident: 1001}}
		for n := uint64(1); n <= 1000; n++ {
			_, events := g.incidentOf(n, benchEntries)
			items = append(items, storage.Item{Log: &storage.IncidentLog{Number: n, Events: events}})
		}
		require.NoError(b, db.Load(b.Context(), items))
		items = nil
		for b.Loop() {
			x := search.New()
			require.NoError(b, x.Rebuild(b.Context(), db))
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N)*10, "ms-per-10k-incidents")
	})
	b.Run("memory-10k", func(b *testing.B) {
		g := newGenerator(4)
		m := &memory{events: map[uint64][]timeline.Event{}}
		for n := uint64(1); n <= benchIncidents; n++ {
			inc, events := g.incidentOf(n, benchEntries)
			m.incs = append(m.incs, inc)
			m.events[n] = events
		}
		for b.Loop() {
			x := search.New()
			require.NoError(b, x.Rebuild(b.Context(), m))
		}
	})
}
