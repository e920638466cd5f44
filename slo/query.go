package slo

import (
	"fmt"
	"strconv"
	"time"
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
// that has never failed usually has no error series at all), or, when the
// SLI counts good events, 1 − sum(good)/sum(total); and the
// request count is sum(total) × seconds: Sloth's total queries are
// per-second rates, so this is their increase over the window. Both travel
// in one query, told apart by SeriesLabel. Each of the user's queries goes
// on lines of its own, so a trailing PromQL comment in it cannot swallow
// the brackets around it. A raw SLI's query is sent as it is.
func WindowQuery(s SLO, d time.Duration) (string, error) {
	return windowQuery(s, d, true)
}

// RatioQuery is WindowQuery without the request count: only the alerts'
// long windows need it, and every sum(total) left out is one range
// evaluation Prometheus does not do.
func RatioQuery(s SLO, d time.Duration) (string, error) {
	return windowQuery(s, d, false)
}

// windowQuery leaves the request count out unless requests is set.
func windowQuery(s SLO, d time.Duration, requests bool) (string, error) {
	win := FormatWindow(d)
	if s.SLI.Raw() {
		return renderQuery(s.SLI.ErrorRatioQuery, win)
	}
	counted, format := s.SLI.ErrorQuery, "(sum(\n%s\n) or vector(0)) / sum(\n%s\n)"
	if s.SLI.GoodQuery != "" {
		// OpenSLO counts good events: a missing good series while the
		// total has data is no good event at all.
		counted, format = s.SLI.GoodQuery, "1 - (sum(\n%s\n) or vector(0)) / sum(\n%s\n)"
	}
	countedQ, err := renderQuery(counted, win)
	if err != nil {
		return "", err
	}
	total, err := renderQuery(s.SLI.TotalQuery, win)
	if err != nil {
		return "", err
	}
	ratio := fmt.Sprintf(format, countedQ, total)
	if !requests {
		return ratio, nil
	}
	secs := strconv.FormatFloat(d.Seconds(), 'f', -1, 64)
	return fmt.Sprintf("label_replace(%s, %q, %q, \"\", \"\")\nor label_replace(sum(\n%s\n) * %s, %q, %q, \"\", \"\")",
		ratio, SeriesLabel, SeriesRatio, total, secs, SeriesLabel, SeriesRequests), nil
}
