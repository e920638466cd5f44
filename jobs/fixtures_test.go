package jobs

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/slo/slotest"
	"github.com/ooda-sre/ooda/timeline"
)

// alice is a person of the fake workspace.
const alice = "U0ALICE0001"

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

// sloT0 and sloTestFile are the shared SLO fixtures.
var sloT0 = slotest.T0

const sloTestFile = slotest.CheckoutSLOFile
