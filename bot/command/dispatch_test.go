package command

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
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

// slackHealth is a SlackHealth that answers what it is told.
type slackHealth struct {
	since  time.Time // zero: Slack answers
	queued int
}

func (h slackHealth) SlackDown() (time.Time, int, bool) { return h.since, h.queued, !h.since.IsZero() }

// TestUpdateWhileSlackIsDownIsQueuedNotPosted: while Slack is unreachable
// the reply to an update says it is recorded and queued, never "posted".
func TestUpdateWhileSlackIsDownIsQueuedNotPosted(t *testing.T) {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	d := &Dispatcher{Store: storagetest.Open(t)}
	rep := d.Handle(t.Context(), Request{Text: "declare sev1 Checkout down", User: "U0ALICE", Key: "declare", At: at, Source: timeline.SourceCommand})
	require.Equal(t, http.StatusOK, rep.Code, rep.Text)

	tests := []struct {
		name   string
		health SlackHealth
		want   string
	}{
		{"no health source", nil, "INC-1: update posted."},
		{"Slack answers", slackHealth{}, "INC-1: update posted."},
		{"Slack unreachable", slackHealth{since: at.Add(2 * time.Minute), queued: 7},
			"INC-1: update recorded and queued, not posted: Slack's API is unreachable (since 09:02 UTC, 7 Slack actions queued). " +
				"It will be posted when Slack answers again, with the time you wrote it and the incident's state at that time."},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d.Health = tc.health
			rep := d.Handle(t.Context(), Request{
				Text: "update INC-1 rolling back the 09:00 deploy", User: "U0ALICE",
				Key: fmt.Sprintf("update-%d", i), At: at.Add(5 * time.Minute), Source: timeline.SourceCommand,
			})
			require.Equal(t, http.StatusOK, rep.Code, rep.Text)
			require.Equal(t, tc.want, rep.Text)
		})
	}
}
