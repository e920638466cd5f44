package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestPostmortemHandlerChart: the HTML draft carries the chart the lookup
// draws, within a deadline; the Markdown and JSON neither carry nor ask
// for it.
func TestPostmortemHandlerChart(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := incident.Meta{At: t0, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	_, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Payments down", Severity: 1, Service: "payments"}, m)
	})
	require.NoError(t, err)
	asked := 0
	chart := func(ctx context.Context, inc incident.Incident) ([]byte, error) {
		asked++
		_, ok := ctx.Deadline()
		require.True(t, ok, "the chart is looked up within a deadline")
		require.Equal(t, "payments", inc.Service)
		return []byte(`<svg role="img" aria-label="payments"><title>payments</title></svg>`), nil
	}
	h := postmortemHandler(db, func() time.Time { return t0.Add(time.Hour) }, nil, nil, chart)
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/incidents/{n}/postmortem", h)
	get := func(target string) string {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return rec.Body.String()
	}

	require.Equal(t, 1, strings.Count(get("/api/v1/incidents/1/postmortem?format=html"), `<figure class="chart"><svg role="img"`))
	require.Equal(t, 1, asked)
	require.NotContains(t, get("/api/v1/incidents/1/postmortem?format=md"), "<svg")
	require.NotContains(t, get("/api/v1/incidents/1/postmortem?format=json"), "svg")
	require.Equal(t, 1, asked, "only the HTML asks for the chart")
}
