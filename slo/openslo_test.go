package slo_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

// The parts of OpenSLO files the cases below vary.
const (
	v1alphaHead = "apiVersion: openslo/v1alpha\nkind: SLO\nmetadata:\n  name: availability\nspec:\n  service: checkout\n"
	v1alphaGood = "    - ratioMetrics:\n        good:\n          source: prometheus\n          queryType: promql\n          query: sum(rate(ok[{{.window}}]))\n" +
		"        total:\n          source: prometheus\n          queryType: promql\n          query: sum(rate(all[{{.window}}]))\n"
	v1Head = "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: availability\nspec:\n  service: checkout\n  budgetingMethod: Occurrences\n"
	v1Bad  = "  indicator:\n    metadata:\n      name: errors\n    spec:\n      ratioMetric:\n        bad:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(rate(failed[{{.window}}]))\n" +
		"        total:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(rate(all[{{.window}}]))\n"
	v1Objective = "  objectives:\n    - target: 0.999\n"
)

func TestOpenSLOAndKubernetesForms(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		problem string // empty: accepted
		check   func(t *testing.T, s slo.SLO)
	}{
		{name: "v1alpha, as Sloth reads it", yaml: v1alphaHead + "  budgetingMethod: Occurrences\n  objectives:\n" + v1alphaGood + "      target: 0.995\n  timeWindows:\n    - count: 4\n      unit: Week\n",
			check: func(t *testing.T, s slo.SLO) {
				assert.Equal(t, "checkout/availability-0", s.ID)
				assert.Equal(t, 99.5, s.Objective)
				assert.Equal(t, 28*slo.Day, s.Period)
				assert.Equal(t, slo.SLI{GoodQuery: "sum(rate(ok[{{.window}}]))", TotalQuery: "sum(rate(all[{{.window}}]))"}, s.SLI)
			}},
		{name: "v1alpha without a time window takes the configured period", yaml: v1alphaHead + "  objectives:\n" + v1alphaGood + "      target: 0.99\n",
			check: func(t *testing.T, s slo.SLO) { assert.Zero(t, s.Period) }},
		{name: "v1alpha Timeslices", yaml: v1alphaHead + "  budgetingMethod: Timeslices\n  objectives:\n" + v1alphaGood + "      target: 0.99\n",
			problem: `b.yaml:1: slo "availability": spec.budgetingMethod: Timeslices: Timeslices budgeting counts good periods, not good events; Ooda measures the ratio of good events (budgetingMethod: Occurrences)`},
		{name: "v1alpha calendar window", yaml: v1alphaHead + "  objectives:\n" + v1alphaGood + "      target: 0.99\n  timeWindows:\n    - count: 1\n      unit: Month\n      calendar:\n        startTime: 2026-01-01 00:00:00\n        timeZone: UTC\n",
			problem: `spec.timeWindows[0].calendar: calendar-aligned windows are not supported: Ooda's burn-rate alerts and error budget are measured over a rolling period; use a rolling window (isRolling: true), such as 30d`},
		{name: "v1alpha month", yaml: v1alphaHead + "  objectives:\n" + v1alphaGood + "      target: 0.99\n  timeWindows:\n    - count: 1\n      unit: Month\n",
			problem: `spec.timeWindows[0].unit: "Month": a rolling window is counted in Day or Week units (a month has no fixed length: write count: 30, unit: Day)`},
		{name: "v1alpha target as a percentage", yaml: v1alphaHead + "  objectives:\n" + v1alphaGood + "      target: 99.9\n",
			problem: `b.yaml:8: slo "availability-0": spec.objectives[0].target: 99.9: want a ratio above 0 and below 1, such as 0.999 for 99.9%`},
		{name: "v1alpha thresholdMetric", yaml: v1alphaHead + "  indicator:\n    thresholdMetric:\n      source: prometheus\n      queryType: promql\n      query: latency\n  objectives:\n" + v1alphaGood + "      target: 0.99\n",
			problem: `spec.indicator: a thresholdMetric compares single values against a threshold; Ooda measures ratios of events: use objectives[].ratioMetrics`},
		{name: "v1alpha query without the window", yaml: v1alphaHead + "  objectives:\n    - ratioMetrics:\n        good:\n          source: prometheus\n          queryType: promql\n          query: sum(ok)\n        total:\n          source: prometheus\n          queryType: promql\n          query: sum(rate(all[{{.window}}]))\n      target: 0.99\n",
			problem: `spec.objectives[0].ratioMetrics.good.query: does not use {{.window}}: OpenSLO leaves the window to the tool that evaluates the SLO, and Ooda puts it where the query says, as in sum(rate(http_requests_total[{{.window}}]))`},
		{name: "v1alpha another source", yaml: v1alphaHead + "  objectives:\n" + `    - ratioMetrics:
        good: {source: datadog, queryType: promql, query: "sum(rate(ok[{{.window}}]))"}
        total: {source: prometheus, queryType: promql, query: "sum(rate(all[{{.window}}]))"}
      target: 0.99
`, problem: `spec.objectives[0].ratioMetrics.good.source: "datadog": Ooda queries Prometheus; want source: prometheus`},
		{name: "v1alpha good is total", yaml: v1alphaHead + "  objectives:\n" + `    - ratioMetrics:
        good: {source: prometheus, queryType: promql, query: "sum(rate(all[{{.window}}]))"}
        total: {source: prometheus, queryType: promql, query: "sum(rate(all[{{.window}}]))"}
      target: 0.99
`, problem: `spec.objectives[0].ratioMetrics.good.query: the same query as total: no request could ever count as an error, so the SLO would never burn`},
		{name: "v1alpha one bad objective of two", yaml: v1alphaHead + "  objectives:\n" + v1alphaGood + "      target: 0.99\n" + v1alphaGood + "      target: 1.5\n",
			problem: `slo "availability-1": spec.objectives[1].target: 1.5`,
			check:   func(t *testing.T, s slo.SLO) { assert.Equal(t, "availability-0", s.Name) }},

		{name: "v1 inline bad and total", yaml: v1Head + v1Bad + "  timeWindow:\n    - duration: 4w\n      isRolling: true\n" + v1Objective,
			check: func(t *testing.T, s slo.SLO) {
				assert.Equal(t, 28*slo.Day, s.Period)
				assert.Equal(t, slo.SLI{ErrorQuery: "sum(rate(failed[{{.window}}]))", TotalQuery: "sum(rate(all[{{.window}}]))"}, s.SLI)
				assert.Equal(t, 99.9, s.Objective)
			}},
		{name: "v1 targetPercent", yaml: v1Head + v1Bad + "  objectives:\n    - targetPercent: 99.5\n",
			check: func(t *testing.T, s slo.SLO) { assert.Equal(t, 99.5, s.Objective) }},
		{name: "v1 raw success ratio", yaml: v1Head + "  indicator:\n    spec:\n      ratioMetric:\n        rawType: success\n        raw:\n          metricSource:\n            type: prometheus\n            spec:\n              query: avg_over_time(success_ratio[{{.window}}])\n" + v1Objective,
			check: func(t *testing.T, s slo.SLO) {
				assert.Equal(t, "1 - (\navg_over_time(success_ratio[{{.window}}])\n)", s.SLI.ErrorRatioQuery)
			}},
		{name: "v1 indicatorRef to nothing", yaml: v1Head + "  indicatorRef: checkout-errors\n" + v1Objective,
			problem: `b.yaml:1: slo "availability": spec.indicatorRef: "checkout-errors": no SLI of that name in the SLO files; define it (apiVersion: openslo/v1, kind: SLI) in one of them, or inline it under spec.indicator`},
		{name: "v1 thresholdMetric", yaml: v1Head + "  indicator:\n    spec:\n      thresholdMetric:\n        metricSource:\n          type: Prometheus\n          spec:\n            query: latency\n" + v1Objective,
			problem: `spec.indicator.spec.thresholdMetric: a thresholdMetric compares single values against a threshold; Ooda measures ratios of events: use a ratioMetric with good (or bad) and total queries`},
		{name: "v1 Timeslices", yaml: "apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: availability\nspec:\n  service: checkout\n  budgetingMethod: Timeslices\n" + v1Bad + "  objectives:\n    - target: 0.999\n      timeSliceTarget: 0.95\n      timeSliceWindow: 1m\n",
			problem: `spec.budgetingMethod: Timeslices: Timeslices budgeting counts good periods`},
		{name: "v1 calendar window", yaml: v1Head + v1Bad + "  timeWindow:\n    - duration: 1M\n      calendar:\n        startTime: 2026-01-01 00:00:00\n        timeZone: UTC\n" + v1Objective,
			problem: `spec.timeWindow[0]: calendar-aligned windows are not supported`},
		{name: "v1 a month", yaml: v1Head + v1Bad + "  timeWindow:\n    - duration: 1M\n      isRolling: true\n" + v1Objective,
			problem: `spec.timeWindow[0].duration: "1M": months, quarters and years have no fixed length; write the rolling window in days or weeks, such as 30d`},
		{name: "v1 a period under a day", yaml: v1Head + v1Bad + "  timeWindow:\n    - duration: 12h\n      isRolling: true\n" + v1Objective,
			problem: `spec.timeWindow[0].duration: 12h: an SLO period must be a day or more`},
		{name: "v1 not Prometheus", yaml: v1Head + "  indicator:\n    spec:\n      ratioMetric:\n        good:\n          metricSource:\n            type: Datadog\n            spec:\n              query: sum:ok\n        total:\n          metricSource:\n            type: Datadog\n            spec:\n              query: sum:all\n" + v1Objective,
			problem: `spec.indicator.spec.ratioMetric.good: metricSource.type "Datadog": Ooda queries Prometheus only`},
		{name: "v1 query without the window", yaml: v1Head + "  indicator:\n    spec:\n      ratioMetric:\n        good:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(http_requests_total{code=\"200\"})\n        total:\n          metricSource:\n            type: Prometheus\n            spec:\n              query: sum(rate(all[{{.window}}]))\n" + v1Objective,
			problem: `spec.indicator.spec.ratioMetric.good: metricSource.spec.query: does not use {{.window}}: OpenSLO leaves the window to the tool that evaluates the SLO`},
		{name: "v1 composite objective", yaml: v1Head + v1Bad + "  objectives:\n    - target: 0.999\n      indicatorRef: other\n      compositeWeight: 1\n",
			problem: `spec.objectives[0].indicator: an indicator per objective makes a composite SLO, which Ooda does not evaluate`},
		{name: "v1 a typo", yaml: v1Head + v1Bad + "  objectives:\n    - targt: 0.999\n",
			problem: `slo "availability-0": spec.objectives[0].targt: not a field of the OpenSLO openslo/v1 format; did you mean target?`},
		{name: "v1 another kind", yaml: "apiVersion: openslo/v1\nkind: Dashboard\nmetadata:\n  name: x\n",
			problem: `b.yaml:1: kind: "Dashboard" is not an OpenSLO v1 kind; Ooda reads SLO, SLI and DataSource objects (and skips Service and the alerting kinds)`},

		{name: "Kubernetes without a spec", yaml: "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nmetadata:\n  name: x\n",
			problem: `b.yaml:1: spec: missing; the Sloth spec goes under spec:`},
		{name: "Kubernetes with a version", yaml: "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevel\nspec:\n  version: prometheus/v1\n  service: checkout\n  slos: []\n",
			problem: `b.yaml:4: spec.version: not a field of the Sloth Kubernetes PrometheusServiceLevel (sloth.slok.dev/v1) format; the fields here are labels, service, sloPlugins, slos`},
		{name: "Kubernetes another kind", yaml: "apiVersion: sloth.slok.dev/v1\nkind: PrometheusServiceLevelList\n",
			problem: `kind: "PrometheusServiceLevelList": Ooda reads the PrometheusServiceLevel resources of sloth.slok.dev/v1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slos, _, err := slo.Parse("b.yaml", []byte(tt.yaml))
			if tt.problem == "" {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.problem)
			}
			if tt.check != nil {
				require.Len(t, slos, 1)
				require.NoError(t, slos[0].Validate())
				tt.check(t, slos[0])
			}
		})
	}
}

func TestParsePeriod(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * slo.Day, "4w": 28 * slo.Day, "720h": 30 * slo.Day, "1d12h": 36 * time.Hour, "1y": 365 * slo.Day} {
		got, err := slo.ParsePeriod(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for in, want := range map[string]string{
		"":        `"": want a duration such as 30d, 4w or 720h`,
		"a month": `"a month": want a duration`,
		"30":      `"30": want a duration`,
		"12h":     "12h: an SLO period must be a day or more",
		"1h1d":    `"1h1d": want a duration`,
		"30D":     `"30D": want a duration`,
	} {
		_, err := slo.ParsePeriod(in)
		require.Error(t, err, in)
		assert.Contains(t, err.Error(), want, in)
	}
}
