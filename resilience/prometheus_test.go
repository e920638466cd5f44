package resilience

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/stretchr/testify/require"
)

// The Prometheus API client reduces an HTTP failure to a *v1.Error with a
// type and a string ("client error: 400"), which Classify cannot place. The
// guard's transport remembers the status behind it, so the real client gets
// the same decisions as the shared table.
func TestPrometheusClientKeepsStatusClass(t *testing.T) {
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		code, err := strconv.Atoi(strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")[0])
		require.NoError(t, err)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"1:1: parse error"}`)
	})

	for code := 400; code <= 599; code++ {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			p := DefaultPolicy(DependencyPrometheus)
			g, clock := newTestGuard(t, p)
			client, err := api.NewClient(api.Config{Address: srv.URL + "/" + strconv.Itoa(code), Client: g.HTTPClient()})
			require.NoError(t, err)
			prom := promv1.NewAPI(client)

			attempts := 0
			err = g.Do(ctxWithTimeout(t), Op{Method: "query", Idempotent: true}, func(ctx context.Context) error {
				attempts++
				_, _, _, err := prom.Query(ctx, "up", time.Unix(0, 0))
				return err
			})
			require.Error(t, err)
			var perr *promv1.Error
			require.ErrorAs(t, err, &perr, "the client's own error stays reachable")

			want := 1
			if shouldRetry(code) {
				want = p.MaxAttempts
			}
			require.Equal(t, want, attempts)
			require.Len(t, clock.Sleeps(), want-1)

			// Query POSTs and, on 403, 405 and 501, falls back to GET.
			perAttempt := 1
			switch code {
			case http.StatusForbidden, http.StatusMethodNotAllowed, http.StatusNotImplemented:
				perAttempt = 2
			}
			require.Equal(t, want*perAttempt, hits.count("/"+strconv.Itoa(code)+"/"))
		})
	}
}
