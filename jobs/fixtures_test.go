package jobs

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/timeline"
)

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

// sloT0 is when the SLO tests start evaluating.
var sloT0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// sloTestFile is a Sloth file with one events SLO, checkout/availability
// at 99.9 %.
const sloTestFile = `version: prometheus/v1
service: checkout
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: sum(rate(http_requests_total{service="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{service="checkout"}[{{.window}}]))
`

// entries returns incident n's events from src.
func entries(t testing.TB, db incident.Store, n uint64, src timeline.Source) []timeline.Event {
	t.Helper()
	evs, err := db.Events(t.Context(), n, 1)
	require.NoError(t, err)
	var out []timeline.Event
	for _, e := range evs {
		if e.Source == src {
			out = append(out, e)
		}
	}
	return out
}
