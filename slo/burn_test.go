package slo_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

func TestThresholdsFollowThePeriod(t *testing.T) {
	tests := []struct {
		period     time.Duration
		thresholds []float64
		pageQuick  [2]time.Duration
	}{
		{period: 30 * slo.Day, thresholds: []float64{14.4, 6, 3, 1}, pageQuick: [2]time.Duration{time.Hour, 5 * time.Minute}},
		{period: 28 * slo.Day, thresholds: []float64{13.44, 5.6, 2.8, 0.9333}, pageQuick: [2]time.Duration{time.Hour, 5 * time.Minute}},
		// Outside Sloth's catalog the windows scale and the thresholds stay.
		{period: 7 * slo.Day, thresholds: []float64{14.4, 6, 3, 1}, pageQuick: [2]time.Duration{14 * time.Minute, 70 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(slo.FormatWindow(tt.period), func(t *testing.T) {
			w := slo.DefaultWindows(tt.period)
			require.NoError(t, w.Validate())
			alerts := w.Alerts()
			require.Len(t, alerts, 4)
			for i, a := range alerts {
				assert.InDelta(t, tt.thresholds[i], a.Threshold, 1e-3, a.Name)
			}
			assert.Equal(t, tt.pageQuick, [2]time.Duration{w.PageQuick.Long, w.PageQuick.Short})
			// Each alert stands for the same share of the budget.
			for i, pct := range []float64{2, 5, 10, 10} {
				a := alerts[i]
				spent := a.Threshold * a.Window.Long.Hours() / tt.period.Hours() * 100
				assert.InDelta(t, pct, spent, 1e-9, a.Name)
			}
		})
	}
	assert.Equal(t, []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"}, formatAll(slo.DefaultWindows(0).Durations()))
}

func formatAll(ds []time.Duration) []string {
	var out []string
	for _, d := range ds {
		out = append(out, slo.FormatWindow(d))
	}
	return out
}

func TestAssess(t *testing.T) {
	w := slo.DefaultWindows(slo.DefaultPeriod)
	s := parseSLOs(t, sloFile("search", 99.9, "availability"))[0]
	noPage := s
	noPage.Alerting.Page.Disable = true

	const rps = 100.0
	uniform := func(ratio, perSecond float64) map[time.Duration]slo.Measurement {
		m := map[time.Duration]slo.Measurement{}
		for _, d := range w.Durations() {
			m[d] = slo.Measurement{ErrorRatio: ratio, Requests: perSecond * d.Seconds()}
		}
		return m
	}
	// oneFailure is one request failing in the last five minutes of a
	// service that serves perSecond requests.
	oneFailure := func(perSecond float64) map[time.Duration]slo.Measurement {
		m := map[time.Duration]slo.Measurement{}
		for _, d := range w.Durations() {
			n := perSecond * d.Seconds()
			m[d] = slo.Measurement{ErrorRatio: min(1, 1/n), Requests: n}
		}
		return m
	}
	with := func(m map[time.Duration]slo.Measurement, d time.Duration, ms slo.Measurement) map[time.Duration]slo.Measurement {
		m[d] = ms
		return m
	}
	nan := math.NaN()
	tests := []struct {
		name  string
		slo   slo.SLO
		m     map[time.Duration]slo.Measurement
		min   float64
		level slo.Level
	}{
		{"healthy", s, uniform(0.0001, rps), 100, slo.LevelOK},
		{"total outage pages", s, uniform(1, rps), 100, slo.LevelPage},
		{"nothing at all is no data, not burn 0", s, map[time.Duration]slo.Measurement{}, 100, slo.LevelNoData},
		{"NaN everywhere is no data", s, uniform(nan, nan), 100, slo.LevelNoData},
		{"a burning 1h without its 5m does not page fast", s,
			with(with(uniform(0.0001, rps), time.Hour, slo.Measurement{ErrorRatio: 0.05, Requests: 360000}), 5*time.Minute, slo.Measurement{ErrorRatio: nan, Requests: nan}),
			100, slo.LevelOK},
		{"one failed request at one an hour is low traffic, not a page", s, oneFailure(1.0 / 3600), 100, slo.LevelLowTraffic},
		{"with enough traffic in 3d the same failure is a ticket", s, oneFailure(3.0 / 3600), 100, slo.LevelTicket},
		{"low traffic with no errors is still low traffic", s, uniform(0, 0.01), 100, slo.LevelLowTraffic},
		{"the traffic check can be turned off", s, oneFailure(1.0 / 3600), 0, slo.LevelPage},
		{"unknown request counts (raw SLIs) are not low traffic", s, uniform(1, nan), 100, slo.LevelPage},
		{"a disabled page alert leaves the ticket", noPage, uniform(1, rps), 100, slo.LevelTicket},
		{"negative ratios are nonsense, not health", s, uniform(-1, rps), 100, slo.LevelNoData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := slo.Assess(tt.slo, w, tt.m, tt.min)
			assert.Equal(t, tt.level, r.Level)
			for _, wb := range r.Windows {
				if wb.Burn == 0 {
					assert.Zero(t, wb.ErrorRatio, "a burn of 0 only comes from a ratio of 0")
				}
			}
			if tt.level != slo.LevelPage && tt.level != slo.LevelTicket {
				assert.Empty(t, r.Alert.Name)
			}
		})
	}
}

func TestTimeToExhaustion(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name      string
		remaining float64
		burn      float64
		want      time.Duration
		ok        bool
	}{
		{"60 % left at 15× lasts 28.8h", 0.6, 15, 28*time.Hour + 48*time.Minute, true},
		{"a full budget at 1× lasts the period", 1, 1, 30 * slo.Day, true},
		{"spent is now", -0.2, 3, 0, true},
		{"no burn never runs out", 0.5, 0, 0, false},
		{"unknown burn", 0.5, nan, 0, false},
		{"unknown budget", nan, 2, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, ok := slo.TimeToExhaustion(tt.remaining, tt.burn, slo.DefaultPeriod)
			require.Equal(t, tt.ok, ok)
			assert.InDelta(t, tt.want.Hours(), d.Hours(), 1e-6)
		})
	}
}

func TestBurnRateOfNoDataIsUnknown(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), -0.5} {
		assert.True(t, math.IsNaN(slo.BurnRate(v, 0.001)), "%v", v)
	}
	assert.InDelta(t, 15, slo.BurnRate(0.015, slo.ErrorBudget(99.9)), 1e-9)
	assert.True(t, math.IsNaN(slo.BudgetRemaining(math.NaN(), 0.001)))
}
