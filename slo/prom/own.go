package prom

import (
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ooda-sre/ooda/slo"
)

// OwnSLO measures spec on the histogram named spec.Metric in g, summing
// every label set it has.
func OwnSLO(g prometheus.Gatherer, spec slo.OwnSpec) (slo.OwnStatus, error) {
	fams, err := g.Gather()
	if err != nil {
		return slo.OwnStatus{}, fmt.Errorf("own slo %s: gather: %w", spec.Name, err)
	}
	for _, f := range fams {
		if f.GetName() != spec.Metric {
			continue
		}
		if f.GetType() != dto.MetricType_HISTOGRAM {
			return slo.OwnStatus{}, fmt.Errorf("own slo %s: %s is a %s, not a histogram", spec.Name, spec.Metric, f.GetType())
		}
		return ownStatus(spec, f.GetMetric())
	}
	return slo.OwnStatus{}, fmt.Errorf("own slo %s: no histogram %s is registered", spec.Name, spec.Metric)
}

// ownStatus sums the histograms' events at or under the threshold's
// bucket; the ratio and the budget are slo.OwnSpec.Status's.
func ownStatus(spec slo.OwnSpec, ms []*dto.Metric) (slo.OwnStatus, error) {
	bound, good, total := math.NaN(), 0.0, 0.0
	limit := spec.Threshold.Seconds()
	for _, m := range ms {
		h := m.GetHistogram()
		if h == nil {
			continue
		}
		hBound, hGood := math.NaN(), 0.0
		for _, b := range h.GetBucket() {
			if ub := b.GetUpperBound(); ub <= limit && (math.IsNaN(hBound) || ub > hBound) {
				hBound, hGood = ub, cumulative(b)
			}
		}
		if math.IsNaN(hBound) {
			return slo.OwnStatus{}, fmt.Errorf("own slo %s: %s has no bucket at or under %v", spec.Name, spec.Metric, spec.Threshold)
		}
		bound = hBound
		good += hGood
		if h.SampleCountFloat != nil {
			total += h.GetSampleCountFloat()
		} else {
			total += float64(h.GetSampleCount())
		}
	}
	return spec.Status(bound, good, total), nil
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
	spec   slo.OwnSpec

	objective, good, total, ratio, budget *prometheus.Desc
}

var _ prometheus.Collector = (*OwnCollector)(nil)

// NewOwnCollector measures spec on the histograms source collects: the
// histogram itself (or its vector), not a registry that holds this
// collector, which would gather itself forever.
func NewOwnCollector(source prometheus.Collector, spec slo.OwnSpec) *OwnCollector {
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

func (c *OwnCollector) measure() (slo.OwnStatus, error) {
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
		return slo.OwnStatus{}, fmt.Errorf("own slo %s: %w", c.spec.Name, err)
	}
	return ownStatus(c.spec, ms)
}
