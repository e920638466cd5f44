package slo_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/slotest"
)

func TestWriteTable(t *testing.T) {
	slos := parseSLOs(t, sloFile("checkout", 99.9, "availability", "latency"))
	ans := windows(0.0002, map[string]float64{"1h": 0.015, "5m": 0.015, "30d": 0.0004})
	delete(ans, "2h")
	ev := newEvaluator(t, &slotest.API{Answer: ans.Answer}, slos)
	rep, err := ev.Evaluate(t.Context(), t0)
	require.NoError(t, err)
	rep.Results[1] = slo.Result{SLO: "checkout/latency", Level: slo.LevelError, Err: errors.New("prometheus query: circuit breaker open")}

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
