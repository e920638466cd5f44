package app

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The alert receiver's Run posts triage messages from what its process
// showed: on two replicas at once it would post a group twice.
func TestAlertReceiverRunsOnlyOnTheLeader(t *testing.T) {
	var found bool
	for _, w := range (&App{}).workers() {
		if w.name == "alert receiver" {
			found = true
			require.True(t, w.gated, "the alert receiver is gated by the leadership")
		}
	}
	require.True(t, found, "the alert receiver is a worker")
}
