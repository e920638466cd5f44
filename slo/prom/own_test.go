package prom_test

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
)

func observe(h prometheus.Observer, n int, d time.Duration) {
	for range n {
		h.Observe(d.Seconds())
	}
}

func TestOwnSLO(t *testing.T) {
	tests := []struct {
		name   string
		fast   int
		slow   int
		ratio  float64
		budget float64
		met    bool
	}{
		{"no commands yet", 0, 0, math.NaN(), math.NaN(), true},
		{"all fast", 1000, 0, 1, 1, true},
		{"half the budget", 9995, 5, 0.9995, 0.5, true},
		{"budget spent", 999, 1, 0.999, 0, true},
		{"objective missed", 990, 10, 0.99, -9, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			h := ackHistogram()
			reg.MustRegister(h)
			observe(h, tt.fast, 400*time.Millisecond)
			observe(h, tt.slow, 4*time.Second)

			o, err := prom.OwnSLO(reg, slo.DefaultOwnSpec())
			require.NoError(t, err)
			assert.InDelta(t, 3, o.Bound, 1e-12)
			assert.InDelta(t, float64(tt.fast), o.Good, 1e-9)
			assert.InDelta(t, float64(tt.fast+tt.slow), o.Total, 1e-9)
			if math.IsNaN(tt.ratio) {
				assert.True(t, math.IsNaN(o.Ratio))
				assert.True(t, math.IsNaN(o.BudgetRemaining))
			} else {
				assert.InDelta(t, tt.ratio, o.Ratio, 1e-9)
				assert.InDelta(t, tt.budget, o.BudgetRemaining, 1e-6)
			}
			assert.Equal(t, tt.met, o.Met())
		})
	}
}

func TestOwnSLOAcrossLabelsAndBuckets(t *testing.T) {
	reg := prometheus.NewRegistry()
	vec := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: slo.AckMetric, Buckets: []float64{1, 2, 5},
	}, []string{"command"})
	reg.MustRegister(vec)
	observe(vec.WithLabelValues("declare"), 10, 1500*time.Millisecond)
	observe(vec.WithLabelValues("status"), 5, 2500*time.Millisecond)

	// No bucket at 3s: the one below stands for it, so the 2.5s commands
	// count as slow (conservative).
	o, err := prom.OwnSLO(reg, slo.DefaultOwnSpec())
	require.NoError(t, err)
	assert.InDelta(t, 2, o.Bound, 1e-12)
	assert.InDelta(t, 10, o.Good, 1e-9)
	assert.InDelta(t, 15, o.Total, 1e-9)

	spec := slo.DefaultOwnSpec()
	spec.Threshold = 500 * time.Millisecond
	_, err = prom.OwnSLO(reg, spec)
	require.ErrorContains(t, err, "no bucket at or under 500ms")

	spec = slo.DefaultOwnSpec()
	spec.Metric = "ooda_missing_seconds"
	_, err = prom.OwnSLO(reg, spec)
	require.ErrorContains(t, err, "no histogram ooda_missing_seconds is registered")

	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "ooda_not_a_histogram"})
	reg.MustRegister(c)
	spec.Metric = "ooda_not_a_histogram"
	_, err = prom.OwnSLO(reg, spec)
	require.ErrorContains(t, err, "not a histogram")
}

// gauges gathers reg into name -> value, for metrics with one series.
func gauges(t *testing.T, reg prometheus.Gatherer) map[string]float64 {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if g := m.GetGauge(); g != nil {
				out[f.GetName()] = g.GetValue()
				for _, l := range m.GetLabel() {
					assert.Equal(t, "slo", l.GetName())
					assert.Equal(t, "command-ack", l.GetValue())
				}
			}
		}
	}
	return out
}

func TestOwnCollector(t *testing.T) {
	h := ackHistogram()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	reg.MustRegister(prom.NewOwnCollector(h, slo.DefaultOwnSpec()))

	// Before the first command the ratio and budget are absent, not 0.
	assert.Equal(t, map[string]float64{
		"ooda_own_slo_objective_ratio": 0.999,
		"ooda_own_slo_good_events":     0,
		"ooda_own_slo_events":          0,
	}, roundAll(gauges(t, reg)))

	observe(h, 9995, 200*time.Millisecond)
	observe(h, 5, 8*time.Second)
	assert.Equal(t, map[string]float64{
		"ooda_own_slo_objective_ratio":              0.999,
		"ooda_own_slo_good_events":                  9995,
		"ooda_own_slo_events":                       10000,
		"ooda_own_slo_sli_ratio":                    0.9995,
		"ooda_own_slo_error_budget_remaining_ratio": 0.5,
	}, roundAll(gauges(t, reg)))
}

// roundAll rounds to nine decimals, so that maps of measured values can be
// compared whole.
func roundAll(m map[string]float64) map[string]float64 {
	for k, v := range m {
		m[k] = math.Round(v*1e9) / 1e9
	}
	return m
}

// ackHistogram stands in for the bot's histogram of the same name: a bucket
// at the 3 s threshold, as OwnSLO needs.
func ackHistogram() prometheus.Histogram {
	return prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    slo.AckMetric,
		Help:    "Time from receiving an /incident command to acknowledging it, in seconds.",
		Buckets: []float64{.05, .1, .25, .5, 1, 2, 3, 5, 10},
	})
}
