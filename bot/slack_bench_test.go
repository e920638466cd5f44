package bot

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/api"
)

// BenchmarkSlackCommandNote sends signed `/incident note` commands to the
// HTTP handler on a loopback server, each committed durably (fsync)
// before it is answered, beside a baseline handler that only reads and
// verifies the request and answers 200, on the same kind of server in the
// same run. It reports throughput (req/s), p50 and
// p99 latency of each, and the handler's throughput as a share of the
// baseline's. Figures are reported, never asserted.
func BenchmarkSlackCommandNote(b *testing.B) {
	for _, conc := range []int{1, 16, 64} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			r := newSlackRig(b)
			r.declare("Checkout down", "C0INCIDENT1")
			baseline := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, DefaultMaxSlackBody))
				if err != nil || VerifyRequest(slackTestSecret, req.Header, body, time.Now()) != nil {
					http.Error(w, "refused", http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = slackForm(b, "slash_command.form", map[string]string{
					"text": fmt.Sprintf("note step %d of the rollback", i), "channel_id": "C0INCIDENT1",
					"trigger_id": "bench-" + strconv.Itoa(i), "user_id": "U0ALICE",
				})
			}
			// The same command through the API, on the same store: the
			// transport differs, the command path is the same.
			srv, err := api.NewServer(api.ServerConfig{Store: r.db, Dispatcher: r.h.cfg.Dispatcher, APIToken: "bench-admin-token-0123"})
			if err != nil {
				b.Fatal(err)
			}
			authed := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				req.Header.Set("Authorization", "Bearer bench-admin-token-0123")
				srv.ServeHTTP(w, req)
			})
			apiBodies := make([][]byte, b.N)
			for i := range apiBodies {
				apiBodies[i] = []byte(fmt.Sprintf(`{"text": "note INC-1 api step %d of the rollback"}`, i))
			}
			b.ResetTimer()
			base := loadSlack(b, baseline, "/slack/commands", bodies, conc)
			full := loadSlack(b, r.mux, "/slack/commands", bodies, conc)
			viaAPI := loadSlack(b, authed, "/api/v1/commands", apiBodies, conc)

			b.StopTimer()
			b.ReportMetric(full.rate, "req/s")
			b.ReportMetric(full.p50, "p50-ms")
			b.ReportMetric(full.p99, "p99-ms")
			b.ReportMetric(base.rate, "baseline-req/s")
			b.ReportMetric(base.p50, "baseline-p50-ms")
			b.ReportMetric(base.p99, "baseline-p99-ms")
			b.ReportMetric(full.rate/base.rate, "ratio")
			b.ReportMetric(viaAPI.rate, "api-req/s")
			b.ReportMetric(viaAPI.p99, "api-p99-ms")
		})
	}
}

// BenchmarkSlackEventsIngest delivers channel messages through the
// Events API endpoint, on a loopback server, into an incident's transcript, with Slack's
// deliveries overlapping as they do, and reports events/s.
func BenchmarkSlackEventsIngest(b *testing.B) {
	for _, conc := range []int{1, 16} {
		b.Run("concurrency="+strconv.Itoa(conc), func(b *testing.B) {
			r := newSlackRig(b)
			r.declare("Checkout down", "C123ABC456")
			bodies := make([][]byte, b.N)
			for i := range bodies {
				ts := fmt.Sprintf("1355517523.%06d", i)
				bodies[i] = slackJSON(b, "event_message.json", map[string]any{
					"event_id": "EvBench" + strconv.Itoa(i), "event.ts": ts, "event.event_ts": ts,
					"event.text": fmt.Sprintf("message %d: error rate is falling", i),
				})
			}
			b.ResetTimer()
			res := loadSlack(b, r.mux, "/slack/events", bodies, conc)
			b.StopTimer()
			b.ReportMetric(res.rate, "events/s")
			b.ReportMetric(res.p99, "p99-ms")
			tr, err := r.db.Transcript(b.Context(), 1)
			if err != nil || len(tr) != b.N {
				b.Fatalf("transcript holds %d messages, want %d (%v)", len(tr), b.N, err)
			}
		})
	}
}

// loadResult is what a load run measured.
type loadResult struct{ rate, p50, p99 float64 }

// loadSlack serves h on a loopback server and posts every body to path,
// signed, from conc goroutines, each over its own kept-alive connection.
// A request is timed from signing to the end of its answer.
func loadSlack(b *testing.B, h http.Handler, path string, bodies [][]byte, conc int) loadResult {
	b.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: conc}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	contentType := "application/x-www-form-urlencoded"
	if path == "/slack/events" {
		contentType = "application/json"
	}

	durations := make([]time.Duration, len(bodies))
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bodies) {
					return
				}
				began := time.Now()
				req, err := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(bodies[i]))
				if err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
				req.Header.Set("Content-Type", contentType)
				SignRequest(req.Header, slackTestSecret, began, bodies[i])
				resp, err := client.Do(req)
				if err != nil {
					failed.CompareAndSwap(nil, err.Error())
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				durations[i] = time.Since(began)
				if resp.StatusCode != http.StatusOK {
					failed.CompareAndSwap(nil, fmt.Sprintf("%s answered %d: %s", path, resp.StatusCode, answer))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if msg := failed.Load(); msg != nil {
		b.Fatal(msg)
	}
	slices.Sort(durations)
	ms := func(q float64) float64 {
		return float64(durations[int(q*float64(len(durations)-1))]) / float64(time.Millisecond)
	}
	return loadResult{rate: float64(len(bodies)) / elapsed.Seconds(), p50: ms(0.50), p99: ms(0.99)}
}
