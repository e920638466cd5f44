package app

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
	"github.com/ooda-sre/ooda/slo/slotest"
)

// TestSLOChartGlue: the chart of a page warning is a PNG of its SLO, and
// the chart of an incident's window an SVG of its service's SLO; a
// service without SLOs has none, without an error.
func TestSLOChartGlue(t *testing.T) {
	slos := slotest.Parse(t, slotest.SlothFile("checkout", 99.9, "availability"))
	g, err := resilience.New(resilience.DefaultPolicy(resilience.DependencyPrometheus))
	require.NoError(t, err)
	api := &slotest.API{Answer: func(_ string, ts time.Time) (model.Value, error) {
		return model.Vector{{Value: 0.002, Timestamp: model.TimeFromUnixNano(ts.UnixNano())}}, nil
	}}
	ev, err := prom.NewEvaluator(prom.Config{API: api, Guard: g, SLOs: slos})
	require.NoError(t, err)
	now := slotest.T0
	a := &App{evaluator: ev, opts: Options{Now: func() time.Time { return now }}}

	png, err := a.sloChartPNG(t.Context(), slo.Notice{SLO: "checkout/availability", At: now})
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(png, []byte("\x89PNG")))
	_, err = a.sloChartPNG(t.Context(), slo.Notice{SLO: "search/latency", At: now})
	require.ErrorIs(t, err, slo.ErrUnknownService)

	svg, err := a.postmortemChart(context.Background(), incident.Incident{ID: "INC-1", Service: "checkout", DeclaredAt: now.Add(-2 * time.Hour)})
	require.NoError(t, err)
	require.Contains(t, string(svg), `role="img"`)
	none, err := a.postmortemChart(t.Context(), incident.Incident{ID: "INC-2", Service: "search", DeclaredAt: now.Add(-time.Hour)})
	require.NoError(t, err)
	require.Nil(t, none)
}
