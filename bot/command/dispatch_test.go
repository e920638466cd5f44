package command

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// unreachable is a store whose every call fails as a store without quorum
// does.
type unreachable struct{ incident.Store }

func (unreachable) Apply(context.Context, uint64, string, incident.Decider) (incident.Result, error) {
	return incident.Result{}, fmt.Errorf("apply: %w: context deadline exceeded", incident.ErrUnavailable)
}

func (unreachable) Incident(context.Context, uint64) (incident.Incident, error) {
	return incident.Incident{}, fmt.Errorf("read: %w", incident.ErrUnavailable)
}

// TestUnreachableStoreIsSaid: a command the store could not record is
// answered at once with a sentence saying so, never acknowledged.
func TestUnreachableStoreIsSaid(t *testing.T) {
	d := &Dispatcher{Store: unreachable{storagetest.Open(t)}}
	reply := d.Handle(t.Context(), Request{Text: "note INC-1 rolled back", User: "U0ALICE"})
	require.Equal(t, http.StatusServiceUnavailable, reply.Code)
	require.Equal(t, "Not recorded: Ooda's store is unreachable; try again in a minute.", reply.Text)
}
