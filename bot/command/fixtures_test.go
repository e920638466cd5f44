package command

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

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

// sloT0 and sloTestFile are the shared SLO fixtures.
var sloT0 = slotest.T0

const sloTestFile = slotest.CheckoutSLOFile
