package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/slo"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFreezeHandler(t *testing.T) {
	since := t0.Add(-time.Hour)
	lookup := func(_ context.Context, service string) (slo.FreezeStatus, bool, error) {
		switch service {
		case "checkout":
			return slo.FreezeStatus{Service: "checkout", Frozen: true, BudgetRemaining: ptr(-0.25), Since: &since, EvaluatedAt: t0}, true, nil
		case "search":
			return slo.FreezeStatus{Service: "search", EvaluatedAt: t0}, true, nil
		case "broken":
			return slo.FreezeStatus{}, false, errors.New("store closed")
		}
		return slo.FreezeStatus{}, false, nil
	}
	h := api.FreezeHandler(lookup)
	tests := []struct {
		name   string
		method string
		target string
		code   int
		body   string
	}{
		{"frozen", http.MethodGet, "/api/v1/freeze?service=checkout", 200,
			`{"service":"checkout","frozen":true,"budget_remaining":-0.25,"since":"2026-03-02T09:00:00Z","evaluated_at":"2026-03-02T10:00:00Z"}`},
		{"not frozen, budget unknown", http.MethodGet, "/api/v1/freeze?service=search", 200,
			`{"service":"search","frozen":false,"budget_remaining":null,"since":null,"evaluated_at":"2026-03-02T10:00:00Z"}`},
		{"no service", http.MethodGet, "/api/v1/freeze", 400, ""},
		{"blank service", http.MethodGet, "/api/v1/freeze?service=%20", 400, ""},
		{"unknown service", http.MethodGet, "/api/v1/freeze?service=payments", 404, ""},
		{"lookup fails", http.MethodGet, "/api/v1/freeze?service=broken", 503, ""},
		{"not a GET", http.MethodPost, "/api/v1/freeze?service=checkout", 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h(rec, httptest.NewRequest(tt.method, tt.target, nil))
			require.Equal(t, tt.code, rec.Code, rec.Body.String())
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
			if tt.body != "" {
				assert.JSONEq(t, tt.body, rec.Body.String())
				return
			}
			var e struct {
				OK    bool   `json:"ok"`
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
			assert.False(t, e.OK)
			assert.NotEmpty(t, e.Error)
		})
	}
}

// t0 is the evaluation time of the freezes above.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ptr(f float64) *float64 { return &f }
