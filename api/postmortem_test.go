package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

func TestPostmortemHandler(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := incident.Meta{At: t0, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	_, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Payments <down>", Severity: 1}, m)
	})
	require.NoError(t, err)
	now := func() time.Time { return t0.Add(2 * time.Hour) }

	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/incidents/{n}/postmortem", PostmortemHandler(db, now))
	get := func(target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, target, nil))
		return rec
	}

	tests := []struct {
		name, target, contentType, body string
		status                          int
	}{
		{"markdown by default", "/api/v1/incidents/1/postmortem", "text/markdown; charset=utf-8", "# Post-mortem: INC-1 — Payments \\<down\\>", http.StatusOK},
		{"markdown", "/api/v1/incidents/INC-1/postmortem?format=md", "text/markdown; charset=utf-8", "## Action Items", http.StatusOK},
		{"html", "/api/v1/incidents/1/postmortem?format=html", "text/html; charset=utf-8", "<h1>Post-mortem: INC-1 — Payments &lt;down&gt;</h1>", http.StatusOK},
		{"json", "/api/v1/incidents/1/postmortem?format=json", "application/json", `"generated_at": "2026-11-26T12:00:00Z"`, http.StatusOK},
		{"bad format", "/api/v1/incidents/1/postmortem?format=pdf", "application/json; charset=utf-8", "use md, html, json", http.StatusBadRequest},
		{"bad number", "/api/v1/incidents/seven/postmortem", "application/json; charset=utf-8", "INC-7", http.StatusBadRequest},
		{"unknown incident", "/api/v1/incidents/99/postmortem", "application/json; charset=utf-8", "INC-99 does not exist", http.StatusNotFound},
		{"bad format wins over unknown incident", "/api/v1/incidents/99/postmortem?format=doc", "application/json; charset=utf-8", "use md, html, json", http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := get(tt.target)
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			require.Equal(t, tt.contentType, rec.Header().Get("Content-Type"))
			require.Contains(t, rec.Body.String(), tt.body)
			if tt.status != http.StatusOK {
				var e struct {
					OK    bool   `json:"ok"`
					Error string `json:"error"`
				}
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
				require.NotEmpty(t, e.Error)
			}
		})
	}

	rec := get("/api/v1/incidents/1/postmortem?format=html")
	require.Equal(t, postmortem.ContentSecurityPolicy+"; frame-ancestors 'none'", rec.Header().Get("Content-Security-Policy"))
	require.Contains(t, rec.Body.String(), `<meta http-equiv="Content-Security-Policy" content="`+postmortem.ContentSecurityPolicy+`">`,
		"the page carries the header's policy, less what only a header can say")
	require.Equal(t, `inline; filename="inc-1-postmortem.html"`, rec.Header().Get("Content-Disposition"))
	require.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

// TestPostmortemHandlerAgreesWithExport: the API serves what the shared
// export path renders, byte for byte.
func TestPostmortemHandlerAgreesWithExport(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := incident.Meta{At: t0, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	_, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Queue backlog"}, m)
	})
	require.NoError(t, err)
	now := func() time.Time { return t0.Add(time.Hour) }
	h := PostmortemHandler(db, now)
	for _, format := range postmortem.Formats() {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/api/v1/incidents/1/postmortem?format="+format, nil)
		req.SetPathValue("n", "1")
		rec := httptest.NewRecorder()
		h(rec, req)
		require.Equal(t, http.StatusOK, rec.Code)
		want, _, err := postmortem.Export(ctx, db, 1, format, postmortem.Options{Now: now()})
		require.NoError(t, err)
		require.Equal(t, string(want), rec.Body.String(), format)
	}
}
