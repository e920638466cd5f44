package demo

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/prometheus/common/model"

	"github.com/ooda-sre/ooda/slo/slotest"
)

// demoSLOFile is the checkout team's Sloth file: the one SLO the demo's
// Ooda watches, as a team would write it for Sloth.
const demoSLOFile = `version: "prometheus/v1"
service: "checkout"
labels:
  team: "payments"
slos:
  - name: "requests-availability"
    objective: 99.9
    description: "Checkout requests answered without a server error."
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
    alerting:
      name: CheckoutHighErrorRate
      page_alert:
        labels:
          severity: page
      ticket_alert:
        labels:
          severity: ticket
`

// writeDemoSLOFile writes demoSLOFile into dir and returns its path.
func writeDemoSLOFile(dir string) (string, error) {
	path := filepath.Join(dir, "checkout-slo.yaml")
	if err := os.WriteFile(path, []byte(demoSLOFile), 0o600); err != nil {
		return "", fmt.Errorf("demo: SLO file: %w", err)
	}
	return path, nil
}

// demoTraffic is checkout's traffic as the demo's Prometheus knows it: a
// steady request rate, a baseline error ratio, and the bad stretches of
// the scripted incident, each with the error ratio it had.
type demoTraffic struct {
	rps      float64
	baseline float64
	bad      []demoBadStretch
}

// demoBadStretch is a stretch of time in which a share of requests failed.
type demoBadStretch struct {
	from, to time.Time
	ratio    float64
}

// demoCheckoutTraffic is what the script tells: the 14:00 deploy fails
// 38% of checkouts from 14:02 until the rollback starts at 14:16, fewer
// while it rolls out, a trickle until 14:26, then the baseline again.
// declared is the declaration's time (14:05).
func demoCheckoutTraffic(declared time.Time) demoTraffic {
	at := func(d time.Duration) time.Time { return declared.Add(d) }
	return demoTraffic{rps: 40, baseline: 0.0002, bad: []demoBadStretch{
		{from: at(-3 * time.Minute), to: at(11 * time.Minute), ratio: 0.38},
		{from: at(11 * time.Minute), to: at(14 * time.Minute), ratio: 0.20},
		{from: at(14 * time.Minute), to: at(21 * time.Minute), ratio: 0.02},
	}}
}

// measure is the error ratio and the number of requests between from and to.
func (t demoTraffic) measure(from, to time.Time) (ratio, requests float64) {
	span := to.Sub(from).Seconds()
	if span <= 0 {
		return 0, 0
	}
	failed := t.baseline * span
	for _, b := range t.bad {
		lo, hi := max(from.UnixNano(), b.from.UnixNano()), min(to.UnixNano(), b.to.UnixNano())
		if hi > lo {
			failed += (b.ratio - t.baseline) * float64(hi-lo) / 1e9
		}
	}
	return failed / span, t.rps * span
}

// describe says how service's traffic is at t, for a reader: its rate
// and, in a bad stretch, how many requests fail since when.
func (t demoTraffic) describe(service string, at time.Time) string {
	s := fmt.Sprintf("%s serves %g requests/s", service, t.rps)
	for _, b := range t.bad {
		if !at.Before(b.from) && at.Before(b.to) {
			return s + fmt.Sprintf(", %g%% failing since %s", b.ratio*100, b.from.UTC().Format("15:04"))
		}
	}
	return s + fmt.Sprintf(", %g%% failing", t.baseline*100)
}

// promWindowRE finds the window of an instant query: its first [range].
var promWindowRE = regexp.MustCompile(`\[([0-9a-z]+)\]`)

// answer answers an instant query of the evaluator from the traffic over
// the query's window, ending at the query's time.
func (t demoTraffic) answer(query string, ts time.Time) (model.Value, error) {
	m := promWindowRE.FindStringSubmatch(query)
	if m == nil {
		return nil, fmt.Errorf("no [window] in the query %q", query)
	}
	d, err := model.ParseDuration(m[1])
	if err != nil {
		return nil, fmt.Errorf("window %s: %w", m[1], err)
	}
	ratio, requests := t.measure(ts.Add(-time.Duration(d)), ts)
	return slotest.Windows{m[1]: {Ratio: ratio, Requests: requests}}.Answer(query, ts)
}

// newDemoPrometheus starts the demo's Prometheus: Prometheus's HTTP API
// for instant queries, on loopback, answering from t.
func newDemoPrometheus(t demoTraffic) *httptest.Server {
	return httptest.NewServer(slotest.Handler(t.answer))
}
