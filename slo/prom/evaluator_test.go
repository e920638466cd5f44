package prom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// flakyPrometheus answers like a healthy Prometheus until told to fail in
// one of the ways Prometheus fails.
type flakyPrometheus struct {
	srv  *httptest.Server
	mode atomic.Value // string: "", "slow", "500"
	// stop releases slow requests when the test ends, whatever the client
	// did.
	stop chan struct{}
}

func newFlakyPrometheus(t *testing.T, answer slotest.Answer) *flakyPrometheus {
	t.Helper()
	f := &flakyPrometheus{stop: make(chan struct{})}
	f.mode.Store("")
	healthy := slotest.Handler(answer)
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch f.mode.Load() {
		case "slow":
			select {
			case <-r.Context().Done():
			case <-f.stop:
			}
			return
		case "500":
			http.Error(w, `{"status":"error","errorType":"internal","error":"tsdb is on fire"}`, http.StatusInternalServerError)
			return
		}
		healthy.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		close(f.stop)
		f.srv.Close()
	})
	return f
}

// down closes the port: connections are refused from now on.
func (f *flakyPrometheus) down() {
	f.srv.CloseClientConnections()
	f.srv.Listener.Close()
}

func TestEvaluateWhenPrometheusFails(t *testing.T) {
	tests := []struct {
		name string
		fail func(f *flakyPrometheus)
	}{
		{"down", func(f *flakyPrometheus) { f.down() }},
		{"slower than the timeout", func(f *flakyPrometheus) { f.mode.Store("slow") }},
		{"answering 500", func(f *flakyPrometheus) { f.mode.Store("500") }},
	}
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency", "search"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFlakyPrometheus(t, windows(0.0002, map[string]float64{"1h": 0.02, "5m": 0.02}).Answer)
			guard := newGuard(t, func(p *resilience.Policy) { p.Timeout = 200 * time.Millisecond })
			api, err := prom.NewPrometheusAPI(f.srv.URL, guard)
			require.NoError(t, err)
			var clock atomic.Int64
			clock.Store(t0.UnixNano())
			ev, err := prom.NewEvaluator(prom.Config{
				API: api, Guard: guard, SLOs: slos,
				Timeout: 5 * time.Second,
				Now:     func() time.Time { return time.Unix(0, clock.Load()).UTC() },
			})
			require.NoError(t, err)

			good, err := ev.Evaluate(t.Context(), t0)
			require.NoError(t, err)
			require.Equal(t, slo.LevelPage, good.Results[0].Level)
			assert.False(t, ev.Last().Stale)

			tt.fail(f)
			clock.Store(t0.Add(3 * time.Minute).UnixNano())
			start := time.Now()
			bad, err := ev.Evaluate(t.Context(), t0.Add(3*time.Minute))
			took := time.Since(start)
			require.Error(t, err)
			require.ErrorIs(t, err, slo.ErrUnavailable)
			assert.Less(t, took, 4*time.Second, "bounded by the guard's 200ms attempts, not the evaluation's 5s")
			for _, r := range bad.Results {
				assert.Equal(t, slo.LevelError, r.Level)
				assert.Error(t, r.Err)
			}

			snap := ev.Last()
			assert.True(t, snap.Stale)
			assert.NotEmpty(t, snap.Reason)
			assert.Equal(t, t0, snap.Report.At, "the last good report is served")
			assert.Equal(t, slo.LevelPage, snap.Report.Results[0].Level)
			assert.Equal(t, 3*time.Minute, snap.Age)

			// The failures tripped the breaker: the next evaluation fails
			// fast without calling Prometheus.
			assert.Equal(t, "open", guard.State())
			start = time.Now()
			_, err = ev.Evaluate(t.Context(), t0.Add(4*time.Minute))
			require.ErrorIs(t, err, resilience.ErrOpen)
			assert.Less(t, time.Since(start), time.Second)
		})
	}
}

func TestLastAnswersWhileAnEvaluationHangs(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	f := newFlakyPrometheus(t, windows(0.0002, nil).Answer)
	guard := newGuard(t, func(p *resilience.Policy) { p.Timeout = 200 * time.Millisecond })
	api, err := prom.NewPrometheusAPI(f.srv.URL, guard)
	require.NoError(t, err)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Now: func() time.Time { return t0 }})
	require.NoError(t, err)
	_, err = ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)

	f.mode.Store("slow")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := ev.Evaluate(ctx, t0.Add(time.Minute))
		done <- err
	}()
	got := make(chan slo.Snapshot, 1)
	go func() { got <- ev.Last() }()
	select {
	case snap := <-got:
		assert.Equal(t, t0, snap.Report.At)
	case <-time.After(5 * time.Second):
		t.Fatal("Last waited for the evaluation")
	}
	cancel()
	require.ErrorIs(t, <-done, context.Canceled)
	assert.False(t, ev.Last().Stale, "a caller giving up is not Prometheus failing")
}

func TestEvaluateBoundsConcurrency(t *testing.T) {
	var slos []slo.SLO
	for _, svc := range []string{"a", "b", "c", "d", "e"} {
		slos = append(slos, parseSLOs(t, sloFile(svc, 99.9, "one", "two", "three"))...)
	}
	ans := windows(0.0002, nil)
	// Every query waits until three are in flight or the test gives up,
	// so the peak really reaches the bound if the evaluator lets it.
	var mu sync.Mutex
	waiting := 0
	release := make(chan struct{})
	var once sync.Once
	slow := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		mu.Lock()
		waiting++
		if waiting >= 3 {
			once.Do(func() { close(release) })
		}
		mu.Unlock()
		<-release
		return ans.Answer(q, ts)
	}}
	api := &slotest.Counting{Next: slow}
	ev := newEvaluator(t, api, slos, func(c *prom.Config) { c.Concurrency = 3 })
	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)
	assert.Len(t, rep.Results, 15)
	assert.Equal(t, 15*8, rep.Queries, "8 windows per SLO: 7 alert windows and the period")
	assert.EqualValues(t, 15*8, api.Calls())
	assert.EqualValues(t, 3, api.Peak())
}

func TestEvaluateKeepsGoingWhenOneSLOFails(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency"))
	// latency is a raw SLI whose ratio comes back as two series.
	slos[1].SLI = slo.SLI{ErrorRatioQuery: "by_pod_ratio[{{.window}}]"}
	ans := windows(0.0002, nil)
	api := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		if strings.HasPrefix(q, "by_pod_ratio[") {
			return model.Vector{{Value: 0.1}, {Value: 0.2}}, nil
		}
		return ans.Answer(q, ts)
	}}
	ev := newEvaluator(t, api, slos)
	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err, "one SLO failing is not Prometheus failing")
	assert.Equal(t, slo.LevelOK, rep.Results[0].Level)
	assert.Equal(t, slo.LevelConfigError, rep.Results[1].Level, "the query is wrong, Prometheus is fine")
	assert.ErrorIs(t, rep.Results[1].Err, slo.ErrBadQuery)
	assert.ErrorContains(t, rep.Results[1].Err, "aggregate the query with sum() or max()")
	assert.False(t, ev.Last().Stale)
}

func TestBudgetSpent(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency"))
	var asked []string
	var mu sync.Mutex
	api := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		mu.Lock()
		asked = append(asked, q)
		mu.Unlock()
		// Six hours at 2.4 % errors: 24× over a quarter of a day.
		return slotest.Windows{"6h": {Ratio: 0.024, Requests: 1e6}}.Answer(q, ts)
	}}
	ev := newEvaluator(t, api, slos)
	share, err := ev.BudgetSpent(t.Context(), slos[0], t0.Add(-6*time.Hour), t0)
	require.NoError(t, err)
	assert.InDelta(t, 0.2, share, 1e-9, "24× for 6h of 720h")
	require.Len(t, asked, 1)
	assert.Contains(t, asked[0], "[6h]")

	spent, err := ev.ServiceBudgetSpent(t.Context(), "checkout", t0.Add(-6*time.Hour), t0)
	require.NoError(t, err)
	assert.InDelta(t, 0.2, spent.Share, 1e-9)
	assert.Equal(t, "checkout/availability", spent.SLO)

	_, err = ev.ServiceBudgetSpent(t.Context(), "billing", t0.Add(-time.Hour), t0)
	require.ErrorIs(t, err, slo.ErrUnknownService)
	_, err = ev.BudgetSpent(t.Context(), slos[0], t0.Add(-time.Hour), t0)
	require.ErrorIs(t, err, slo.ErrNoData, "nothing for 1h in the fake")
	_, err = ev.BudgetSpent(t.Context(), slos[0], t0, t0)
	require.Error(t, err)

	assert.True(t, slo.Spent{Share: 0.21}.NeedsPostmortem())
	assert.False(t, slo.Spent{Share: 0.19}.NeedsPostmortem())
}

func TestNewEvaluatorRefusesABadConfig(t *testing.T) {
	_, err := prom.NewEvaluator(prom.Config{Concurrency: -1, Windows: &slo.Windows{}})
	require.Error(t, err)
	for _, want := range []string{"no Prometheus API client", "no guard", "concurrency -1", "period 0s"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.False(t, errors.Is(err, slo.ErrUnavailable))
}

// A query Prometheus refuses as invalid (HTTP 400, bad_data) is that SLO's
// configuration error: the others evaluate, the evaluation is no outage,
// and the breaker, which would open after five failures in a row, stays
// closed although six queries in a row were refused.
func TestARefusedQueryIsAConfigErrorNotAnOutage(t *testing.T) {
	good := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	var slos []slo.SLO
	for i := range 6 {
		s := good[0]
		s.Name = fmt.Sprintf("typo-%d", i)
		s.ID = "checkout/" + s.Name
		s.SLI.ErrorQuery = `sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) by`
		slos = append(slos, s)
	}
	slos = append(slos, good[0])
	ans := windows(0.0002, nil)
	srv := slotest.NewServer(t, func(q string, ts time.Time) (model.Value, error) {
		if strings.Contains(q, "])) by\n") {
			return nil, slotest.BadQuery(`1:60: parse error: unexpected end of input`)
		}
		return ans.Answer(q, ts)
	})
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(srv.URL, guard)
	require.NoError(t, err)
	// One query at a time, the refused ones first: had they counted, the
	// breaker would be open before the good SLO's turn.
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Concurrency: 1, Now: func() time.Time { return t0 }})
	require.NoError(t, err)

	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err, "Prometheus answered every query")
	require.Len(t, rep.Results, 7)
	for _, r := range rep.Results[:6] {
		assert.Equal(t, slo.LevelConfigError, r.Level, r.SLO)
		require.ErrorIs(t, r.Err, slo.ErrBadQuery)
		assert.NotErrorIs(t, r.Err, slo.ErrUnavailable)
		assert.ErrorContains(t, r.Err, "Prometheus refused its query as invalid (1:60: parse error: unexpected end of input); correct the query in TestARefusedQueryIsAConfigErrorNotAnOutage.yaml")
	}
	assert.Equal(t, slo.LevelOK, rep.Results[6].Level, "the good SLO is evaluated")
	assert.Len(t, rep.ConfigErrors(), 6)
	assert.Equal(t, "closed", guard.State())
	assert.False(t, ev.Last().Stale)

	// With only refused SLOs it is still no outage: Prometheus answered.
	require.NoError(t, ev.SetSLOs(slos[:6]))
	_, err = ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, "closed", guard.State())
}

// An SLO with a period of its own is measured over the windows of that
// period, beside SLOs measured over the configured one.
func TestEvaluateUsesEachSLOsPeriod(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "weekly"))
	slos[1].Period = 7 * slo.Day
	week := slo.DefaultWindows(7 * slo.Day)
	var mu sync.Mutex
	asked := map[string]bool{}
	ans := slotest.Uniform(slo.DefaultWindows(slo.DefaultPeriod), 0.0002, 100)
	for k, v := range slotest.Uniform(week, 0.02, 100) {
		ans[k] = v
	}
	api := &slotest.API{Answer: func(q string, ts time.Time) (model.Value, error) {
		mu.Lock()
		asked[q[strings.Index(q, "[")+1:strings.Index(q, "]")]] = true
		mu.Unlock()
		return ans.Answer(q, ts)
	}}
	ev := newEvaluator(t, api, slos)
	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)
	assert.Equal(t, slo.DefaultPeriod, rep.Results[0].Period)
	assert.Equal(t, 7*slo.Day, rep.Results[1].Period)
	assert.Equal(t, slo.LevelPage, rep.Results[1].Level, "20× on the week's windows")
	last := rep.Results[1].Windows[len(rep.Results[1].Windows)-1]
	assert.Equal(t, 7*slo.Day, last.Window, "the budget is the week's")
	for _, d := range week.Durations() {
		assert.True(t, asked[slo.FormatWindow(d)], "asked for %s", slo.FormatWindow(d))
	}
	assert.Equal(t, "14m", slo.FormatWindow(week.PageQuick.Long), "1h × 7/30")

	// Each period gets a table of its own.
	var b strings.Builder
	require.NoError(t, slo.WriteTable(&b, rep))
	assert.Contains(t, b.String(), "period 30d:\nSLO")
	assert.Contains(t, b.String(), "period 1w:\nSLO", "Prometheus writes 7d as 1w")
}

// A query Prometheus parses but cannot run (HTTP 422, execution) is that
// SLO's configuration error too, even when it is the only SLO: the
// evaluation is no outage, and the breaker stays closed after more refusals
// in a row than it would open at.
func TestAQueryPrometheusCannotRunIsAConfigErrorNotAnOutage(t *testing.T) {
	good := parseSLOs(t, sloFile("checkout", 99.9, "availability"))
	var slos []slo.SLO
	for i := range 2 {
		s := good[0]
		s.Name = fmt.Sprintf("joined-%d", i)
		s.ID = "checkout/" + s.Name
		slos = append(slos, s)
	}
	const msg = "found duplicate series for the match group {instance=\"a\"} on the right hand-side of the operation: many-to-many matching not allowed: matching labels must be unique on one side"
	var calls atomic.Int64
	srv := slotest.NewServer(t, func(string, time.Time) (model.Value, error) {
		calls.Add(1)
		return nil, slotest.ExecutionError(msg)
	})
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(srv.URL, guard)
	require.NoError(t, err)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Concurrency: 1, Now: func() time.Time { return t0 }})
	require.NoError(t, err)

	for range 3 {
		rep, err := ev.Evaluate(t.Context(), t0)
		require.NoError(t, err, "Prometheus answered every query")
		require.Len(t, rep.Results, 2)
		for _, r := range rep.Results {
			assert.Equal(t, slo.LevelConfigError, r.Level, r.SLO)
			require.ErrorIs(t, r.Err, slo.ErrBadQuery)
			assert.NotErrorIs(t, r.Err, slo.ErrUnavailable)
			assert.ErrorContains(t, r.Err, "many-to-many matching not allowed")
		}
		assert.Len(t, rep.ConfigErrors(), 2)
	}
	assert.EqualValues(t, 6, calls.Load(), "one query per SLO and evaluation: not retried")
	assert.Equal(t, "closed", guard.State())
	assert.False(t, ev.Last().Stale)
}

// An SLO whose query Prometheus refuses is left out of what an incident of
// its service cost, and named: the others still count.
func TestServiceBudgetSpentSkipsAnSLOWithABadQuery(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency", "search"))
	slos[1].SLI.ErrorQuery = `sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) by`
	slos[2].SLI.ErrorQuery = `sum(rate(http_requests_total{code=~"5.."}[{{.window}}])) * on() group_left x`
	six := slotest.Windows{"6h": {Ratio: 0.024, Requests: 1e6}}
	srv := slotest.NewServer(t, func(q string, ts time.Time) (model.Value, error) {
		switch {
		case strings.Contains(q, "])) by\n"):
			return nil, slotest.BadQuery("1:60: parse error: unexpected end of input")
		case strings.Contains(q, "group_left"):
			return nil, slotest.ExecutionError("many-to-many matching not allowed: matching labels must be unique on one side")
		}
		return six.Answer(q, ts)
	})
	guard := newGuard(t, nil)
	api, err := prom.NewPrometheusAPI(srv.URL, guard)
	require.NoError(t, err)
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: guard, SLOs: slos, Now: func() time.Time { return t0 }})
	require.NoError(t, err)

	spent, err := ev.ServiceBudgetSpent(t.Context(), "checkout", t0.Add(-6*time.Hour), t0)
	require.NoError(t, err, "the good SLO counts")
	assert.Equal(t, "checkout/availability", spent.SLO)
	assert.InDelta(t, 0.2, spent.Share, 1e-9)
	assert.Equal(t, []string{"checkout/latency", "checkout/search"}, spent.Unmeasured)

	// With only wrong queries nothing is known: no data, and why.
	require.NoError(t, ev.SetSLOs(slos[1:]))
	_, err = ev.ServiceBudgetSpent(t.Context(), "checkout", t0.Add(-6*time.Hour), t0)
	require.ErrorIs(t, err, slo.ErrNoData)
	require.ErrorIs(t, err, slo.ErrBadQuery)
	assert.ErrorContains(t, err, "parse error")
}
