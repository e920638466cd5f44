package slotest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/internal/testlog"
)

// Profile is the traffic of one service in a history: RPS requests a
// second, of which ErrorRatio(t) fail at time t.
type Profile struct {
	Service    string
	RPS        float64
	ErrorRatio func(t time.Time) float64
}

// History writes, in OpenMetrics text, the counter
// http_requests_total{service, code} of each profile from start to end,
// one sample every step, code "500" counting the failures and "200" the
// rest. The requests of a sample are those of the step that ends at it, so
// a change of error ratio at t shows in windows ending after t.
func History(start, end time.Time, step time.Duration, profiles ...Profile) []byte {
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	fmt.Fprintln(w, "# HELP http_requests Requests served, by service and status code.")
	fmt.Fprintln(w, "# TYPE http_requests counter")
	for _, p := range profiles {
		for _, code := range []string{"200", "500"} {
			v := 0.0
			for t := start; !t.After(end); t = t.Add(step) {
				if t.After(start) {
					n := p.RPS * step.Seconds()
					bad := n * p.ErrorRatio(t)
					if code == "500" {
						v += bad
					} else {
						v += n - bad
					}
				}
				fmt.Fprintf(w, "http_requests_total{service=%q,code=%q} %s %d\n",
					p.Service, code, strconv.FormatFloat(v, 'g', -1, 64), t.Unix())
			}
		}
	}
	fmt.Fprintln(w, "# EOF")
	_ = w.Flush()
	return b.Bytes()
}

// Prometheus is a real Prometheus server, started by StartPrometheus.
type Prometheus struct {
	// URL is its base URL, http://127.0.0.1:PORT.
	URL string
}

// InstallHint is how to get the binaries the real-Prometheus tests need.
const InstallHint = "install it with: apt-get install prometheus"

// StartPrometheus turns openMetrics (see History) into TSDB blocks with
// promtool and starts prometheus over them on a free loopback port,
// returning once it is ready. The process is killed when the test ends.
//
// Without the prometheus and promtool binaries the test is skipped, or,
// under CI=true, failed: CI installs them, so missing them there is a
// broken build, not a reason to skip.
func StartPrometheus(tb testing.TB, openMetrics []byte) *Prometheus {
	tb.Helper()
	prom, promtool := lookPaths(tb)
	dir := tb.TempDir()
	data := filepath.Join(dir, "data")
	input := filepath.Join(dir, "history.om")
	if err := os.WriteFile(input, openMetrics, 0o600); err != nil {
		tb.Fatalf("slotest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", input, data).CombinedOutput()
	if err != nil {
		tb.Fatalf("slotest: promtool tsdb create-blocks-from openmetrics: %v\n%s", err, out)
	}
	config := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(config, []byte("global:\n  scrape_interval: 1m\n"), 0o600); err != nil {
		tb.Fatalf("slotest: %v", err)
	}

	addr := freeAddr(tb)
	logs := &testlog.Buffer{}
	cmd := exec.Command(prom,
		"--config.file="+config,
		"--storage.tsdb.path="+data,
		// Retention is counted back from the newest block, but keep
		// the history whatever its dates.
		"--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr,
		"--log.level=warn",
	)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("slotest: start prometheus: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	p := &Prometheus{URL: "http://" + addr}
	if err := p.waitReady(exited, time.Minute); err != nil {
		tb.Fatalf("slotest: prometheus: %v\n%s", err, logs.String())
	}
	return p
}

func lookPaths(tb testing.TB) (prom, promtool string) {
	tb.Helper()
	var missing []string
	for _, name := range []string{"prometheus", "promtool"} {
		path, err := exec.LookPath(name)
		if err != nil {
			missing = append(missing, name)
			continue
		}
		if name == "prometheus" {
			prom = path
		} else {
			promtool = path
		}
	}
	if len(missing) == 0 {
		return prom, promtool
	}
	msg := fmt.Sprintf("slotest: %v not found in PATH; %s", missing, InstallHint)
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return "", ""
}

// freeAddr finds a loopback port nobody listens on. Another process may
// take it before prometheus does; waitReady then reports prometheus's
// complaint.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("slotest: find a free port: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatalf("slotest: %v", err)
	}
	return addr
}

// waitReady polls /-/ready until it answers 200, the process exits or the
// deadline passes.
func (p *Prometheus) waitReady(exited <-chan struct{}, within time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/-/ready", nil)
		if err != nil {
			return err
		}
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %v", within)
		case <-tick.C:
		}
	}
}
