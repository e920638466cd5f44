package resilience

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file is the shared table of DESIGN.md section 5, in the manner of
// Alertmanager's notify/test: every dependency is checked against the same
// list of answers, and the test counts what reached the server to see
// whether the guard retried. Slack's row, which needs slack-go and its
// Classifier, is in bot/slackapi.

// shouldRetry is the policy under test, written out independently of
// statusClass: RFC 9110's "try again" codes and the 5xx that are not
// "never".
func shouldRetry(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return true
	case http.StatusNotImplemented, http.StatusHTTPVersionNotSupported:
		return false
	}
	return code >= 500
}

// dependencyShape is how one dependency is reached. serve answers a request
// whose first path segment is the case; call makes one guarded request for
// that case.
type dependencyShape struct {
	dependency string
	serve      func(w http.ResponseWriter, r *http.Request, kind, value string)
	call       func(ctx context.Context, g *Guard, base string) error
}

func statusFromPath(t testing.TB, value string) int {
	code, err := strconv.Atoi(value)
	require.NoError(t, err)
	return code
}

// plainHTTPCall is how Prometheus and webhook integrations turn a response
// into an error: StatusError.
func plainHTTPCall(method, path string) func(ctx context.Context, g *Guard, base string) error {
	return func(ctx context.Context, g *Guard, base string) error {
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(`{"status":"firing"}`)
		}
		req, err := http.NewRequestWithContext(ctx, method, base+path, body)
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
}

func shapes(t testing.TB) []dependencyShape {
	return []dependencyShape{
		{
			dependency: DependencyPrometheus,
			serve: func(w http.ResponseWriter, _ *http.Request, _, value string) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(statusFromPath(t, value))
				fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
			},
			call: func(ctx context.Context, g *Guard, base string) error {
				return g.Do(ctx, Op{Method: "query", Idempotent: true}, func(ctx context.Context) error {
					return plainHTTPCall(http.MethodGet, "/api/v1/query?query=up")(ctx, g, base)
				})
			},
		},
		{
			dependency: DependencyWebhook,
			serve: func(w http.ResponseWriter, _ *http.Request, _, value string) {
				w.WriteHeader(statusFromPath(t, value))
			},
			call: func(ctx context.Context, g *Guard, base string) error {
				// Webhook receivers dedupe on the alert's key, so
				// re-sending is safe.
				return g.Do(ctx, Op{Method: "post", Idempotent: true}, func(ctx context.Context) error {
					return plainHTTPCall(http.MethodPost, "/hook")(ctx, g, base)
				})
			},
		},
	}
}

// serveShape starts the shape's server. Paths are /{kind}/{value}/..., so
// one server answers every case and counts each case's hits apart.
func serveShape(t *testing.T, sh dependencyShape) (string, *hitCounter) {
	srv, hits := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 3)
		require.GreaterOrEqual(t, len(parts), 2, "path %q", r.URL.Path)
		sh.serve(w, r, parts[0], parts[1])
	})
	return srv.URL, hits
}

func TestRetryTable(t *testing.T) {
	for _, sh := range shapes(t) {
		t.Run(sh.dependency, func(t *testing.T) {
			base, hits := serveShape(t, sh)
			maxAttempts := DefaultPolicy(sh.dependency).MaxAttempts
			require.Greater(t, maxAttempts, 1, "a policy without retries cannot show them")

			check := func(t *testing.T, prefix string, wantRetry, wantOK bool) {
				// A fresh guard per case: the breaker must not carry
				// failures from one case into the next.
				g, clock := newTestGuard(t, DefaultPolicy(sh.dependency))
				err := sh.call(ctxWithTimeout(t), g, base+prefix)

				wantHits := 1
				if wantRetry {
					wantHits = maxAttempts
				}
				require.Equal(t, wantHits, hits.count(prefix+"/"), "server hits")
				require.Len(t, clock.Sleeps(), wantHits-1, "waits between attempts")
				if wantOK {
					require.NoError(t, err)
					return
				}
				require.Error(t, err)
				var ce *CallError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, wantHits, ce.Attempts)
				require.Equal(t, sh.dependency, ce.Dependency)
				require.Equal(t, !wantRetry, errors.Is(err, ErrPermanent), "errors.Is(err, ErrPermanent) for %v", err)
				require.Equal(t, "closed", g.State(), "%d failures must not trip a %d-failure breaker", wantHits, DefaultPolicy(sh.dependency).ConsecutiveFailures)
			}

			for code := 200; code <= 599; code++ {
				t.Run(strconv.Itoa(code), func(t *testing.T) {
					// A plain HTTP client accepts any 2xx.
					check(t, "/status/"+strconv.Itoa(code), shouldRetry(code), code <= 299)
				})
			}
		})
	}
}
