package resilience

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
)

// Outcomes of a call, the values of the outcome label of
// ooda_outbound_calls_total. Each call through Do ends with exactly one.
const (
	OutcomeOK             = "ok"
	OutcomeRetryableError = "retryable_error" // gave up on an error that might have passed later
	OutcomePermanentError = "permanent_error"
	OutcomeRateLimited    = "rate_limited" // gave up while the dependency asked us to wait
	OutcomeBreakerOpen    = "breaker_open"
	OutcomeBulkheadFull   = "bulkhead_full"
	OutcomeCanceled       = "canceled" // the caller's context ended
)

// Metrics holds the Prometheus collectors every Guard reports to. Guards of
// different dependencies share one Metrics; the dependency is a label. A nil
// *Metrics records nothing.
type Metrics struct {
	calls    *prometheus.CounterVec
	duration *prometheus.HistogramVec
	breaker  *prometheus.GaugeVec
	retries  *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them with reg, unless reg
// is nil. Registering twice with the same registry reuses the collectors
// already there, so tests and restarts of a component need no global.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_outbound_calls_total",
			Help: "Outbound calls by dependency, method and outcome (ok, retryable_error, permanent_error, rate_limited, breaker_open, bulkhead_full, canceled), counted once per call whatever its attempts.",
		}, []string{"dependency", "method", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ooda_outbound_call_duration_seconds",
			Help: "Duration of each attempt of an outbound call, backoff waits excluded: how fast the dependency answers.",
			// Reaching past the longest default per-attempt timeout (10 s)
			// puts calls cut off by it in a bucket of their own.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}, []string{"dependency", "method"}),
		breaker: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "ooda_breaker_state",
			Help: "Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open.",
		}, []string{"dependency"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ooda_outbound_retries_total",
			Help: "Attempts made after the first one, per dependency.",
		}, []string{"dependency"}),
	}
	if reg != nil {
		m.calls = RegisterOrReuse(reg, m.calls)
		m.duration = RegisterOrReuse(reg, m.duration)
		m.breaker = RegisterOrReuse(reg, m.breaker)
		m.retries = RegisterOrReuse(reg, m.retries)
	}
	return m
}

// RegisterOrReuse registers c, or returns the collector of the same shape
// already registered under its name, so several guards (and the other
// parts of Ooda that export metrics) can share one registry, and a part
// rebuilt in the same process keeps counting where the last one stopped.
func RegisterOrReuse[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	// Another collector took the name with a different shape: a programming
	// error, which MustRegister would also panic on.
	panic(err)
}

func (m *Metrics) call(dependency, method, outcome string) {
	if m == nil {
		return
	}
	m.calls.WithLabelValues(dependency, method, outcome).Inc()
}

func (m *Metrics) attempt(dependency, method string, d time.Duration) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(dependency, method).Observe(d.Seconds())
}

func (m *Metrics) retry(dependency string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(dependency).Inc()
}

func (m *Metrics) breakerState(dependency string, s gobreaker.State) {
	if m == nil {
		return
	}
	m.breaker.WithLabelValues(dependency).Set(breakerGauge(s))
}

// breakerGauge orders the states by how bad they are, so that max() over
// replicas and "> 0" alerts read naturally; gobreaker's own numbering puts
// half-open after closed but does not promise it.
func breakerGauge(s gobreaker.State) float64 {
	switch s {
	case gobreaker.StateHalfOpen:
		return 1
	case gobreaker.StateOpen:
		return 2
	default:
		return 0
	}
}
