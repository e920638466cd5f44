package prom_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// The history the real Prometheus serves: four days ending at historyEnd,
// a sample every 30 s.
var (
	historyEnd   = time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	historyStart = historyEnd.Add(-4 * slo.Day)
)

// historyProfiles are three services with known error profiles:
//
//   - checkout: 0.05 % errors (burn 0.5) until the last hour, then 2 %
//     (burn 20): a fast page. Budget left over the four days:
//     1 − (0.5×95h + 20×1h)/96h = 0.297.
//   - search: 0.01 % throughout (burn 0.1): ok, 90 % of the budget left.
//   - billing: 0.2 % throughout (burn 2): 3d/6h over 1×, 1d/2h under 3×,
//     so a ticket; budget 1 − 2 = −1, so frozen.
func historyProfiles() []slotest.Profile {
	incident := historyEnd.Add(-time.Hour)
	return []slotest.Profile{
		{Service: "checkout", RPS: 100, ErrorRatio: func(t time.Time) float64 {
			if t.After(incident) {
				return 0.02
			}
			return 0.0005
		}},
		{Service: "search", RPS: 50, ErrorRatio: func(time.Time) float64 { return 0.0001 }},
		{Service: "billing", RPS: 20, ErrorRatio: func(time.Time) float64 { return 0.002 }},
	}
}

// startHistory starts a real Prometheus over historyProfiles.
func startHistory(tb testing.TB) *slotest.Prometheus {
	tb.Helper()
	return slotest.StartPrometheus(tb, slotest.History(historyStart, historyEnd, 30*time.Second, historyProfiles()...))
}

// historySLOs are the SLOs of the history's services, as a team would write
// them in Sloth files.
func historySLOs(tb testing.TB) []slo.SLO {
	tb.Helper()
	var out []slo.SLO
	for _, svc := range []string{"checkout", "search", "billing"} {
		out = append(out, parseSLOs(tb, sloFile(svc, 99.9, "availability"))...)
	}
	return out
}

func TestRealPrometheus(t *testing.T) {
	server := startHistory(t)
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(server.URL, guard)
	require.NoError(t, err)
	slos := historySLOs(t)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Now: func() time.Time { return historyEnd }})
	require.NoError(t, err)

	rep, err := ev.Evaluate(t.Context(), historyEnd)
	require.NoError(t, err)
	require.Len(t, rep.Results, 3)
	byService := map[string]slo.Result{}
	for _, r := range rep.Results {
		require.NoError(t, r.Err, r.SLO)
		byService[r.Service] = r
	}

	checkout := byService["checkout"]
	assert.Equal(t, slo.LevelPage, checkout.Level)
	assert.Equal(t, "page-quick", checkout.Alert.Name)
	fast, _ := checkout.Window(time.Hour)
	assert.InDelta(t, 20, fast.Burn, 0.5)
	assert.InDelta(t, 360_000, fast.Requests, 3_600, "100 rps for an hour")
	slow, _ := checkout.Window(6 * time.Hour)
	assert.InDelta(t, 3.75, slow.Burn, 0.1, "(0.5×5h + 20×1h)/6h")
	assert.InDelta(t, 0.297, checkout.BudgetRemaining, 0.01)
	require.True(t, checkout.Exhausts)
	assert.InDelta(t, 0.297*720/20, checkout.ExhaustsIn.Hours(), 0.5, "remaining × period / 1h burn")

	search := byService["search"]
	assert.Equal(t, slo.LevelOK, search.Level)
	assert.InDelta(t, 0.9, search.BudgetRemaining, 0.01)

	billing := byService["billing"]
	assert.Equal(t, slo.LevelTicket, billing.Level)
	assert.Equal(t, "ticket-slow", billing.Alert.Name)
	assert.InDelta(t, -1, billing.BudgetRemaining, 0.02)
	assert.True(t, billing.Exhausted())

	// An hour before the incident checkout was fine.
	before, err := ev.Evaluate(t.Context(), historyEnd.Add(-90*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, slo.LevelOK, before.Results[0].Level)

	// The incident's hour alone spent 20×1h/720h of checkout's budget:
	// under the 20 % that calls for a post-mortem.
	spent, err := ev.ServiceBudgetSpent(t.Context(), "checkout", historyEnd.Add(-time.Hour), historyEnd)
	require.NoError(t, err)
	assert.InDelta(t, 20.0/720, spent.Share, 0.002)
	assert.False(t, spent.NeedsPostmortem())
	// Billing's four days at 2× spent 2×96h/720h ≈ 27 %.
	spent, err = ev.ServiceBudgetSpent(t.Context(), "billing", historyStart, historyEnd)
	require.NoError(t, err)
	assert.InDelta(t, 2*96.0/720, spent.Share, 0.01)
	assert.True(t, spent.NeedsPostmortem())

	// Through the monitor and the store: warnings for checkout and
	// billing, and billing frozen.
	db := storagetest.Open(t)
	mon, err := prom.NewMonitor(prom.MonitorConfig{Evaluator: ev, Store: db})
	require.NoError(t, err)
	var notices []slo.Notice
	_, err = mon.Tick(t.Context(), historyEnd, func(_ context.Context, n slo.Notice) error {
		notices = append(notices, n)
		return nil
	})
	require.NoError(t, err)
	got := map[string]string{}
	for _, n := range notices {
		got[n.Service] = fmt.Sprintf("%s %s %s", n.Kind, n.To, n.Freeze)
	}
	assert.Equal(t, map[string]string{
		"checkout": "warning page ",
		"billing":  "warning ticket started",
	}, got)
	fs, ok, err := mon.Freeze(t.Context(), "billing")
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, fs.Frozen)
	require.NotNil(t, fs.Since)
	assert.Equal(t, historyEnd, *fs.Since)
	fs, ok, err = mon.Freeze(t.Context(), "search")
	require.NoError(t, err)
	require.True(t, ok)
	assert.False(t, fs.Frozen)
}

// TestEveryFormEvaluatesAlike evaluates checkout's availability, written
// in each form Ooda reads (slo/testdata/forms), against the real
// Prometheus: the same level, burn in every window and budget, whether the
// SLI counts errors (Sloth, Kubernetes, OpenSLO v1's bad) or good events
// (OpenSLO v1alpha).
func TestEveryFormEvaluatesAlike(t *testing.T) {
	server := startHistory(t)
	forms := map[string][]string{
		"sloth":           {"sloth.yaml"},
		"kubernetes":      {"kubernetes.yaml"},
		"openslo-v1alpha": {"openslo-v1alpha.yaml"},
		"openslo-v1":      {"openslo-v1.yaml", "openslo-v1-sli.yaml"},
	}
	results := map[string]slo.Result{}
	for name, files := range forms {
		var paths []string
		for _, f := range files {
			paths = append(paths, filepath.Join("..", "testdata", "forms", f))
		}
		set := slo.Load(paths, slo.DefaultPeriod)
		require.NoError(t, set.Err(), name)
		require.Len(t, set.SLOs, 1, name)
		guard := newGuard(t, nil)
		api, err := prom.NewPrometheusAPI(server.URL, guard)
		require.NoError(t, err)
		ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: set.SLOs, Now: func() time.Time { return historyEnd }})
		require.NoError(t, err)
		rep, err := ev.Evaluate(t.Context(), historyEnd)
		require.NoError(t, err, name)
		require.NoError(t, rep.Results[0].Err, name)
		results[name] = rep.Results[0]
	}

	want := results["sloth"]
	assert.Equal(t, slo.LevelPage, want.Level, "checkout's incident, as TestRealPrometheus sees it")
	assert.InDelta(t, 0.297, want.BudgetRemaining, 0.01)
	for name, got := range results {
		assert.Equal(t, want.SLO, got.SLO, name)
		assert.Equal(t, want.Level, got.Level, name)
		assert.Equal(t, want.Alert.Name, got.Alert.Name, name)
		assert.Equal(t, want.Period, got.Period, name)
		require.Len(t, got.Windows, len(want.Windows), name)
		for i, w := range got.Windows {
			assert.Equal(t, want.Windows[i].Window, w.Window, name)
			assert.InDelta(t, want.Windows[i].ErrorRatio, w.ErrorRatio, 1e-12, "%s %s", name, slo.FormatWindow(w.Window))
			assert.InDelta(t, want.Windows[i].Requests, w.Requests, 1e-6, "%s %s", name, slo.FormatWindow(w.Window))
		}
		assert.InDelta(t, want.BudgetRemaining, got.BudgetRemaining, 1e-9, name)
	}
}

// TestRealPrometheusRefusesABadQuery: the real Prometheus answers a query
// it cannot parse with HTTP 400 bad_data. Those SLOs show a configuration
// error, the others evaluate, and the breaker stays closed.
func TestRealPrometheusRefusesABadQuery(t *testing.T) {
	server := startHistory(t)
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(server.URL, guard)
	require.NoError(t, err)
	var slos []slo.SLO
	for i, q := range []string{
		`sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}])) by`,
		`sum(rate(http_requests_total{service="checkout" code=~"5.."}[{{.window}}]))`,
		`sum(rated(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))`,
		`sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}] offset))`,
		`sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}])) +`,
		`sum(rate(http_requests_total{service="checkout",code=~"(5.."}[{{.window}}]))`,
	} {
		s := parseSLOs(t, sloFile("checkout", 99.9, fmt.Sprintf("typo-%d", i)))[0]
		s.SLI.ErrorQuery = q
		require.NoError(t, s.Validate(), "brackets and quotes balance: only Prometheus can tell")
		slos = append(slos, s)
	}
	slos = append(slos, historySLOs(t)...)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Concurrency: 1, Now: func() time.Time { return historyEnd }})
	require.NoError(t, err)

	rep, err := ev.Evaluate(t.Context(), historyEnd)
	require.NoError(t, err, "Prometheus is up")
	for _, r := range rep.Results[:6] {
		assert.Equal(t, slo.LevelConfigError, r.Level, r.SLO)
		assert.ErrorIs(t, r.Err, slo.ErrBadQuery, r.SLO)
		assert.ErrorContains(t, r.Err, "Prometheus refused its query as invalid (", r.SLO)
	}
	levels := map[string]slo.Level{}
	for _, r := range rep.Results[6:] {
		require.NoError(t, r.Err, r.SLO)
		levels[r.Service] = r.Level
	}
	assert.Equal(t, map[string]slo.Level{"checkout": slo.LevelPage, "search": slo.LevelOK, "billing": slo.LevelTicket}, levels)
	assert.Equal(t, "closed", guard.State(), "six refusals in a row are not an outage")
	assert.False(t, ev.Last().Stale)
}

// BenchmarkEvaluateTick is one evaluation tick of 200 SLOs against the real
// Prometheus of TestRealPrometheus, with the guard's bulkhead at 8.
func BenchmarkEvaluateTick(b *testing.B) {
	server := startHistory(b)
	guard := newGuard(b, func(p *resilience.Policy) { p.MaxConcurrent = 8 })
	api, err := prom.NewPrometheusAPI(server.URL, guard)
	require.NoError(b, err)
	counting := &slotest.Counting{Next: api}
	base := historySLOs(b)
	slos := make([]slo.SLO, 200)
	for i := range slos {
		s := base[i%len(base)]
		s.Name = fmt.Sprintf("slo-%03d", i)
		s.ID = s.Service + "/" + s.Name
		slos[i] = s
	}
	ev, err := prom.NewEvaluator(prom.Config{API: counting, Guard: guard, SLOs: slos, Concurrency: 8, Now: time.Now})
	require.NoError(b, err)

	b.ResetTimer()
	start := time.Now()
	ticks := 0
	for b.Loop() {
		rep, err := ev.Evaluate(b.Context(), historyEnd)
		require.NoError(b, err)
		require.Equal(b, slo.LevelPage, rep.Results[0].Level)
		ticks++
	}
	elapsed := time.Since(start)
	require.LessOrEqual(b, counting.Peak(), int64(8), "queries in flight never exceed the bulkhead")
	b.ReportMetric(elapsed.Seconds()/float64(ticks), "s/tick")
	b.ReportMetric(float64(counting.Peak()), "peak-inflight")
	b.ReportMetric(float64(counting.Calls())/float64(ticks), "queries/tick")
}
