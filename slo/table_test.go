package slo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
)

func TestWriteTable(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency"))
	// What Prometheus would say: 0.02 % errors at 100 requests a second,
	// 1.5 % in the fast page's windows, 0.04 % over the period, and
	// nothing for 2h.
	w := slo.DefaultWindows(slo.DefaultPeriod)
	m := map[time.Duration]slo.Measurement{}
	for _, d := range w.Durations() {
		m[d] = slo.Measurement{ErrorRatio: 0.0002, Requests: 100 * d.Seconds()}
	}
	for d, ratio := range map[time.Duration]float64{time.Hour: 0.015, 5 * time.Minute: 0.015, w.Period: 0.0004} {
		m[d] = slo.Measurement{ErrorRatio: ratio, Requests: 100 * d.Seconds()}
	}
	delete(m, 2*time.Hour)
	rep := slo.Report{At: t0, Results: []slo.Result{slo.Assess(slos[0], w, m, 100)}}
	rep.Results = append(rep.Results, slo.Result{SLO: "checkout/latency", Level: slo.LevelError, Err: errors.New("prometheus query: circuit breaker open")})

	var b strings.Builder
	require.NoError(t, slo.WriteTable(&b, rep))
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, []string{"SLO", "STATE", "5m", "30m", "1h", "2h", "6h", "1d", "3d", "BUDGET", "EXHAUSTS", "IN", "FILE"}, strings.Fields(lines[0]))
	assert.Equal(t, []string{"checkout/availability", "page", "15.0×", "0.20×", "15.0×", "-", "0.20×", "0.20×", "0.20×", "60.0%", "1d5h", "TestWriteTable.yaml"}, strings.Fields(lines[1]))
	assert.Contains(t, lines[2], "checkout/latency")
	assert.Contains(t, lines[2], "error")
	assert.Contains(t, lines[2], "circuit breaker open")
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		28*time.Hour + 48*time.Minute: "1d5h",
		48 * time.Hour:                "2d",
		47*time.Hour + 50*time.Minute: "2d",
		2*time.Hour + 30*time.Minute:  "2h30m",
		2 * time.Hour:                 "2h",
		45 * time.Minute:              "45m",
		40 * time.Second:              "40s",
	} {
		assert.Equal(t, want, slo.FormatDuration(d), d.String())
	}
}
