// Package slotest fakes Prometheus for the tests of packages slo/prom and
// their users: an in-process prom.API and HTTP server answering from a
// table of windows, a wrapper that counts queries in flight, and a real
// Prometheus started over history written for the test (StartPrometheus).
// It is imported by tests only, and imports nothing of Ooda's but slo and
// slo/prom.
package slotest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/slo/prom"
)

// Answer computes the result of an instant query.
type Answer func(query string, ts time.Time) (model.Value, error)

// Window is what a fake Prometheus knows about one window of every SLO.
type Window struct {
	// Ratio is the error ratio; NaN is returned as Prometheus returns a
	// 0/0 division.
	Ratio float64
	// Requests is the request count; zero leaves it out.
	Requests float64
	// Empty answers an empty vector, as for a series that does not exist.
	Empty bool
	// Err fails the query.
	Err error
}

// Windows answers slo.WindowQuery queries by their window, written as in
// PromQL: "5m", "1h", "30d". A window it does not list is empty.
type Windows map[string]Window

var rangeRE = regexp.MustCompile(`\[([0-9a-z]+)\]`)

// Answer finds the query's window (its first [range]) and answers as
// slo.WindowQuery's query would.
func (ws Windows) Answer(query string, ts time.Time) (model.Value, error) {
	m := rangeRE.FindStringSubmatch(query)
	if m == nil {
		return nil, fmt.Errorf("slotest: no [window] in %q", query)
	}
	w, ok := ws[m[1]]
	if !ok || w.Empty {
		return model.Vector{}, nil
	}
	if w.Err != nil {
		return nil, w.Err
	}
	at := model.TimeFromUnixNano(ts.UnixNano())
	vec := model.Vector{{
		Metric:    model.Metric{slo.SeriesLabel: slo.SeriesRatio},
		Value:     model.SampleValue(w.Ratio),
		Timestamp: at,
	}}
	if w.Requests != 0 {
		vec = append(vec, &model.Sample{
			Metric:    model.Metric{slo.SeriesLabel: slo.SeriesRequests},
			Value:     model.SampleValue(w.Requests),
			Timestamp: at,
		})
	}
	return vec, nil
}

// Uniform is the same measurement in every window of w.
func Uniform(w slo.Windows, ratio, requestsPerSecond float64) Windows {
	ws := Windows{}
	for _, d := range w.Durations() {
		ws[slo.FormatWindow(d)] = Window{Ratio: ratio, Requests: requestsPerSecond * d.Seconds()}
	}
	return ws
}

// NoData is a window whose ratio is NaN, as Prometheus answers 0/0.
var NoData = Window{Ratio: math.NaN()}

// API is an in-process prom.API. It honours the context like the real
// client: a query whose context has ended fails with the context's error.
type API struct {
	Answer Answer

	calls atomic.Int64
}

var _ prom.API = (*API)(nil)

// Query answers with a.Answer.
func (a *API) Query(ctx context.Context, query string, ts time.Time, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	a.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	v, err := a.Answer(query, ts)
	return v, nil, nil, err
}

// QueryRange answers a range query as Prometheus does: the instant
// answer at every step from r.Start to r.End, one matrix series per
// labelled series; a step whose answer is empty has no sample, and a NaN
// (0/0) is kept, as Prometheus keeps it.
func (a *API) QueryRange(ctx context.Context, query string, r promv1.Range, _ ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	a.calls.Add(1)
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	if r.Step <= 0 || r.End.Before(r.Start) {
		return nil, nil, nil, &APIError{Status: http.StatusBadRequest, Type: "bad_data", Msg: "invalid range"}
	}
	series := map[model.Fingerprint]*model.SampleStream{}
	var order []model.Fingerprint
	for ts := r.Start; !ts.After(r.End); ts = ts.Add(r.Step) {
		v, err := a.Answer(query, ts)
		if err != nil {
			return nil, nil, nil, err
		}
		vec, ok := v.(model.Vector)
		if !ok {
			return nil, nil, nil, fmt.Errorf("slotest: a range query needs instant vectors, got %s", v.Type())
		}
		for _, s := range vec {
			fp := s.Metric.Fingerprint()
			ss, ok := series[fp]
			if !ok {
				ss = &model.SampleStream{Metric: s.Metric}
				if ss.Metric == nil {
					ss.Metric = model.Metric{} // Prometheus writes {}, never null
				}
				series[fp] = ss
				order = append(order, fp)
			}
			ss.Values = append(ss.Values, model.SamplePair{Timestamp: model.TimeFromUnixNano(ts.UnixNano()), Value: s.Value})
		}
	}
	m := make(model.Matrix, 0, len(order))
	for _, fp := range order {
		m = append(m, series[fp])
	}
	return m, nil, nil, nil
}

// Calls returns how many queries were made.
func (a *API) Calls() int { return int(a.calls.Load()) }

// Counting wraps a prom.API and counts its queries, and the most that were
// in flight at once.
type Counting struct {
	Next prom.API

	calls, inFlight, peak atomic.Int64
}

var _ prom.API = (*Counting)(nil)

// Query passes the query on, counting it.
func (c *Counting) Query(ctx context.Context, query string, ts time.Time, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	defer c.enter()()
	return c.Next.Query(ctx, query, ts, opts...)
}

// QueryRange passes the range query on, counting it.
func (c *Counting) QueryRange(ctx context.Context, query string, r promv1.Range, opts ...promv1.Option) (model.Value, promv1.Warnings, promv1.Infos, error) {
	defer c.enter()()
	return c.Next.QueryRange(ctx, query, r, opts...)
}

// enter counts a query and its concurrency until the returned func runs.
func (c *Counting) enter() func() {
	c.calls.Add(1)
	n := c.inFlight.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return func() { c.inFlight.Add(-1) }
}

// Calls returns how many queries were made.
func (c *Counting) Calls() int64 { return c.calls.Load() }

// Peak returns the most queries that were in flight at once.
func (c *Counting) Peak() int64 { return c.peak.Load() }

// ResetPeak forgets the peak, between benchmark iterations.
func (c *Counting) ResetPeak() { c.peak.Store(0) }

// APIError is an answer's way to make Handler fail a query as Prometheus
// does, with an HTTP status and an errorType: BadQuery is how it refuses
// a query it cannot parse.
type APIError struct {
	Status int
	Type   string
	Msg    string
}

func (e *APIError) Error() string { return e.Type + ": " + e.Msg }

// BadQuery is Prometheus's answer to a query it cannot parse: HTTP 400,
// errorType bad_data.
func BadQuery(msg string) *APIError {
	return &APIError{Status: http.StatusBadRequest, Type: "bad_data", Msg: msg}
}

// ExecutionError is Prometheus's answer to a query it parsed but cannot
// run, such as "many-to-many matching not allowed": HTTP 422, errorType
// execution.
func ExecutionError(msg string) *APIError {
	return &APIError{Status: http.StatusUnprocessableEntity, Type: "execution", Msg: msg}
}

// Handler serves Prometheus's instant and range query endpoints,
// /api/v1/query and /api/v1/query_range (an instant answer per step), from
// answer: a stand-in for Prometheus that the real client can talk to.
// answer is called concurrently. An error it returns fails the query with
// HTTP 422 (errorType execution), which the evaluator takes for a
// configuration error of the SLO, as Prometheus means it; or as an
// *APIError says. To fake Prometheus failing, fail the HTTP request itself.
func Handler(answer Answer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/v1/query", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAPIError(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
		ts := time.Now()
		if t := r.Form.Get("time"); t != "" {
			secs, err := strconv.ParseFloat(t, 64)
			if err != nil {
				writeAPIError(w, http.StatusBadRequest, "bad_data", "time: "+err.Error())
				return
			}
			ts = time.Unix(0, int64(secs*1e9))
		}
		v, err := answer(r.Form.Get("query"), ts)
		if ae, ok := errors.AsType[*APIError](err); ok {
			writeAPIError(w, ae.Status, ae.Type, ae.Msg)
			return
		}
		if err != nil {
			writeAPIError(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
		writeResult(w, v)
	})
	mux.HandleFunc("/api/v1/query_range", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			writeAPIError(w, http.StatusBadRequest, "bad_data", err.Error())
			return
		}
		var rng promv1.Range
		for _, f := range []struct {
			name string
			set  func(float64)
		}{
			{"start", func(s float64) { rng.Start = time.Unix(0, int64(s*1e9)).UTC() }},
			{"end", func(s float64) { rng.End = time.Unix(0, int64(s*1e9)).UTC() }},
			{"step", func(s float64) { rng.Step = time.Duration(s * float64(time.Second)) }},
		} {
			secs, err := strconv.ParseFloat(r.Form.Get(f.name), 64)
			if err != nil {
				writeAPIError(w, http.StatusBadRequest, "bad_data", f.name+": "+err.Error())
				return
			}
			f.set(secs)
		}
		v, _, _, err := (&API{Answer: answer}).QueryRange(r.Context(), r.Form.Get("query"), rng)
		if ae, ok := errors.AsType[*APIError](err); ok {
			writeAPIError(w, ae.Status, ae.Type, ae.Msg)
			return
		}
		if err != nil {
			writeAPIError(w, http.StatusUnprocessableEntity, "execution", err.Error())
			return
		}
		writeResult(w, v)
	})
	return mux
}

// writeResult answers a query with its value.
func writeResult(w http.ResponseWriter, v model.Value) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"status": "success",
		"data":   map[string]any{"resultType": v.Type().String(), "result": v},
	})
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "errorType": typ, "error": msg})
}

// NewServer starts an HTTP server with Handler(answer), closed when the
// test ends.
func NewServer(tb testing.TB, answer Answer) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(Handler(answer))
	tb.Cleanup(srv.Close)
	return srv
}
