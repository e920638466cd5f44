package prom

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/slo"
)

// API is the part of the Prometheus HTTP API client (promv1.API) the
// evaluator uses: instant queries for the evaluations, range queries for
// the charts.
type API interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
	QueryRange(ctx context.Context, query string, r promv1.Range, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error)
}

var _ API = promv1.API(nil)

// NewPrometheusAPI returns a client for the Prometheus at address that sends
// its requests through the guard's HTTP client, whose transport lets the
// guard classify the client's errors by HTTP status.
func NewPrometheusAPI(address string, g *resilience.Guard) (API, error) {
	c, err := api.NewClient(api.Config{Address: address, Client: g.HTTPClient()})
	if err != nil {
		return nil, fmt.Errorf("prometheus client %s: %w", resilience.Redact(address), err)
	}
	return promv1.NewAPI(c), nil
}

// readMeasurement reads what a slo.WindowQuery or slo.RatioQuery returned.
func readMeasurement(v model.Value) (slo.Measurement, error) {
	m := slo.Measurement{ErrorRatio: math.NaN(), Requests: math.NaN()}
	vec, ok := v.(model.Vector)
	if !ok {
		return m, fmt.Errorf("the query returned a %s; want an instant vector", typeName(v))
	}
	ratios := 0
	for _, s := range vec {
		if s.Metric[slo.SeriesLabel] == slo.SeriesRequests {
			m.Requests = float64(s.Value)
			continue
		}
		ratios++
		m.ErrorRatio = float64(s.Value)
	}
	if ratios > 1 {
		return m, fmt.Errorf("the error ratio came back as %d series; it must be one: aggregate the query with sum() or max()", ratios)
	}
	return m, nil
}

func typeName(v model.Value) string {
	if v == nil {
		return "nothing"
	}
	return v.Type().String()
}

// known reports whether v is a measurement rather than "no data", as the
// slo package judges it.
func known(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// refusedQuery reports whether err is Prometheus refusing a query, with
// its reason: HTTP 400 bad_data when it cannot parse it (a parse error, an
// unknown function, a bad duration), HTTP 422 execution when it parsed it
// but cannot run it ("many-to-many matching not allowed", too many
// samples). The query is then wrong, and Prometheus is up: its timeouts,
// cancellations and internal errors come with other types (HTTP 503, 500),
// and the guard, which classifies by that status, neither retries a 400 or
// a 422 nor counts it against the breaker.
func refusedQuery(err error) (string, bool) {
	perr, ok := errors.AsType[*promv1.Error](err)
	if !ok || perr.Type != promv1.ErrBadData && perr.Type != promv1.ErrExec {
		return "", false
	}
	return perr.Msg, true
}
