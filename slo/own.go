package slo

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// AckMetric is the histogram of how long Ooda takes to acknowledge an
// /incident command, which Ooda's own SLO is measured on. The bot package
// defines it (bot.NewAckHistogram), with a bucket at the 3 s threshold.
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

// OwnSLO measures spec on the histogram named spec.Metric in g, summing
// every label set it has.
func OwnSLO(g prometheus.Gatherer, spec OwnSpec) (OwnStatus, error) {
	fams, err := g.Gather()
	if err != nil {
		return OwnStatus{}, fmt.Errorf("own slo %s: gather: %w", spec.Name, err)
	}
	for _, f := range fams {
		if f.GetName() != spec.Metric {
			continue
		}
		if f.GetType() != dto.MetricType_HISTOGRAM {
			return OwnStatus{}, fmt.Errorf("own slo %s: %s is a %s, not a histogram", spec.Name, spec.Metric, f.GetType())
		}
		return ownStatus(spec, f.GetMetric())
	}
	return OwnStatus{}, fmt.Errorf("own slo %s: no histogram %s is registered", spec.Name, spec.Metric)
}

func ownStatus(spec OwnSpec, ms []*dto.Metric) (OwnStatus, error) {
	o := OwnStatus{Spec: spec, Bound: math.NaN(), Ratio: math.NaN(), BudgetRemaining: math.NaN()}
	limit := spec.Threshold.Seconds()
	for _, m := range ms {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		bound, good := math.NaN(), 0.0
		for _, b := range h.GetBucket() {
			if ub := b.GetUpperBound(); ub <= limit && (math.IsNaN(bound) || ub > bound) {
				bound, good = ub, cumulative(b)
			}
		}
		if math.IsNaN(bound) {
			return o, fmt.Errorf("own slo %s: %s has no bucket at or under %v", spec.Name, spec.Metric, spec.Threshold)
		}
		o.Bound = bound
		o.Good += good
		total := float64(h.GetSampleCount())
		if h.SampleCountFloat != nil {
			total = h.GetSampleCountFloat()
		}
		o.Total += total
	}
	if o.Total > 0 {
		o.Ratio = o.Good / o.Total
		o.BudgetRemaining = BudgetRemaining(1-o.Ratio, ErrorBudget(spec.Objective))
	}
	return o, nil
}

func cumulative(b *dto.Bucket) float64 {
	if b.CumulativeCountFloat != nil {
		return b.GetCumulativeCountFloat()
	}
	return float64(b.GetCumulativeCount())
}

// OwnCollector exports an own SLO as ooda_own_slo_* gauges, labelled with
// the SLO's name, so Ooda can be watched with the same math it applies.
type OwnCollector struct {
	source prometheus.Collector
	spec   OwnSpec

	objective, good, total, ratio, budget *prometheus.Desc
}

var _ prometheus.Collector = (*OwnCollector)(nil)

// NewOwnCollector measures spec on the histograms source collects: the
// histogram itself (or its vector), not a registry that holds this
// collector, which would gather itself forever.
func NewOwnCollector(source prometheus.Collector, spec OwnSpec) *OwnCollector {
	labels := prometheus.Labels{"slo": spec.Name}
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("ooda_own_slo_"+name, help, nil, labels)
	}
	return &OwnCollector{
		source:    source,
		spec:      spec,
		objective: d("objective_ratio", "Target share of good events of Ooda's own SLO."),
		good:      d("good_events", "Events within the own SLO's threshold since start."),
		total:     d("events", "Events counted by the own SLO since start."),
		ratio:     d("sli_ratio", "Share of good events since start; absent before the first event."),
		budget:    d("error_budget_remaining_ratio", "Share of the own SLO's error budget left since start; absent before the first event."),
	}
}

// Describe sends the gauges' descriptions.
func (c *OwnCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.objective, c.good, c.total, c.ratio, c.budget} {
		ch <- d
	}
}

// Collect measures the SLO and sends the gauges. A histogram that cannot
// be read is reported as an invalid metric, which fails the scrape loudly.
func (c *OwnCollector) Collect(ch chan<- prometheus.Metric) {
	o, err := c.measure()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.objective, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	gauge(c.objective, c.spec.Objective/100)
	gauge(c.good, o.Good)
	gauge(c.total, o.Total)
	if known(o.Ratio) {
		gauge(c.ratio, o.Ratio)
		gauge(c.budget, o.BudgetRemaining)
	}
}

func (c *OwnCollector) measure() (OwnStatus, error) {
	metrics := make(chan prometheus.Metric)
	go func() {
		c.source.Collect(metrics)
		close(metrics)
	}()
	var (
		ms   []*dto.Metric
		errs []error
	)
	for m := range metrics {
		var pb dto.Metric
		if err := m.Write(&pb); err != nil {
			errs = append(errs, err)
			continue
		}
		ms = append(ms, &pb)
	}
	if err := errors.Join(errs...); err != nil {
		return OwnStatus{}, fmt.Errorf("own slo %s: %w", c.spec.Name, err)
	}
	return ownStatus(c.spec, ms)
}
