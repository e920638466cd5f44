package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/chart"
	"github.com/ooda-sre/ooda/incident"
)

// TestPostmortemChart: with a chart lookup, the page and the HTML
// download show the chart of the incident's window inline; the Markdown
// does not, and does not ask for it.
func TestPostmortemChart(t *testing.T) {
	f := newPMFixture(t)
	asked := 0
	site, err := New(Config{
		Store: f.db, People: f.people, Now: func() time.Time { return listNow },
		PublicURL: "https://ooda.example.com", ClientID: "client", ClientSecret: "secret",
		PostmortemChart: func(ctx context.Context, inc incident.Incident) ([]byte, error) {
			asked++
			if _, ok := ctx.Deadline(); !ok {
				return nil, fmt.Errorf("no deadline")
			}
			if inc.Service != "checkout" {
				return nil, nil
			}
			return chart.Line{Title: "checkout/availability during " + inc.ID, Percent: true, Series: []chart.Series{{
				Name: "error ratio", Points: []chart.Point{{T: inc.DeclaredAt, V: 0.01}, {T: inc.DeclaredAt.Add(time.Hour), V: 0.002}},
			}}}.SVG()
		},
	})
	require.NoError(t, err)
	t.Cleanup(site.Close)
	mux := http.NewServeMux()
	site.Register(mux)

	code, body, _ := listGet(t, mux, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.full))
	require.Equal(t, http.StatusOK, code, body)
	impact := pmBetween(t, body, `<section id="impact"`, `</section>`)
	require.Contains(t, impact, `<figure class="chart pm-chart"><svg`)
	require.Contains(t, impact, `role="img"`)
	require.NotRegexp(t, styleAttr, body, "nothing the site's CSP blocks")

	code, body, _ = listGet(t, mux, f.cookie, fmt.Sprintf("/incidents/%d/postmortem?format=html", f.full))
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, 1, strings.Count(body, "<svg"), "the HTML draft carries the chart")

	before := asked
	code, body, _ = listGet(t, mux, f.cookie, fmt.Sprintf("/incidents/%d/postmortem?format=md", f.full))
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "<svg")
	require.Equal(t, before, asked, "the Markdown has no place for a chart: none is drawn")

	code, body, _ = listGet(t, mux, f.cookie, fmt.Sprintf("/incidents/%d/postmortem", f.cleanly))
	require.Equal(t, http.StatusOK, code)
	require.NotContains(t, body, "<svg", "no SLO for the service: no chart")
}
