package slo

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
)

// SeriesLabel tells apart the two series an events SLI's query returns for
// one window: "ratio", the error ratio, and "requests", the events counted.
// A raw SLI's query returns the ratio alone, unlabelled.
const SeriesLabel = "ooda_sli"

// The values of SeriesLabel.
const (
	SeriesRatio    = "ratio"
	SeriesRequests = "requests"
)

// WindowQuery is the instant query that measures s over the window d,
// the request count included.
//
// For an events SLI the ratio is sum(error)/sum(total), with a missing
// error series read as zero errors while the total has data (a service
// that has never failed usually has no error series at all), and the
// request count is sum(total) × seconds: Sloth's total queries are
// per-second rates, so this is their increase over the window. Both travel
// in one query, told apart by SeriesLabel. Each of the user's queries goes
// on lines of its own, so a trailing PromQL comment in it cannot swallow
// the brackets around it. A raw SLI's query is sent as it is.
func WindowQuery(s SLO, d time.Duration) (string, error) {
	return windowQuery(s, d, true)
}

// windowQuery leaves the request count out unless requests is set: only
// the alerts' long windows need it, and every sum(total) left out is one
// range evaluation Prometheus does not do.
func windowQuery(s SLO, d time.Duration, requests bool) (string, error) {
	win := FormatWindow(d)
	if s.SLI.Raw() {
		return renderQuery(s.SLI.ErrorRatioQuery, win)
	}
	errQ, err := renderQuery(s.SLI.ErrorQuery, win)
	if err != nil {
		return "", err
	}
	total, err := renderQuery(s.SLI.TotalQuery, win)
	if err != nil {
		return "", err
	}
	ratio := fmt.Sprintf("(sum(\n%s\n) or vector(0)) / sum(\n%s\n)", errQ, total)
	if !requests {
		return ratio, nil
	}
	secs := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	return fmt.Sprintf("label_replace(%s, %q, %q, \"\", \"\")\nor label_replace(sum(\n%s\n) * %s, %q, %q, \"\", \"\")",
		ratio, SeriesLabel, SeriesRatio, total, secs, SeriesLabel, SeriesRequests), nil
}

// readMeasurement reads what a WindowQuery returned.
func readMeasurement(v model.Value) (Measurement, error) {
	m := Measurement{ErrorRatio: math.NaN(), Requests: math.NaN()}
	vec, ok := v.(model.Vector)
	if !ok {
		return m, fmt.Errorf("the query returned a %s; want an instant vector", typeName(v))
	}
	ratios := 0
	for _, s := range vec {
		if s.Metric[SeriesLabel] == SeriesRequests {
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
