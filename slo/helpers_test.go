package slo_test

import (
	"testing"
	"time"

	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// window parses a PromQL duration: 5m, 1d.
func window(t testing.TB, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	require.NoError(t, err)
	return time.Duration(d)
}

// The SLO fixtures every SLO test shares.
var (
	t0        = slotest.T0
	sloFile   = slotest.SlothFile
	parseSLOs = slotest.Parse
)
