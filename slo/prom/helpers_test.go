package prom_test

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// newGuard is a Prometheus guard whose backoffs are recorded, not slept.
func newGuard(t testing.TB, edit func(p *resilience.Policy)) *resilience.Guard {
	t.Helper()
	p := resilience.DefaultPolicy(resilience.DependencyPrometheus)
	if edit != nil {
		edit(&p)
	}
	clock := resiliencetest.NewClock(time.Now())
	g, err := resilience.New(p, resilience.WithClock(clock.Now), resilience.WithSleep(clock.Sleep))
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g
}

// newEvaluator builds an evaluator over api with a default guard.
func newEvaluator(t testing.TB, api prom.API, slos []slo.SLO, edit ...func(*prom.Config)) *prom.Evaluator {
	t.Helper()
	cfg := prom.Config{API: api, Guard: newGuard(t, nil), SLOs: slos, Now: func() time.Time { return t0 }}
	for _, e := range edit {
		e(&cfg)
	}
	ev, err := prom.NewEvaluator(cfg)
	require.NoError(t, err)
	return ev
}

// windows is a fake Prometheus answer built from error ratios per window,
// every window seeing 100 requests a second; the windows not listed get
// the ratio rest.
func windows(rest float64, ratios map[string]float64) slotest.Windows {
	ws := slotest.Uniform(slo.DefaultWindows(slo.DefaultPeriod), rest, 100)
	for k, r := range ratios {
		w := ws[k]
		w.Ratio = r
		ws[k] = w
	}
	return ws
}

// window parses a PromQL duration: 5m, 1d.
func window(t testing.TB, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	require.NoError(t, err)
	return time.Duration(d)
}

// The SLO fixtures every SLO test shares.
var (
	t0        = slotest.T0
	sloFile   = slotest.SlothFile
	parseSLOs = slotest.Parse
)
