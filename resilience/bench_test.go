package resilience

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// nsPerOp is valid after b.Loop has returned false.
func nsPerOp(b *testing.B) float64 {
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// reportAdded reports what the guard adds to the matching direct run, when
// that run happened first in the same invocation.
func reportAdded(b *testing.B, directNs float64) {
	if directNs > 0 {
		b.ReportMetric(nsPerOp(b)-directNs, "added-ns/op")
	}
}

func benchGuard(b *testing.B, withMetrics bool) *Guard {
	b.Helper()
	var opts []Option
	if withMetrics {
		opts = append(opts, WithMetrics(NewMetrics(prometheus.NewRegistry())))
	}
	g, err := New(DefaultPolicy(DependencySlack), opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g
}

func BenchmarkGuardOverhead(b *testing.B) {
	noop := func(context.Context) error { return nil }
	ctx := context.Background()
	op := Op{Method: "chat.postMessage", Idempotent: true}
	var directNs float64

	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := noop(ctx); err != nil {
				b.Fatal(err)
			}
		}
		directNs = nsPerOp(b)
	})
	for _, bc := range []struct {
		name    string
		metrics bool
	}{{"guarded", true}, {"guarded-no-metrics", false}} {
		b.Run(bc.name, func(b *testing.B) {
			g := benchGuard(b, bc.metrics)
			b.ReportAllocs()
			for b.Loop() {
				if err := g.Do(ctx, op, noop); err != nil {
					b.Fatal(err)
				}
			}
			reportAdded(b, directNs)
		})
	}
}

func BenchmarkGuardHTTP(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	g := benchGuard(b, true)
	get := func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/api/auth.test", nil)
		if err != nil {
			return err
		}
		resp, err := g.HTTPClient().Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return StatusError(resp)
	}
	ctx := context.Background()
	// Warm the connection pool and the server first, or the direct run,
	// going first, pays for both and the comparison flatters the guard.
	for range 500 {
		if err := get(ctx); err != nil {
			b.Fatal(err)
		}
	}
	var directNs float64

	// Both runs share the guard's client, so the difference is the guard.
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := get(ctx); err != nil {
				b.Fatal(err)
			}
		}
		directNs = nsPerOp(b)
	})
	b.Run("guarded", func(b *testing.B) {
		b.ReportAllocs()
		op := Op{Method: "auth.test", Idempotent: true}
		for b.Loop() {
			if err := g.Do(ctx, op, get); err != nil {
				b.Fatal(err)
			}
		}
		reportAdded(b, directNs)
	})
}
