package prom_test

import (
	"fmt"
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

// t0 is the instant the unit tests evaluate at.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sloFile is a Sloth file with one events SLO per name, all with the
// given objective, for service.
func sloFile(service string, objective float64, names ...string) []byte {
	s := fmt.Sprintf("version: prometheus/v1\nservice: %s\nlabels:\n  team: sre\nslos:\n", service)
	for _, n := range names {
		s += fmt.Sprintf(`  - name: %s
    objective: %v
    description: requests served without a 5xx
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="%s",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="%s"}[{{.window}}]))
    alerting:
      name: %sHighErrorRate
      page_alert:
        labels:
          severity: critical
      ticket_alert:
        labels:
          severity: warning
`, n, objective, service, service, n)
	}
	return []byte(s)
}

// parseSLOs parses a file that must be valid.
func parseSLOs(t testing.TB, data []byte) []slo.SLO {
	t.Helper()
	slos, _, err := slo.Parse(t.Name()+".yaml", data)
	require.NoError(t, err)
	return slos
}

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
