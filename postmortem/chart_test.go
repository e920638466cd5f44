package postmortem_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

// incidentChart is the kind of chart a caller passes: an SLO's error
// ratio over the incident's window.
func incidentChart(t *testing.T) []byte {
	t.Helper()
	var pts []chart.Point
	for i := range 30 {
		pts = append(pts, chart.Point{T: declaredAt.Add(time.Duration(i-10) * time.Minute), V: 0.004 * float64(i%7)})
	}
	svg, err := chart.Line{
		Title: "checkout/availability error ratio during INC-7", Percent: true,
		Series:     []chart.Series{{Name: "error ratio over 5m", Points: pts}},
		Thresholds: []chart.Threshold{{Name: "page (6× burn)", Value: 0.006}},
	}.SVG()
	require.NoError(t, err)
	return svg
}

func TestDraftChart(t *testing.T) {
	s := richIncident(t)
	without := postmortem.Draft(s.inc, s.events, richOptions())
	opts := richOptions()
	opts.Chart = incidentChart(t)
	with := postmortem.Draft(s.inc, s.events, opts)

	page := string(with.HTML())
	require.Equal(t, 1, strings.Count(page, "<svg"), "the chart is inline")
	impact := page[strings.Index(page, `<section id="impact">`):]
	impact = impact[:strings.Index(impact, "</section>")]
	require.Contains(t, impact, `<figure class="chart"><svg`, "in the impact section")
	require.Contains(t, impact, `role="img"`)
	require.Contains(t, impact, "checkout/availability error ratio during INC-7")
	require.NotContains(t, string(without.HTML()), "<svg", "no chart given, none shown")

	require.Equal(t, without.Markdown(), with.Markdown(), "the Markdown is unaffected")
	wj, err := without.JSON()
	require.NoError(t, err)
	j, err := with.JSON()
	require.NoError(t, err)
	require.JSONEq(t, string(wj), string(j), "the JSON is unaffected")
}

func TestLookupChart(t *testing.T) {
	inc := incident.Incident{ID: "INC-7", Service: "checkout"}
	svg := []byte("<svg></svg>")
	require.Equal(t, svg, postmortem.LookupChart(t.Context(), inc, func(context.Context, incident.Incident) ([]byte, error) { return svg, nil }))
	require.Nil(t, postmortem.LookupChart(t.Context(), inc, func(context.Context, incident.Incident) ([]byte, error) {
		return nil, errors.New("prometheus unavailable")
	}), "a failed lookup leaves the chart out")
}
