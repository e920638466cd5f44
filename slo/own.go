package slo

import (
	"math"
	"time"
)

// AckMetric is the histogram of how long Ooda takes to acknowledge an
// /incident command, which Ooda's own SLO is measured on. The bot package
// defines it (command.NewAckHistogram), with a bucket at the 3 s threshold.
const AckMetric = "ooda_command_ack_seconds"

// OwnSpec is an SLO Ooda keeps on itself: Objective percent of the events
// in a histogram of its own at or under Threshold.
type OwnSpec struct {
	Name      string
	Metric    string
	Threshold time.Duration
	Objective float64 // percent
}

// DefaultOwnSpec is "99.9 % of /incident commands acknowledged within 3 s".
func DefaultOwnSpec() OwnSpec {
	return OwnSpec{Name: "command-ack", Metric: AckMetric, Threshold: 3 * time.Second, Objective: 99.9}
}

// OwnStatus is an own SLO measured since the process started (its
// histogram's lifetime is the period).
type OwnStatus struct {
	Spec OwnSpec
	// Bound is the bucket bound, in seconds, that stood for the
	// threshold: the largest at or under it.
	Bound       float64
	Good, Total float64
	// Ratio is Good/Total; NaN before the first event.
	Ratio float64
	// BudgetRemaining is as in Result; NaN before the first event.
	BudgetRemaining float64
}

// Met reports whether the objective holds (true before the first event:
// nothing has failed).
func (o OwnStatus) Met() bool {
	return !known(o.Ratio) || o.Ratio*100 >= o.Spec.Objective
}

// Status is spec measured from total events, good of them at or under the
// bucket bound that stood for the threshold; Ratio and BudgetRemaining are
// NaN while total is zero.
func (spec OwnSpec) Status(bound, good, total float64) OwnStatus {
	o := OwnStatus{Spec: spec, Bound: bound, Good: good, Total: total, Ratio: math.NaN(), BudgetRemaining: math.NaN()}
	if total > 0 {
		o.Ratio = good / total
		o.BudgetRemaining = BudgetRemaining(1-o.Ratio, ErrorBudget(spec.Objective))
	}
	return o
}
