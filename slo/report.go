package slo

import (
	"errors"
	"time"
)

var (
	// ErrUnavailable is matched by the error of an evaluation in which no
	// SLO could be measured: Prometheus is down, slow or failing.
	ErrUnavailable = errors.New("prometheus unavailable")
	// ErrNoData is matched when a query answered with nothing to measure.
	ErrNoData = errors.New("no data")
	// ErrUnknownService is matched when no SLO belongs to the service asked
	// about.
	ErrUnknownService = errors.New("no SLO for this service")
	// ErrBadQuery is matched when Prometheus answered but an SLO's query
	// cannot be measured: Prometheus refused it as invalid (HTTP 400
	// bad_data, 422 execution) or it returned something other than one
	// error ratio. It is a configuration error of that SLO, never an
	// outage of Prometheus.
	ErrBadQuery = errors.New("configuration error in the SLO's query")
)

// Report is one evaluation of every SLO.
type Report struct {
	// At is the instant evaluated.
	At time.Time
	// Took is how long the evaluation ran.
	Took time.Duration
	// Queries is how many queries were sent.
	Queries int
	// Results follow the order of the evaluator's SLOs.
	Results []Result
}

// ConfigErrors returns the results whose query was refused
// (LevelConfigError).
func (r Report) ConfigErrors() []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Level == LevelConfigError {
			out = append(out, res)
		}
	}
	return out
}

// Service returns the results of one service's SLOs.
func (r Report) Service(name string) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Service == name {
			out = append(out, res)
		}
	}
	return out
}

// Snapshot is what an evaluator's Last returns: the latest report that
// could be made, how old it is, and why a newer one could not.
type Snapshot struct {
	// Report is the latest successful evaluation; its At is zero before
	// the first.
	Report Report
	// Age is how long ago Report.At was.
	Age time.Duration
	// Stale is set when the latest evaluation failed: Report is older.
	Stale bool
	// Reason says why the latest evaluation failed.
	Reason   string
	FailedAt time.Time
	// Problems are what kept SLOs of the configured files from being
	// loaded at the latest (re)load: those SLOs are not evaluated.
	Problems []SpecError
}
