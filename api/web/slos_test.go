package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// fakeSLOs is an SLOSource whose snapshot and charts a test sets.
type fakeSLOs struct {
	mu       sync.Mutex
	snap     slo.Snapshot
	freeze   slo.FreezeStatus
	chartErr error
	calls    int
}

func (f *fakeSLOs) Last() slo.Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.snap
}

func (f *fakeSLOs) Freeze(_ context.Context, service string) (slo.FreezeStatus, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := f.freeze
	fs.Service = service
	return fs, true, nil
}

func (f *fakeSLOs) Charts(ctx context.Context, id string, now time.Time) ([]chart.Line, error) {
	f.mu.Lock()
	f.calls++
	err := f.chartErr
	f.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		return nil, errors.New("the charts were asked for without a deadline")
	}
	if err != nil {
		return nil, err
	}
	var pts []chart.Point
	for i := range 12 {
		pts = append(pts, chart.Point{T: now.Add(time.Duration(i-12) * 30 * time.Minute), V: 0.0005 * float64(i)})
	}
	line := func(title string) chart.Line {
		return chart.Line{Title: id + " " + title, Series: []chart.Series{{Name: "error ratio", Points: pts}},
			Thresholds: []chart.Threshold{{Name: "page (6× burn)", Value: 0.006}, {Name: "ticket (1× burn)", Value: 0.001}}, Percent: true}
	}
	return []chart.Line{line("last 6 hours"), line("last 3 days"), line("budget")}, nil
}

func (f *fakeSLOs) chartCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// sloResult is an evaluation of checkout/availability (99.9 %) with every
// window burning at burn and the period's budget at remaining.
func sloResult(burn, remaining float64) slo.Result {
	s := slo.SLO{ID: "checkout/availability", Service: "checkout", Name: "availability", Objective: 99.9, File: "slos/checkout.yaml"}
	w := slo.DefaultWindows(0)
	m := map[time.Duration]slo.Measurement{}
	for _, d := range w.Durations() {
		m[d] = slo.Measurement{ErrorRatio: burn * s.ErrorBudget(), Requests: 1e6}
	}
	m[w.Period] = slo.Measurement{ErrorRatio: (1 - remaining) * s.ErrorBudget(), Requests: 1e9}
	return slo.Assess(s, w, m, 0)
}

func newSLOSite(t *testing.T, src SLOSource, now *time.Time) *pageSite {
	t.Helper()
	db := storagetest.Open(t)
	site, err := New(Config{
		Store: db, People: pagePeople, Now: func() time.Time { return *now },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
		SLOs: src,
	})
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)
	return &pageSite{site: site, h: mux, db: db, now: *now}
}

var styleAttr = regexp.MustCompile(`\sstyle=`)

func TestSLOsPage(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	since := now.Add(-2 * time.Hour)
	src := &fakeSLOs{
		snap:   slo.Snapshot{Report: slo.Report{At: now.Add(-time.Minute), Results: []slo.Result{sloResult(15, 0.4)}}, Age: time.Minute},
		freeze: slo.FreezeStatus{Frozen: true, Since: &since},
	}
	p := newSLOSite(t, src, &now)
	cookie := p.session(t, pageViewer)

	code, body := p.get(t, cookie, "/slos")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 1, strings.Count(body, "<h1"), "one h1")
	assert.Contains(t, body, `<h2 id="slo-checkout-availability-title">checkout/availability`)
	assert.Contains(t, body, "Page: burning fast")
	assert.Contains(t, body, `<th scope="col">Threshold</th>`)
	assert.Contains(t, body, `<th scope="row">page-quick</th><td>1h / 5m</td><td class="num">14.4×</td><td class="num">15.0×</td><td class="num">15.0×</td><td><strong>yes</strong></td>`)
	assert.Contains(t, body, "40.0%", "the budget left")
	assert.Contains(t, body, "Deploys frozen since")
	assert.Equal(t, 3, strings.Count(body, "<svg"), "three charts")
	assert.Contains(t, body, `role="img"`)
	assert.Contains(t, body, `aria-label="checkout/availability last 6 hours"`)
	assert.NotRegexp(t, styleAttr, body, "no style attribute: the site's CSP forbids them")
	assert.NotContains(t, body, "<style")
	assert.NotContains(t, body, "not answering")
	assert.Contains(t, body, `href="/slos" aria-current="page"`)

	_, _ = p.get(t, cookie, "/slos")
	assert.Equal(t, 1, src.chartCalls(), "the charts are kept for a minute")
	now = now.Add(61 * time.Second)
	_, _ = p.get(t, cookie, "/slos")
	assert.Equal(t, 2, src.chartCalls(), "and drawn again after it")
}

func TestSLOsPagePrometheusDown(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		snap      slo.Snapshot
		chartErr  error
		wantCalls int
		since     string
	}{
		{
			name: "the latest evaluation failed",
			snap: slo.Snapshot{
				Report: slo.Report{At: now.Add(-5 * time.Minute), Results: []slo.Result{sloResult(2, 0.9)}}, Age: 5 * time.Minute,
				Stale: true, Reason: "prometheus unavailable", FailedAt: now.Add(-4 * time.Minute),
			},
			since: "2026-03-04 11:55 UTC",
		},
		{
			name: "the charts' queries fail",
			snap: slo.Snapshot{
				Report: slo.Report{At: now.Add(-5 * time.Minute), Results: []slo.Result{sloResult(2, 0.9)}}, Age: 5 * time.Minute,
			},
			chartErr:  errors.New("prometheus query_range: circuit breaker open"),
			wantCalls: 1,
			since:     "2026-03-04 12:00 UTC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &fakeSLOs{snap: tt.snap, chartErr: tt.chartErr}
			p := newSLOSite(t, src, &now)
			cookie := p.session(t, pageViewer)
			start := time.Now()
			code, body := p.get(t, cookie, "/slos")
			require.Equal(t, http.StatusOK, code, body)
			assert.Less(t, time.Since(start), time.Second, "the page does not wait on Prometheus")
			assert.Contains(t, body, "Prometheus is not answering (since "+tt.since)
			assert.Contains(t, body, "showing the last evaluation from 5 min ago.")
			assert.Contains(t, body, `<td class="num">2.0×</td>`, "the last evaluation's burn rates")
			assert.Contains(t, body, "90.0%", "and its budget")
			assert.NotContains(t, body, "<svg")
			assert.Contains(t, body, "No charts while Prometheus is not answering.")
			assert.Equal(t, tt.wantCalls, src.chartCalls())
		})
	}
}

func TestSLOsPageBadQueryAndNoSLOs(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	src := &fakeSLOs{
		snap:     slo.Snapshot{Report: slo.Report{At: now, Results: []slo.Result{sloResult(0.5, math.NaN())}}},
		chartErr: errors.New("error ratio: " + slo.ErrBadQuery.Error()),
	}
	src.chartErr = errors.Join(slo.ErrBadQuery, errors.New("parse error"))
	p := newSLOSite(t, src, &now)
	code, body := p.get(t, p.session(t, pageViewer), "/slos")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "Prometheus refused the charts&#39; query; correct the SLO&#39;s query in slos/checkout.yaml.")
	assert.NotContains(t, body, "not answering", "a wrong query is no outage")
	assert.Contains(t, body, `<dd class="budget">—`)

	none := newSLOSite(t, nil, &now)
	code, body = none.get(t, none.session(t, pageViewer), "/slos")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "No SLOs are configured.")

	r, err := http.NewRequest(http.MethodGet, "https://ooda.example.com/slos", nil)
	require.NoError(t, err)
	w := &recorder{header: http.Header{}}
	none.h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusSeeOther, w.code, "signed out: sent to sign in")
}

// recorder is the least of an http.ResponseWriter.
type recorder struct {
	header http.Header
	code   int
}

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }
