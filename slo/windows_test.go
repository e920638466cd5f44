package slo_test

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"

	"github.com/ooda-sre/ooda/slo"
)

// FormatWindow writes its own durations to keep Prometheus's common module
// out of the package; it must write them exactly as Prometheus does.
func TestFormatWindowWritesWhatPrometheusWrites(t *testing.T) {
	for _, d := range []time.Duration{
		0, time.Millisecond, 1500 * time.Millisecond, 70 * time.Second, 5 * time.Minute,
		time.Hour, 90 * time.Minute, slo.Day, 3 * slo.Day, 7 * slo.Day, 28 * slo.Day,
		30 * slo.Day, 90 * slo.Day, 365 * slo.Day, 730 * slo.Day, 366 * slo.Day,
		-2 * time.Hour, 500 * time.Microsecond,
		slo.DefaultWindows(7 * slo.Day).PageQuick.Short,
	} {
		assert.Equal(t, model.Duration(d).String(), slo.FormatWindow(d), "%v", d)
	}
}

// ParseDuration reads what Prometheus reads, and refuses what it refuses.
func TestParseDurationReadsWhatPrometheusReads(t *testing.T) {
	for _, s := range []string{
		"0", "30d", "28d", "4w", "1y", "720h", "90m", "1d12h", "1h30m15s", "250ms", "1w2d3h4m5s6ms",
		"", "d", "30", "1h1d", "1d1d", "30D", "1.5d", "-1d", "1 d", "1mm", "99999999999999999999d", "5m30",
	} {
		want, werr := model.ParseDuration(s)
		got, err := slo.ParseDuration(s)
		if werr != nil {
			assert.Error(t, err, "%q: Prometheus refuses it", s)
			continue
		}
		if assert.NoError(t, err, s) {
			assert.Equal(t, time.Duration(want), got, s)
		}
	}
}
