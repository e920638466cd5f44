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
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/app"
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
	refusing := slotest.NewServer(t, func(string, time.Time) (model.Value, error) {
		return nil, slotest.BadQuery("1:1: parse error: unexpected character")
	}).URL
	week := slotest.Uniform(slo.DefaultWindows(7*slo.Day), 0.0001, 100)
	for k, v := range slotest.Uniform(slo.DefaultWindows(0), 0.0001, 100) {
		week[k] = v
	}
	healthy = slotest.NewServer(t, week.Answer).URL
	weekly := writeFile(t, "ooda.yaml", fmt.Sprintf("slo_files: [%s]\nslo_period: 7d\n", sloth))

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
		{"no Prometheus", []string{"check", "--config", sloth}, 2, nil, nil, "no Prometheus to ask: pass --prometheus URL or set PROMETHEUS_URL (ooda slo validate checks the files alone)"},
		{"the files are read before Prometheus is asked for", []string{"check", "--config", broken}, 2,
			nil, []string{"error: " + broken + `:4: slo "availability": objective: 120`}, "no SLO could be loaded"},
		{"a query Prometheus refuses is a configuration error", []string{"check", "--config", sloth, "--prometheus", refusing}, 2,
			[]string{"checkout/availability", "config_error", "Prometheus refused its query as invalid (1:1: parse error: unexpected character)"}, nil,
			"Prometheus refused the queries of checkout/availability (configuration errors: correct them in their files)"},
		{"the configuration's period", []string{"check", "--config", weekly, "--prometheus", healthy}, 0,
			[]string{"period 1w", "1m10s", "14m"}, nil, ""},
		{"the flag's period", []string{"check", "--config", sloth, "--prometheus", healthy, "--period", "28d"}, 0,
			[]string{"period 4w"}, nil, ""},
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

func TestSLOValidate(t *testing.T) {
	examples := filepath.Join("..", "..", "slo", "testdata", "sloth", "examples")
	forms := filepath.Join("..", "..", "slo", "testdata", "forms")
	getting := filepath.Join(examples, "getting-started.yml")
	k8s := filepath.Join(examples, "k8s-home-wifi.yml")
	openslo := filepath.Join(examples, "openslo-kubernetes-apiserver.yml")
	plugin := filepath.Join(examples, "plugin-getting-started.yml")
	lying := writeFile(t, "lying.yaml", strings.Replace(checkoutSLOs, `,code=~"5.."`, "", 1))
	junk := writeFile(t, "junk.yaml", "groups:\n  - name: checkout\n")
	oodaConfig := writeFile(t, "ooda.yaml", fmt.Sprintf("slo_files: [%s, %s]\nslo_period: 28d\n", getting, filepath.Join(forms, "openslo-v1alpha.yaml")))
	// Helm output opens with an empty document; serve reads the SLOs
	// after it, and so must validate.
	helm := writeFile(t, "helm.yaml", "---\n---\n"+checkoutSLOs)
	empty := writeFile(t, "empty.yaml", "")
	endsInSeparator := writeFile(t, "ooda.yaml", fmt.Sprintf("slo_files: [%s]\n---\n", getting))

	tests := []struct {
		name    string
		args    []string
		code    int
		stdout  []string
		errText string
	}{
		{"a Sloth file", []string{"validate", getting}, 0, []string{
			getting + ": Sloth prometheus/v1: 1 SLO(s): myservice/requests-availability",
			"1 of 1 file(s) valid, 1 SLO(s), period 30d unless a file gives its own",
		}, ""},
		{"the three forms at once", []string{"validate", getting, k8s, openslo}, 0, []string{
			k8s + ": Sloth Kubernetes PrometheusServiceLevel (sloth.slok.dev/v1): 2 SLO(s): home-wifi/good-wifi-client-satisfaction, home-wifi/risk-wifi-client-satisfaction",
			openslo + ": OpenSLO openslo/v1alpha: 3 SLO(s): k8s-apiserver/requests-availability-openslo-0 (period 30d)",
			"3 of 3 file(s) valid, 6 SLO(s)",
		}, ""},
		{"an OpenSLO SLI in another file", []string{"validate", filepath.Join(forms, "openslo-v1.yaml"), filepath.Join(forms, "openslo-v1-sli.yaml")}, 0, []string{
			"openslo-v1.yaml: OpenSLO openslo/v1: 1 SLO(s): checkout/availability-0 (period 30d)",
			"openslo-v1-sli.yaml: OpenSLO openslo/v1: no SLO",
		}, ""},
		{"every problem listed, the good files too", []string{"validate", getting, plugin, lying, junk}, 1, []string{
			getting + ": Sloth prometheus/v1: 1 SLO(s)",
			plugin + `: Sloth prometheus/v1: no SLO; INVALID, 1 problem(s):`,
			"  error: " + plugin + `:9: slo "requests-availability": sli.plugin: Ooda cannot evaluate the SLI plugin "getting_started_availability"`,
			"  error: " + lying + `:4: slo "availability": sli.events.error_query: the same query as total_query: every request would count as an error, a burn of 1000× on every window`,
			junk + ": no SLO; INVALID, 1 problem(s):",
			"  error: " + junk + ":1: not an SLO file Ooda reads (it has neither version: nor apiVersion:); want a Sloth spec (version: prometheus/v1), a Kubernetes PrometheusServiceLevel (apiVersion: sloth.slok.dev/v1) or an OpenSLO SLO (apiVersion: openslo/v1alpha or openslo/v1)",
			"1 of 4 file(s) valid",
		}, "3 of 4 SLO file(s) invalid, 3 problem(s): correct them as listed above"},
		{"warnings do not fail", []string{"validate", filepath.Join(examples, "slo-plugin-getting-started.yml")}, 0, []string{
			"  warning: ", "Sloth SLO plugins ignored (sloth.dev/core/debug/v1)",
		}, ""},
		{"a missing file", []string{"validate", filepath.Join(t.TempDir(), "gone.yaml")}, 1, []string{
			"gone.yaml: cannot read it: no such file; check the path in slo_files (OODA_SLO_FILES)",
		}, "1 of 1 SLO file(s) invalid"},
		{"an ooda configuration names the files and the period", []string{"validate", "--config", oodaConfig}, 0, []string{
			"checkout/availability-0 (period 30d)", "period 4w unless a file gives its own",
		}, ""},
		{"the period judges the alerts", []string{"validate", "--period", "7d", filepath.Join(examples, "home-wifi.yml")}, 0, []string{
			"period 1w unless",
		}, ""},
		{"a bad period", []string{"validate", "--period", "12h", getting}, 2, nil, "--period: 12h: an SLO period must be a day or more"},
		{"an SLO document after an empty one", []string{"validate", helm}, 0, []string{
			helm + ": Sloth prometheus/v1: 1 SLO(s): checkout/availability",
		}, ""},
		{"an empty file is reported, the others validated", []string{"validate", getting, empty}, 1, []string{
			getting + ": Sloth prometheus/v1: 1 SLO(s)",
			empty + ": no SLO; INVALID, 1 problem(s):",
			"  error: " + empty + ": the file is empty",
		}, "1 of 2 SLO file(s) invalid"},
		{"a configuration ending in ---", []string{"validate", "--config", endsInSeparator}, 0, []string{
			getting + ": Sloth prometheus/v1: 1 SLO(s)",
		}, ""},
		{"no files", []string{"validate"}, 2, nil, "name the SLO files: ooda slo validate checkout.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runTool(t, runSLO, tt.args...)
			if tt.code == 0 {
				require.NoError(t, err, out)
			} else {
				require.Error(t, err)
				assert.Equal(t, tt.code, exitCode(err), err.Error())
				assert.Contains(t, err.Error(), tt.errText)
			}
			for _, want := range tt.stdout {
				assert.Contains(t, out, want)
			}
		})
	}
}

// TestServeServesTheGoodSLOFilesAndReloadsOnSIGHUP: ooda serve with one
// good and one bad SLO file evaluates the good one and reports the bad one
// (status, /incident slo); once the bad file is corrected, SIGHUP picks it
// up without a restart.
func TestServeServesTheGoodSLOFilesAndReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "checkout.yaml")
	require.NoError(t, os.WriteFile(good, []byte(checkoutSLOs), 0o600))
	bad := filepath.Join(dir, "search.yaml")
	searchSLOs := strings.ReplaceAll(checkoutSLOs, "checkout", "search")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(searchSLOs, "objective: 99.9", "objective: 1.5e3", 1)), 0o600))

	cfg := app.DefaultConfig()
	cfg.DB = filepath.Join(dir, "ooda.db")
	cfg.APIToken = "admin-token-0123456789"
	cfg.SLOFiles = []string{good, bad}
	cfg.PrometheusURL = fakePrometheus(t, 0.0001)
	base := startServer(t, cfg)
	t.Setenv("OODA_API_TOKEN", cfg.APIToken)
	c, err := newAPIClient(base, defaultCLITimeout)
	require.NoError(t, err)

	status := func() api.StatusReport {
		var st api.StatusReport
		code, err := c.do(t.Context(), http.MethodGet, "/api/v1/status", nil, &st)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		return st
	}
	sloReply := func() string {
		var reply struct {
			Text string `json:"text"`
		}
		code, err := c.do(t.Context(), http.MethodPost, "/api/v1/commands", map[string]string{"text": "slo"}, &reply)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		return reply.Text
	}
	// eventually polls until cond holds, within a generous deadline.
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 30s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	eventually("the good file is evaluated", func() bool { return !status().LastSLOEvaluation.IsZero() })
	st := status()
	require.Len(t, st.SLOErrors, 1)
	assert.Equal(t, bad+`:4: slo "availability": objective: 1500: want a percentage above 0 and below 100, such as 99.9`, st.SLOErrors[0])
	reply := sloReply()
	assert.Contains(t, reply, "checkout/availability")
	assert.NotContains(t, reply, "search/availability  ")
	assert.Contains(t, reply, "1 problem(s) in the SLO files; the SLOs they name are not evaluated until the files are corrected and reloaded (SIGHUP)")
	assert.Contains(t, reply, "objective: 1500")
	metrics := func() string {
		resp, err := http.Get(base + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	m := metrics()
	assert.Contains(t, m, "\nooda_slo_config_errors 1\n")
	assert.Contains(t, m, "\nooda_slos_loaded 1\n")

	require.NoError(t, os.WriteFile(bad, []byte(searchSLOs), 0o600))
	require.NoError(t, syscall.Kill(os.Getpid(), syscall.SIGHUP))
	eventually("the corrected file is picked up and evaluated", func() bool {
		return strings.Contains(sloReply(), "search/availability")
	})
	assert.Empty(t, status().SLOErrors)
	reply = sloReply()
	assert.Contains(t, reply, "2 SLO(s), evaluated")
	assert.NotContains(t, reply, "problem(s) in the SLO files")
	m = metrics()
	assert.Contains(t, m, "\nooda_slo_config_errors 0\n")
	assert.Contains(t, m, "\nooda_slos_loaded 2\n")
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
			out, _, err := runTool(t, runFreeze, args...)
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
