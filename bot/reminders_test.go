package bot

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

func TestRemindersPostEachNudgeOnce(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	m := incident.Meta{At: t0, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Payments down", Severity: 1}, m)
	})
	require.NoError(t, err)
	n := res.Incident.Number

	woken := 0
	r := &Reminders{Store: db, Committed: func() { woken++ }}

	sent, err := r.Tick(ctx, t0.Add(14*time.Minute))
	require.NoError(t, err)
	require.Zero(t, sent, "a SEV1 update is due after 15 minutes, not 14")

	sent, err = r.Tick(ctx, t0.Add(15*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 1, sent, "the update is due")
	sent, err = r.Tick(ctx, t0.Add(16*time.Minute))
	require.NoError(t, err)
	require.Zero(t, sent, "the same nudge is not posted twice")

	sent, err = r.Tick(ctx, t0.Add(30*time.Minute))
	require.NoError(t, err)
	require.Equal(t, 2, sent, "a second missed interval and the SEV1 OODA check-in")
	require.Equal(t, 2, woken)

	events, err := db.Events(ctx, n, 1)
	require.NoError(t, err)
	var kinds []string
	for _, e := range events {
		if e.Kind == timeline.KindNudged {
			kinds = append(kinds, e.Attr(timeline.AttrNudge))
			require.Equal(t, timeline.SourceReminder, e.Source)
		}
	}
	require.Equal(t, []string{"update_due", "update_due", "check_in"}, kinds)

	// Resolved incidents are left alone.
	rm := incident.Meta{At: t0.Add(31 * time.Minute), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "resolve"}
	_, err = db.Apply(ctx, n, rm.Key, func(inc *incident.Incident) (incident.Change, error) { return inc.Resolve("", rm) })
	require.NoError(t, err)
	sent, err = r.Tick(ctx, t0.Add(48*time.Hour))
	require.NoError(t, err)
	require.Zero(t, sent)
}

func TestSchedulerRefusesJobsWithoutDeadlines(t *testing.T) {
	run := func(context.Context, time.Time) error { return nil }
	_, err := NewScheduler(context.Background(), nil, time.Now, Job{Name: "x", Schedule: "@every 1m", Run: run})
	require.ErrorContains(t, err, "timeout")
	_, err = NewScheduler(context.Background(), nil, time.Now, Job{Name: "x", Schedule: "every minute", Timeout: time.Second, Run: run})
	require.ErrorContains(t, err, "bad schedule")
	c, err := NewScheduler(context.Background(), nil, time.Now, Job{Name: "x", Schedule: "@every 1m", Timeout: time.Second, Run: run})
	require.NoError(t, err)
	require.Len(t, c.Entries(), 1)
}
