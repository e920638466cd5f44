package jobs

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// People of the action reminder tests: alice works in UTC, bob in Tokyo
// (UTC+9), carol in Los Angeles (UTC−8 in December).
const (
	bob   = "U0BOB000001"
	carol = "U0CAROL0001"
)

// reminderRig is a store of incidents with action items, and what the
// reminders queued on it.
type reminderRig struct {
	t   *testing.T
	ctx context.Context
	db  *storage.DB
	r   *ActionReminders
	n   int
}

func newReminderRig(t *testing.T) *reminderRig {
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	la, err := time.LoadLocation("America/Los_Angeles")
	require.NoError(t, err)
	db := storagetest.Open(t)
	return &reminderRig{t: t, ctx: t.Context(), db: db, r: &ActionReminders{Store: db, Zones: func(u string) *time.Location {
		switch u {
		case bob:
			return tokyo
		case carol:
			return la
		}
		return nil // alice: unknown, UTC
	}}}
}

func (g *reminderRig) meta(actor string, at time.Time) incident.Meta {
	g.n++
	return incident.Meta{At: at, Actor: actor, Source: timeline.SourceCommand, Key: "cmd-" + strconv.Itoa(g.n)}
}

func (g *reminderRig) declare(title string, private bool, at time.Time) uint64 {
	g.t.Helper()
	m := g.meta(alice, at)
	res, err := g.db.Declare(g.ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: title, Severity: 2, Private: private}, m)
	})
	require.NoError(g.t, err)
	return res.Incident.Number
}

func (g *reminderRig) apply(n uint64, at time.Time, cmd func(inc *incident.Incident, m incident.Meta) (incident.Change, error)) {
	g.t.Helper()
	m := g.meta(alice, at)
	_, err := g.db.Apply(g.ctx, n, m.Key, func(inc *incident.Incident) (incident.Change, error) { return cmd(inc, m) })
	require.NoError(g.t, err)
}

func (g *reminderRig) add(n uint64, at time.Time, text, owner, priority string) {
	g.t.Helper()
	g.apply(n, at, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.AddActionItem(incident.NewAction{Text: text, Owner: owner, Priority: priority}, m)
	})
}

// reminders lists the overdue-item reminders queued so far, across
// incidents: "owner day items".
func (g *reminderRig) reminders(incs ...uint64) []string {
	g.t.Helper()
	var out []string
	for _, n := range incs {
		for _, e := range entries(g.t, g.db, n, timeline.SourceReminder) {
			if e.Attr(timeline.AttrNudge) == incident.NudgeActionsOverdue {
				out = append(out, e.Attr(timeline.AttrUser)+" "+e.Attr(timeline.AttrDay))
			}
		}
	}
	return out
}

// TestActionRemindersOnTheOwnersWorkingDays drives the reminder job on an
// injected clock: one direct message a person a day, grouping every
// overdue item they own, on their working days in their own time zone,
// from 09:00 theirs; none on their weekend; none once the items are done;
// a private incident's item only to a member of it.
func TestActionRemindersOnTheOwnersWorkingDays(t *testing.T) {
	g := newReminderRig(t)
	mon := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC) // Monday 30 November
	pub := g.declare("Checkout down", false, mon)
	other := g.declare("Search slow", false, mon)
	secret := g.declare("Payroll leak", true, mon)
	g.apply(secret, mon, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MembersSynced([]string{alice, carol}, m)
	})
	g.add(pub, mon, "alert on pool saturation", alice, "P0") // due Mon 7 Dec
	g.add(pub, mon, "canary the config push", bob, "P0")     // due Mon 7 Dec
	g.add(other, mon, "tune the cache", alice, "P0")         // due Mon 7 Dec
	g.add(other, mon, "write the runbook", alice, "P3")      // no due day: never overdue
	g.add(pub, mon, "add a search SLO", carol, "P0")         // due Mon 7 Dec
	g.add(secret, mon, "rotate the payroll keys", bob, "P0") // bob is no member: never named to him
	g.add(secret, mon, "audit the payroll export", carol, "P0")

	var woken int
	g.r.Committed = func() { woken++ }
	dms := func() []string { return g.reminders(pub, other, secret) }
	ticks := []struct {
		at   time.Time
		sent int
		why  string
	}{
		{time.Date(2026, 12, 7, 23, 0, 0, 0, time.UTC), 0, "due on Monday 7 December: not overdue that day anywhere"},
		{time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC), 1, "09:00 Tuesday in Tokyo: bob"},
		{time.Date(2026, 12, 8, 8, 59, 0, 0, time.UTC), 0, "08:59 for alice: not yet"},
		{time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC), 1, "09:00 Tuesday in UTC: alice, once for both her incidents"},
		{time.Date(2026, 12, 8, 9, 5, 0, 0, time.UTC), 0, "at most once a day"},
		{time.Date(2026, 12, 8, 17, 0, 0, 0, time.UTC), 1, "09:00 Tuesday in Los Angeles: carol"},
		{time.Date(2026, 12, 8, 23, 59, 0, 0, time.UTC), 0, "everyone had theirs today"},
		{time.Date(2026, 12, 9, 0, 0, 0, 0, time.UTC), 1, "Wednesday in Tokyo: bob again"},
		{time.Date(2026, 12, 12, 10, 0, 0, 0, time.UTC), 0, "Saturday in UTC and Tokyo, 02:00 Saturday in Los Angeles"},
		{time.Date(2026, 12, 12, 17, 0, 0, 0, time.UTC), 0, "Saturday 09:00 in Los Angeles"},
		{time.Date(2026, 12, 13, 23, 59, 0, 0, time.UTC), 0, "Monday 08:59 in Tokyo"},
		{time.Date(2026, 12, 14, 0, 0, 0, 0, time.UTC), 1, "Monday 09:00 in Tokyo"},
		{time.Date(2026, 12, 14, 1, 0, 0, 0, time.UTC), 0, "Sunday 17:00 in Los Angeles"},
	}
	for _, tk := range ticks {
		sent, err := g.r.Tick(g.ctx, tk.at)
		require.NoError(t, err)
		require.Equal(t, tk.sent, sent, "%s: %s", tk.at.Format(time.RFC1123), tk.why)
	}
	require.Equal(t, []string{
		bob + " 2026-12-08", alice + " 2026-12-08", carol + " 2026-12-08", bob + " 2026-12-09", bob + " 2026-12-14",
	}, dms(), "each recorded on the incident of the person's most overdue item, INC-1 for all three")
	require.Equal(t, 5, woken, "the executor is woken for each")

	// The queued messages name no items (the executor lists them when it
	// sends them): a public incident's outbox carries no other incident's
	// numbers.
	pending, err := g.db.Pending(g.ctx, 0)
	require.NoError(t, err)
	var queued int
	for _, p := range pending {
		if p.Effect.Template == incident.TemplateActionsDue {
			require.Equal(t, incident.EffectDM, p.Effect.Kind)
			require.Equal(t, []string{incident.ParamDay}, slices.Collect(maps.Keys(p.Effect.Params)))
			queued++
		}
	}
	require.Equal(t, 5, queued, "one message a person a day")

	// Done items are not reminded of: alice finishes both of hers.
	tue := time.Date(2026, 12, 15, 9, 0, 0, 0, time.UTC)
	g.apply(pub, tue, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionDone(1, m)
	})
	g.apply(other, tue, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.MarkActionWontDo(1, "the cache goes away", m)
	})
	sent, err := g.r.Tick(g.ctx, tue.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 1, sent, "bob, in his Tuesday evening; alice has nothing overdue; carol's day has not started")
	require.Contains(t, dms(), bob+" 2026-12-15")
	require.NotContains(t, dms(), alice+" 2026-12-15")

	// Carol's item moved to a later day is not overdue any more.
	g.apply(secret, tue, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.SetActionDue(2, "+30d", m)
	})
	sent, err = g.r.Tick(g.ctx, time.Date(2026, 12, 15, 17, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, 1, sent)
	pending, err = g.db.Pending(g.ctx, 0)
	require.NoError(t, err)
	last := pending[len(pending)-1].Effect
	require.Equal(t, carol, last.Target)
	require.Equal(t, pub, last.Incident)
}

// TestActionRemindersOutliveTheIncident: follow-up work is done after the
// incident is closed; its overdue items are reminded all the same, and the
// reminder is recorded on the incident of the most overdue item.
func TestActionRemindersOutliveTheIncident(t *testing.T) {
	g := newReminderRig(t)
	mon := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	old := g.declare("Checkout down", false, mon)
	g.add(old, mon, "alert on pool saturation", alice, "P0") // due Mon 7 Dec
	g.add(old, mon, "canary the config push", bob, "P0")     // due Mon 7 Dec
	g.apply(old, mon, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Resolve("rolled back", m)
	})
	g.apply(old, mon, func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
		return inc.Close("https://wiki.example/pm/1", m)
	})
	later := g.declare("Search slow", false, mon.Add(24*time.Hour))
	g.add(later, mon.Add(24*time.Hour), "tune the cache", alice, "P0") // due Tue 8 Dec: less overdue

	sent, err := g.r.Tick(g.ctx, time.Date(2026, 12, 10, 9, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, 2, sent, "alice and bob, whose items outlive the closed incident")
	require.ElementsMatch(t, []string{alice + " 2026-12-10", bob + " 2026-12-10"}, g.reminders(old),
		"recorded on the incident of each one's most overdue item")
	require.Empty(t, g.reminders(later))
}
