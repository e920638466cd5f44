package command

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

// sloT0 is when the SLO tests start evaluating.
var sloT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sloTestFile is a Sloth file with one events SLO, checkout/availability
// at 99.9 %.
const sloTestFile = `version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
`

// burning is every window at ratio, 100 requests a second, except the
// 30-day period, whose ratio is period (the budget).
func burning(ratio, period float64) slotest.Windows {
	ws := slotest.Uniform(slo.DefaultWindows(0), ratio, 100)
	w := ws["30d"]
	w.Ratio = period
	ws["30d"] = w
	return ws
}

// Error ratios for burning: a page (15× a 99.9 % budget) and a period
// that has spent 40 % of its budget.
const (
	pageRatio  = 0.015
	periodSome = 0.0004
)

// ownSLOFrom measures Ooda's own SLO on g's ack histogram, as app wires
// the dispatcher.
func ownSLOFrom(g prometheus.Gatherer, spec slo.OwnSpec) OwnSLOFunc {
	return func() (slo.OwnStatus, error) { return prom.OwnSLO(g, spec) }
}
