package slo_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
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

// window parses a PromQL duration: 5m, 1d.
func window(t testing.TB, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	require.NoError(t, err)
	return time.Duration(d)
}
