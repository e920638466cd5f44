package slotest

import (
	"fmt"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/slo"
)

// T0 is the instant the SLO tests evaluate at.
var T0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// CheckoutSLOFile is a Sloth file with one events SLO,
// checkout/availability at 99.9 %.
const CheckoutSLOFile = `version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutHighErrorRate
`

// SlothFile is a Sloth file with one events SLO per name, all with the
// given objective, for service, with page and ticket alerts.
func SlothFile(service string, objective float64, names ...string) []byte {
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

// Parse parses a file the test holds valid, failing the test otherwise.
func Parse(t testing.TB, data []byte) []slo.SLO {
	t.Helper()
	slos, _, err := slo.Parse(t.Name()+".yaml", data)
	if err != nil {
		t.Fatalf("a valid SLO file: %v", err)
	}
	return slos
}
