package resilience

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ooda-sre/ooda/internal/metrictest"
	"github.com/ooda-sre/ooda/resilience/resiliencetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// halfJitter makes every backoff exactly half its ceiling, so tests can state
// the waits they expect.
func halfJitter() float64 { return 0.5 }

// newTestGuard builds a guard whose waits are recorded, not slept, on a fake
// clock that starts now (context deadlines are real).
func newTestGuard(t testing.TB, p Policy, opts ...Option) (*Guard, *resiliencetest.Clock) {
	t.Helper()
	clock := resiliencetest.NewClock(time.Now())
	base := []Option{WithClock(clock.Now), WithSleep(clock.Sleep), WithRand(halfJitter)}
	g, err := New(p, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(g.HTTPClient().CloseIdleConnections)
	return g, clock
}

// hitCounter counts requests per URL path.
type hitCounter struct {
	mu   sync.Mutex
	hits map[string]int
}

func (h *hitCounter) hit(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.hits == nil {
		h.hits = map[string]int{}
	}
	h.hits[path]++
	return h.hits[path]
}

func (h *hitCounter) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for p, c := range h.hits {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// newServer starts an httptest server counting its hits and stops it with
// the test.
func newServer(t testing.TB, h func(w http.ResponseWriter, r *http.Request)) (*httptest.Server, *hitCounter) {
	t.Helper()
	hits := &hitCounter{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.hit(r.URL.Path)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, hits
}

// waitState polls the breaker until it reports want; gobreaker moves from
// open to half-open on its own clock, which cannot be faked.
func waitState(t *testing.T, g *Guard, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return g.State() == want }, 5*time.Second, time.Millisecond,
		"breaker never became %s", want)
}

// ctxWithTimeout bounds a test's calls so a bug hangs nothing for long.
func ctxWithTimeout(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// metricValue reads one sample from reg; 0 when absent.
var metricValue = metrictest.Value
