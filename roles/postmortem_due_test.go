package roles

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The week of t0 (Thursday 26 November 2026), day by day.
var (
	thu = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	fri = thu.AddDate(0, 0, 1)
	sat = thu.AddDate(0, 0, 2)
	sun = thu.AddDate(0, 0, 3)
	mon = thu.AddDate(0, 0, 4)
	tue = thu.AddDate(0, 0, 5)
)

func TestPostmortemRequired(t *testing.T) {
	tests := []struct {
		sev      int
		impacted bool
		want     bool
	}{
		{1, false, true},
		{2, false, true},
		{3, false, false},
		{4, false, false},
		{3, true, true},
		{4, true, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, PostmortemRequired(tt.sev, tt.impacted), "SEV%d customer-impacting=%v", tt.sev, tt.impacted)
	}
}

func TestPostmortemDueAt(t *testing.T) {
	tests := []struct {
		name     string
		resolved time.Time
		want     time.Time
	}{
		{"Thursday: due Friday", thu.Add(14 * time.Hour), fri.Add(9 * time.Hour)},
		{"Thursday just before midnight", thu.Add(24*time.Hour - time.Second), fri.Add(9 * time.Hour)},
		{"Friday: due Monday", fri.Add(10 * time.Hour), mon.Add(9 * time.Hour)},
		{"Saturday: due Monday", sat.Add(3 * time.Hour), mon.Add(9 * time.Hour)},
		{"Sunday: due Monday", sun.Add(23 * time.Hour), mon.Add(9 * time.Hour)},
		{"Monday before 09:00: due Tuesday", mon.Add(time.Hour), tue.Add(9 * time.Hour)},
		{"another zone is read in UTC", time.Date(2026, 11, 27, 1, 0, 0, 0, time.FixedZone("UTC+3", 3*3600)), fri.Add(9 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, PostmortemDueAt(tt.resolved))
		})
	}
}

// TestPostmortemDueNudges: an incident that needs a post-mortem is
// reminded once per working day, from 09:00 UTC on the first working day
// after its resolution, until the post-mortem is published.
func TestPostmortemDueNudges(t *testing.T) {
	resolved := thu.Add(15 * time.Hour) // Thursday 15:00
	sev2 := Situation{Severity: 2, DeclaredAt: resolved.Add(-2 * time.Hour), ResolvedAt: resolved, Holders: Holders{Commander: "U1", Ops: "U1"}}
	impacting := Situation{Severity: 4, CustomerImpacting: true, DeclaredAt: resolved.Add(-time.Hour), ResolvedAt: resolved}
	sev3 := Situation{Severity: 3, DeclaredAt: resolved.Add(-time.Hour), ResolvedAt: resolved, Holders: Holders{Commander: "U1"}}
	published := sev2
	published.ResolvedAt = time.Time{} // closed: the post-mortem is out
	active := sev2
	active.Active, active.ResolvedAt = true, time.Time{}

	tests := []struct {
		name    string
		s       Situation
		at      time.Time
		wantKey string // "" means no post-mortem nudge
	}{
		{name: "the day of the resolution is left alone", s: sev2, at: thu.Add(23 * time.Hour)},
		{name: "not before 09:00 on the due day", s: sev2, at: fri.Add(9*time.Hour - time.Minute)},
		{name: "due Friday at 09:00", s: sev2, at: fri.Add(9 * time.Hour), wantKey: "postmortem_due/2026-11-27"},
		{name: "the same key all Friday", s: sev2, at: fri.Add(23*time.Hour + 59*time.Minute), wantKey: "postmortem_due/2026-11-27"},
		{name: "not on Saturday", s: sev2, at: sat.Add(10 * time.Hour)},
		{name: "not on Sunday", s: sev2, at: sun.Add(10 * time.Hour)},
		{name: "not before 09:00 on Monday", s: sev2, at: mon.Add(8 * time.Hour)},
		{name: "Monday: a new day, a new key", s: sev2, at: mon.Add(9 * time.Hour), wantKey: "postmortem_due/2026-11-30"},
		{name: "Tuesday", s: sev2, at: tue.Add(16 * time.Hour), wantKey: "postmortem_due/2026-12-01"},
		{name: "weeks later, still every working day", s: sev2, at: tue.AddDate(0, 0, 14).Add(9 * time.Hour), wantKey: "postmortem_due/2026-12-15"},
		{name: "customer-impacting SEV4", s: impacting, at: fri.Add(12 * time.Hour), wantKey: "postmortem_due/2026-11-27"},
		{name: "SEV3 without customer impact needs none", s: sev3, at: fri.Add(12 * time.Hour)},
		{name: "published: no more reminders", s: published, at: mon.Add(10 * time.Hour)},
		{name: "reopened: the loop's own nudges instead", s: active, at: fri.Add(12 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var due []Nudge
			for _, n := range Nudges(tt.s, tt.at) {
				if n.Kind == NudgePostmortemDue {
					due = append(due, n)
				}
			}
			require.Equal(t, tt.wantKey != "", PostmortemOverdue(tt.s, tt.at) && tt.at.Weekday() != time.Saturday && tt.at.Weekday() != time.Sunday && tt.at.Hour() >= PostmortemReminderHour,
				"the nudge is due exactly when the post-mortem is overdue on a working day's working hours")
			if tt.wantKey == "" {
				require.Empty(t, due)
				return
			}
			require.Len(t, due, 1)
			require.Equal(t, tt.wantKey, due[0].Key)
			require.Equal(t, Commander, due[0].Role)
			require.Equal(t, tt.s.Holders.Commander, due[0].User)
			if !tt.s.Active {
				require.Len(t, Nudges(tt.s, tt.at), 1, "a resolved incident gets no other nudge")
			}
		})
	}
}

func TestPostmortemOverdue(t *testing.T) {
	resolved := fri.Add(18 * time.Hour)
	s := Situation{Severity: 1, ResolvedAt: resolved}
	require.False(t, PostmortemOverdue(s, sat.Add(12*time.Hour)), "not over the weekend")
	require.False(t, PostmortemOverdue(s, mon.Add(9*time.Hour-time.Second)))
	require.True(t, PostmortemOverdue(s, mon.Add(9*time.Hour)))
	require.True(t, PostmortemOverdue(s, sat.AddDate(0, 0, 7)), "overdue stays overdue at the weekend")
	s.Active = true
	require.False(t, PostmortemOverdue(s, tue), "an active incident owes nothing yet")
	require.False(t, PostmortemOverdue(Situation{Severity: 4, ResolvedAt: resolved}, tue), "SEV4 without customer impact owes nothing")
}

func TestPostmortemDueText(t *testing.T) {
	s := Situation{Severity: 2, ResolvedAt: thu.Add(15 * time.Hour), Holders: Holders{Commander: "U1"}}
	got := Nudges(s, mon.Add(10*time.Hour))
	require.Len(t, got, 1)
	require.Equal(t, "The post-mortem is due: SEV2 incidents get one, and this one was resolved on Thu 26 Nov (2 working days ago). "+
		"Start from the draft `/incident postmortem` writes from the timeline, then record where it is published with `/incident postmortem publish <url>`.", got[0].Text)

	s.CustomerImpacting, s.PostmortemDrafted = true, true
	got = Nudges(s, fri.Add(10*time.Hour))
	require.Len(t, got, 1)
	require.Equal(t, "The post-mortem is due: customer-impacting incidents get one, and this one was resolved on Thu 26 Nov (1 working day ago). "+
		"The draft is bookmarked in this channel: edit it where your team publishes post-mortems, then record the link with `/incident postmortem publish <url>`.", got[0].Text)
}
