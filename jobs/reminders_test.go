package jobs

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

// TestRemindersPostmortemDue: a resolved incident that needs a
// post-mortem reminds its Commander in its channel once per working day
// until the post-mortem is published; one that needs none is left alone.
func TestRemindersPostmortemDue(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	thu := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC) // a Thursday
	declare := func(key, title string, sev int) uint64 {
		m := incident.Meta{At: thu.Add(8 * time.Hour), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: key}
		res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
			return incident.Declare(n, incident.Declaration{Title: title, Severity: sev}, m)
		})
		require.NoError(t, err)
		return res.Incident.Number
	}
	apply := func(n uint64, key string, at time.Time, cmd func(inc *incident.Incident, m incident.Meta) (incident.Change, error)) {
		m := incident.Meta{At: at, Actor: "U0ALICE", Source: timeline.SourceCommand, Key: key}
		_, err := db.Apply(ctx, n, key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
		require.NoError(t, err)
	}
	resolve := func(inc *incident.Incident, m incident.Meta) (incident.Change, error) { return inc.Resolve("", m) }
	sev2 := declare("d1", "Checkout down", 2)
	sev3 := declare("d2", "Cron noise", 3)
	impacting := declare("d3", "Refunds late", 4)
	apply(impacting, "impact", thu.Add(8*time.Hour+time.Minute), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetImpact("refunds took a day", m)
	})
	apply(sev2, "resolve-1", thu.Add(9*time.Hour), resolve)
	apply(sev3, "resolve-2", thu.Add(9*time.Hour), resolve)
	apply(impacting, "resolve-3", thu.Add(9*time.Hour), resolve)
	r := &Reminders{Store: db}
	dueNudges := func(n uint64) []timeline.Event {
		evs, err := db.Events(ctx, n, 1)
		require.NoError(t, err)
		var out []timeline.Event
		for _, e := range evs {
			if e.Kind == timeline.KindNudged && e.Attr(timeline.AttrNudge) == "postmortem_due" {
				out = append(out, e)
			}
		}
		return out
	}

	ticks := []struct {
		at   time.Duration // after Thursday 00:00
		sent int
		why  string
	}{
		{at: 23 * time.Hour, why: "not on the day of the resolution"},
		{at: 24*time.Hour + 8*time.Hour, why: "Friday, before 09:00"},
		{at: 24*time.Hour + 9*time.Hour, sent: 2, why: "Friday 09:00: the SEV2 and the customer-impacting one"},
		{at: 24*time.Hour + 9*time.Hour + time.Minute, why: "once a day"},
		{at: 24*time.Hour + 17*time.Hour, why: "once a day"},
		{at: 2*24*time.Hour + 10*time.Hour, why: "not on Saturday"},
		{at: 3*24*time.Hour + 10*time.Hour, why: "not on Sunday"},
		{at: 4*24*time.Hour + 9*time.Hour + 30*time.Minute, sent: 2, why: "Monday"},
	}
	for _, tk := range ticks {
		sent, err := r.Tick(ctx, thu.Add(tk.at))
		require.NoError(t, err)
		require.Equal(t, tk.sent, sent, tk.why)
	}
	require.Len(t, dueNudges(sev2), 2)
	require.Len(t, dueNudges(impacting), 2)
	require.Empty(t, dueNudges(sev3), "a SEV3 without customer impact needs no post-mortem")
	n := dueNudges(sev2)[0]
	require.Equal(t, "U0ALICE", n.Attr(timeline.AttrUser), "addressed to the Commander")
	require.Equal(t, "commander", n.Attr(timeline.AttrRole))
	require.Equal(t, timeline.SourceReminder, n.Source)

	// Published: the reminders stop. Reopened: the loop's own nudges take over.
	apply(sev2, "publish", thu.Add(4*24*time.Hour+11*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example.com/pm/1", m)
	})
	apply(impacting, "reopen", thu.Add(4*24*time.Hour+11*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Reopen(m)
	})
	_, err := r.Tick(ctx, thu.Add(5*24*time.Hour+10*time.Hour))
	require.NoError(t, err)
	require.Len(t, dueNudges(sev2), 2, "no reminder after publishing")
	require.Len(t, dueNudges(impacting), 2, "no post-mortem reminder while it is open again")
}
