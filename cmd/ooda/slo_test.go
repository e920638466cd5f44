package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/slotest"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func runTool(t *testing.T, fn func(context.Context, []string, io.Writer, io.Writer) error, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := fn(t.Context(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// fakePrometheus answers every window with the same error ratio, at 100
// requests a second.
func fakePrometheus(t *testing.T, ratio float64) string {
	t.Helper()
	return slotest.NewServer(t, slotest.Uniform(slo.DefaultWindows(0), ratio, 100).Answer).URL
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return "http://" + addr
}

func TestSLOCheck(t *testing.T) {
	t.Setenv("PROMETHEUS_URL", "")
	sloth := writeFile(t, "checkout.yaml", checkoutSLOs)
	healthy := fakePrometheus(t, 0.0001)
	burning := fakePrometheus(t, 0.05)
	oodaConfig := writeFile(t, "ooda.yaml", fmt.Sprintf("slo_files: [%s]\nprometheus_url: %s\n", sloth, burning))
	batch := writeFile(t, "batch.yaml", strings.Replace(checkoutSLOs, "objective: 99.9", "objective: 90", 1))
	broken := writeFile(t, "broken.yaml", strings.Replace(checkoutSLOs, "objective: 99.9", "objective: 120", 1))

	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string
		stderr  []string
		errText string
	}{
		{"healthy", []string{"check", "--config", sloth, "--prometheus", healthy}, 0,
			[]string{"1 SLOs at", "checkout/availability", "ok", "90.0%"}, nil, ""},
		{"paging exits 1", []string{"check", "--config", sloth, "--prometheus", burning}, 1,
			[]string{"checkout/availability", "page", "50.0×", "spent"}, nil, "paging: checkout/availability"},
		{"an ooda configuration names the files and Prometheus", []string{"check", "--config", oodaConfig}, 1,
			[]string{"checkout/availability", "page"}, nil, ""},
		{"the flag beats the configuration", []string{"check", "--config", oodaConfig, "--prometheus", healthy}, 0,
			[]string{"ok"}, nil, ""},
		{"files may also follow the flags", []string{"check", "--prometheus", healthy, sloth}, 0, []string{"ok"}, nil, ""},
		{"a hopeless objective warns", []string{"check", "--config", batch, "--prometheus", healthy}, 0,
			nil, []string{"warning: " + batch + `: slo "availability": objective 90%`}, ""},
		{"Prometheus down exits 2", []string{"check", "--config", sloth, "--prometheus", closedPort(t)}, 2,
			nil, nil, "prometheus unavailable"},
		{"a bad file exits 2 and names the field", []string{"check", "--config", broken, "--prometheus", healthy}, 2,
			nil, []string{"error: " + broken + `:4: slo "availability": objective: 120: want a percentage above 0 and below 100`}, "no SLO could be loaded from " + broken},
		{"no files", []string{"check", "--prometheus", healthy}, 2, nil, nil, "name the SLO files"},
		{"no Prometheus", []string{"check", "--config", sloth}, 2, nil, nil, "--prometheus URL"},
		{"bad period", []string{"check", "--config", sloth, "--prometheus", healthy, "--period", "a month"}, 2, nil, nil, "--period"},
		{"not check", []string{"frobnicate"}, 2, nil, []string{"Usage: ooda slo check"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := runTool(t, runSLO, tt.args...)
			if tt.code == 0 {
				require.NoError(t, err, "stderr: %s", errOut)
			} else {
				require.Error(t, err)
				assert.Equal(t, tt.code, exitCode(err), err.Error())
			}
			for _, want := range tt.stdout {
				assert.Contains(t, out, want)
			}
			for _, want := range tt.stderr {
				assert.Contains(t, errOut, want)
			}
			if tt.errText != "" {
				assert.Contains(t, err.Error(), tt.errText)
			}
		})
	}
}

func TestSLOCheckAgainstRealPrometheus(t *testing.T) {
	end := time.Date(2025, 1, 10, 12, 0, 0, 0, time.UTC)
	prom := slotest.StartPrometheus(t, slotest.History(end.Add(-2*slo.Day), end, time.Minute, slotest.Profile{
		Service: "checkout", RPS: 100,
		ErrorRatio: func(at time.Time) float64 {
			if at.After(end.Add(-time.Hour)) {
				return 0.03
			}
			return 0.0001
		},
	}))
	sloth := writeFile(t, "checkout.yaml", checkoutSLOs)
	run := func(at time.Time) (string, error) {
		out, _, err := runTool(t, runSLO,
			"check", "--config", sloth, "--prometheus", prom.URL, "--at", at.Format(time.RFC3339))
		return out, err
	}
	out, err := run(end)
	require.Error(t, err)
	assert.Equal(t, 1, exitCode(err), out)
	assert.Contains(t, out, "page")

	out, err = run(end.Add(-2 * time.Hour))
	require.NoError(t, err, out)
	assert.Contains(t, out, " ok ")
}

// freezeServer serves /api/v1/freeze with bearer auth, as ooda serve
// mounts it.
func freezeServer(t *testing.T, lookup api.FreezeLookup) string {
	t.Helper()
	h := api.FreezeHandler(lookup)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer freeze-token-0123456789" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"ok":false,"error":"missing or wrong bearer token"}`)
			return
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFreezeCheck(t *testing.T) {
	t.Setenv("OODA_API_TOKEN", "freeze-token-0123456789")
	now := time.Now().UTC()
	since := now.Add(-3 * time.Hour)
	spent, left := -0.25, 0.42
	base := freezeServer(t, func(_ context.Context, service string) (slo.FreezeStatus, bool, error) {
		switch service {
		case "checkout":
			return slo.FreezeStatus{Service: service, Frozen: true, BudgetRemaining: &spent, Since: &since, EvaluatedAt: now}, true, nil
		case "search":
			return slo.FreezeStatus{Service: service, BudgetRemaining: &left, EvaluatedAt: now}, true, nil
		case "stale":
			return slo.FreezeStatus{Service: service, BudgetRemaining: &left, EvaluatedAt: now.Add(-2 * time.Hour)}, true, nil
		case "new":
			return slo.FreezeStatus{Service: service}, true, nil
		}
		return slo.FreezeStatus{}, false, nil
	})
	hanging := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	t.Cleanup(hanging.Close)

	tests := []struct {
		name    string
		args    []string
		token   string
		code    int
		stdout  string
		errText string
	}{
		{"deploys may go", []string{"--service", "search"}, "", 0, "search may deploy: 42.0% of its error budget left", ""},
		{"frozen", []string{"--service", "checkout"}, "", 1, "checkout is frozen since " + since.Format(time.RFC3339), "checkout is frozen"},
		{"unknown service", []string{"--service", "payments"}, "", 2, "", "no SLO names the service payments"},
		{"stale status", []string{"--service", "stale"}, "", 2, "", "more than --max-age 15m0s"},
		{"stale accepted", []string{"--service", "stale", "--max-age", "0"}, "", 0, "stale may deploy", ""},
		{"never evaluated", []string{"--service", "new"}, "", 2, "", "not been evaluated yet"},
		{"wrong token", []string{"--service", "search"}, "nope", 2, "", "401"},
		{"no token", []string{"--service", "search"}, "-", 2, "", "OODA_API_TOKEN"},
		{"server down", []string{"--service", "search", "--url", closedPort(t)}, "", 2, "", "cannot reach the ooda server"},
		{"server hangs", []string{"--service", "search", "--url", hanging.URL, "--timeout", "200ms"}, "", 2, "", "did not answer within 200ms"},
		{"no service", nil, "", 2, "", "--service NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch tt.token {
			case "-":
				t.Setenv("OODA_API_TOKEN", "")
			case "":
			default:
				t.Setenv("OODA_API_TOKEN", tt.token)
			}
			args := append([]string{"check", "--url", base}, tt.args...)
			start := time.Now()
			out, _, err := runTool(t, runFreeze, args...)
			assert.Less(t, time.Since(start), 5*time.Second)
			if tt.code == 0 {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
				assert.Equal(t, tt.code, exitCode(err), err.Error())
				assert.Contains(t, err.Error(), tt.errText)
			}
			assert.Contains(t, out, tt.stdout)
		})
	}
}

// checkoutSLOs is a Sloth file with one availability SLO for checkout.
const checkoutSLOs = slotest.CheckoutSLOFile
