package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/app"
	"github.com/ooda-sre/ooda/bot/slacktest"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestActionRemindersReachOwnersInTheirZone: the app's action-reminders
// job, run at an injected instant, reminds an owner by a direct message
// on their working day in the time zone Slack gives them (read into the
// people directory), once that day, and no more once the item is done.
func TestActionRemindersReachOwnersInTheirZone(t *testing.T) {
	const owner = "U0BOB0LA"
	fake := slacktest.New()
	t.Cleanup(fake.Close)
	fake.AddUser(slackTestUser, "alice")
	fake.AddMember(slacktest.Member{ID: owner, Handle: "bob", TZ: "America/Los_Angeles"})
	cfg := app.DefaultConfig()
	cfg.SlackBotToken = slackTestBotToken
	cfg.SlackSigningSecret = slackTestSecret
	cfg.SlackAPIURL = fake.URL()
	db := storagetest.Open(t)
	a := newApp(t, cfg, db, app.Options{})
	ctx := t.Context()
	_, err := a.RefreshPeople(ctx)
	require.NoError(t, err)

	tue := time.Date(2026, 12, 1, 17, 0, 0, 0, time.UTC)
	m := incident.Meta{At: tue, Actor: slackTestUser, Source: timeline.SourceCommand, Key: "declare"}
	res, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Checkout down", Severity: 2}, m)
	})
	require.NoError(t, err)
	n := res.Incident.Number
	apply := func(key string, at time.Time, cmd func(*incident.Incident, incident.Meta) (incident.Change, error)) {
		m := incident.Meta{At: at, Actor: slackTestUser, Source: timeline.SourceCommand, Key: key}
		_, err := db.Apply(ctx, n, key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
		require.NoError(t, err)
	}
	apply("action", tue, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: "alert on pool saturation", Owner: owner, Priority: "P0"}, m) // due Tue 8 Dec
	})
	_, err = a.Drain(ctx)
	require.NoError(t, err)

	remind := func(at time.Time) int {
		sent, err := a.RemindActionOwners(ctx, at)
		require.NoError(t, err)
		_, err = a.Drain(ctx)
		require.NoError(t, err)
		return sent
	}
	// Saturday 12 December 02:00 UTC is Friday 18:00 in Los Angeles: a
	// working day there, the item overdue since Wednesday.
	sat := time.Date(2026, 12, 12, 2, 0, 0, 0, time.UTC)
	require.Equal(t, 1, remind(sat))
	dms := fake.DirectMessages(owner)
	require.Len(t, dms, 1)
	require.Equal(t, "You own 1 overdue action item: INC-1 #1.", dms[0].Text)
	require.Equal(t, 0, remind(sat.Add(3*time.Hour)), "once a day")
	require.Equal(t, 0, remind(sat.Add(24*time.Hour)), "Saturday in Los Angeles")
	// Monday 14 December 01:00 UTC is still Sunday in Los Angeles.
	require.Equal(t, 0, remind(time.Date(2026, 12, 14, 1, 0, 0, 0, time.UTC)))

	apply("done", sat.Add(48*time.Hour), func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	require.Equal(t, 0, remind(time.Date(2026, 12, 14, 18, 0, 0, 0, time.UTC)), "Monday in Los Angeles, but the item is done")
	require.Len(t, fake.DirectMessages(owner), 1)
}
