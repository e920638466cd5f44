package insights_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/timeline"
)

// The people of the seeded history and where they live.
const (
	alice    = "U0ALICE0001" // no known zone: UTC
	security = "U0SECURITY1" // declared the private incident
	tokyo    = "U0TOKYO0001"
	newYork  = "U0NEWYORK01"
	reader   = "U0READER001" // sees public incidents only
)

func zonesOf(t *testing.T) incident.Zones {
	byUser := map[string]*time.Location{tokyo: zone(t, "Asia/Tokyo"), newYork: zone(t, "America/New_York")}
	return func(user string) *time.Location { return byUser[user] }
}

// seeded is a September of incidents with known answers. The range is
// 2026-09-01 (a Tuesday) to 2026-09-30; now is 2026-10-05 02:00 UTC,
// which is still 4 October in New York and already 5 October in Tokyo.
func seeded(t *testing.T) insights.Input {
	var h history
	// INC-1: an alert 10 min before the declaration, monitoring after 30
	// min, resolved after 1 h, post-mortem published two days later.
	h.declare(1, utc(t, "2026-09-01T10:00"), 2, "checkout", alice, false).
		alert(utc(t, "2026-09-01T09:50")).
		role(utc(t, "2026-09-01T10:00"), "commander", alice).
		status(utc(t, "2026-09-01T10:30"), incident.StatusMonitoring).
		action(utc(t, "2026-09-01T10:40"), 1, tokyo, "2026-09-10").
		action(utc(t, "2026-09-01T10:41"), 2, newYork, "2026-09-10").
		action(utc(t, "2026-09-01T10:42"), 3, tokyo, "2026-09-10").
		action(utc(t, "2026-09-01T10:43"), 4, newYork, "2026-10-04").
		action(utc(t, "2026-09-01T10:44"), 5, tokyo, "2026-10-04").
		action(utc(t, "2026-09-01T10:45"), 6, "", "").
		action(utc(t, "2026-09-01T10:46"), 7, alice, "").
		resolve(utc(t, "2026-09-01T11:00")).
		// 23:00 on the due day in Tokyo: on time.
		actionChange(utc(t, "2026-09-10T14:00"), 1, timeline.ActionChangeDone).
		// 23:00 on the due day in New York (already the 11th in UTC): on time.
		actionChange(utc(t, "2026-09-11T03:00"), 2, timeline.ActionChangeDone).
		// 01:00 the day after in Tokyo (still the 10th in UTC): late.
		actionChange(utc(t, "2026-09-10T16:00"), 3, timeline.ActionChangeDone).
		actionChange(utc(t, "2026-09-02T09:00"), 6, timeline.ActionChangeWontDo).
		actionChange(utc(t, "2026-09-02T09:00"), 7, timeline.ActionChangeDone).
		kind(utc(t, "2026-09-03T11:00"), timeline.KindClosed, timeline.AttrURL, "https://wiki.example.com/inc-1")
	// INC-2: customer-impacting; its only observation came after the
	// declaration; resolved after 2 h without monitoring; post-mortem
	// never published, so overdue.
	h.declare(2, utc(t, "2026-09-09T14:00"), 3, "search", alice, false).
		kind(utc(t, "2026-09-09T14:01"), timeline.KindImpactSet).
		observe(utc(t, "2026-09-09T14:05"), time.Time{}).
		resolve(utc(t, "2026-09-09T16:00"))
	// INC-3: a Sunday, still open; an observation backdated to an hour
	// before the declaration.
	h.declare(3, utc(t, "2026-09-20T08:00"), 1, "checkout", alice, false).
		observe(utc(t, "2026-09-20T08:10"), utc(t, "2026-09-20T07:00"))
	// INC-4: private; resolved after 1 h, its post-mortem overdue.
	h.declare(4, utc(t, "2026-09-15T09:00"), 1, "payroll", security, true).
		role(utc(t, "2026-09-15T09:00"), "commander", security).
		resolve(utc(t, "2026-09-15T10:00"))
	// INC-5: before the range.
	h.declare(5, utc(t, "2026-08-20T09:00"), 1, "checkout", alice, false).
		resolve(utc(t, "2026-08-20T10:00"))
	incs, events := h.input()
	return insights.Input{
		Incidents: incs, Events: events,
		From: utc(t, "2026-09-01T00:00"), To: utc(t, "2026-10-01T00:00"), Now: utc(t, "2026-10-05T02:00"),
		Zone: zonesOf(t),
	}
}

// as is the input as person may see it.
func as(in insights.Input, person string) insights.Input {
	in.May = func(inc incident.Incident) bool { return inc.Admits(person) }
	return in
}

func TestWeekly(t *testing.T) {
	in := seeded(t)
	type week struct {
		iso   string
		total int
		sev   map[string]int
		svc   map[string]int
	}
	tests := []struct {
		name     string
		in       insights.Input
		services []string
		want     []week
	}{
		{"a reader leaves the private incident out", as(in, reader), []string{"checkout", "search"}, []week{
			{"2026-W36", 1, map[string]int{"SEV2": 1}, map[string]int{"checkout": 1}},
			{"2026-W37", 1, map[string]int{"SEV3": 1}, map[string]int{"search": 1}},
			{"2026-W38", 1, map[string]int{"SEV1": 1}, map[string]int{"checkout": 1}},
			{"2026-W39", 0, map[string]int{}, map[string]int{}},
			{"2026-W40", 0, map[string]int{}, map[string]int{}},
		}},
		{"a member counts it", as(in, security), []string{"checkout", "payroll", "search"}, []week{
			{"2026-W36", 1, map[string]int{"SEV2": 1}, map[string]int{"checkout": 1}},
			{"2026-W37", 1, map[string]int{"SEV3": 1}, map[string]int{"search": 1}},
			{"2026-W38", 2, map[string]int{"SEV1": 2}, map[string]int{"checkout": 1, "payroll": 1}},
			{"2026-W39", 0, map[string]int{}, map[string]int{}},
			{"2026-W40", 0, map[string]int{}, map[string]int{}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := insights.Compute(tt.in)
			require.Equal(t, []string{"SEV1", "SEV2", "SEV3", "SEV4"}, r.Weekly.Severities)
			require.Equal(t, tt.services, r.Weekly.Services)
			require.Len(t, r.Weekly.Weeks, len(tt.want))
			require.Equal(t, utc(t, "2026-08-31T00:00"), r.Weekly.Weeks[0].Start, "weeks start on Monday 00:00 UTC")
			total := 0
			for i, w := range tt.want {
				got := r.Weekly.Weeks[i]
				require.Equal(t, w.iso, got.ISOWeek)
				require.Equal(t, w.total, got.Total, w.iso)
				require.Equal(t, w.sev, got.BySeverity, w.iso)
				require.Equal(t, w.svc, got.ByService, w.iso)
				total += w.total
			}
			require.Equal(t, total, r.Incidents, "INC-5 was declared before the range")
		})
	}
}

func TestDurations(t *testing.T) {
	in := seeded(t)
	type figure struct {
		count       int
		median, p90 time.Duration
	}
	tests := []struct {
		name string
		in   insights.Input
		want map[string]figure
	}{
		{"reader", as(in, reader), map[string]figure{
			// INC-1 10 min (alert), INC-3 1 h (backdated observation);
			// INC-2's only observation came after it was declared.
			insights.TimeToDeclare: {2, 10 * time.Minute, time.Hour},
			// INC-1 at monitoring (30 min), INC-2 at resolution (2 h);
			// INC-3 has done neither.
			insights.TimeToMitigate: {2, 30 * time.Minute, 2 * time.Hour},
			// INC-3 is open.
			insights.TimeToResolve: {2, time.Hour, 2 * time.Hour},
			// Only INC-1 is published.
			insights.TimeToPublish: {1, 48 * time.Hour, 48 * time.Hour},
		}},
		{"member", as(in, security), map[string]figure{
			insights.TimeToDeclare:  {2, 10 * time.Minute, time.Hour},
			insights.TimeToMitigate: {3, time.Hour, 2 * time.Hour},
			insights.TimeToResolve:  {3, time.Hour, 2 * time.Hour},
			insights.TimeToPublish:  {1, 48 * time.Hour, 48 * time.Hour},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := insights.Compute(tt.in)
			require.Len(t, r.Durations, 4)
			for i, name := range []string{insights.TimeToDeclare, insights.TimeToMitigate, insights.TimeToResolve, insights.TimeToPublish} {
				d := r.Durations[i]
				require.Equal(t, name, d.Name)
				require.NotEmpty(t, d.Definition)
				w := tt.want[name]
				require.Equal(t, w.count, d.Count, name)
				require.NotNil(t, d.MedianSeconds, name)
				require.Equal(t, int64(w.median/time.Second), *d.MedianSeconds, name)
				require.Equal(t, int64(w.p90/time.Second), *d.P90Seconds, name)
				require.Equal(t, insights.Human(w.median), d.Median)
			}
			require.Equal(t, "2 d 00 h", r.Durations[3].Median)
		})
	}

	t.Run("nothing measured is null, not zero", func(t *testing.T) {
		in := as(in, reader)
		in.From, in.To = utc(t, "2027-01-01T00:00"), utc(t, "2027-02-01T00:00")
		r := insights.Compute(in)
		for _, d := range r.Durations {
			require.Zero(t, d.Count)
			require.Nil(t, d.MedianSeconds)
			require.Nil(t, d.P90Seconds)
			require.Empty(t, d.Median)
		}
	})
}

func TestPercentile(t *testing.T) {
	mins := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Minute
		}
		return out
	}
	tests := []struct {
		name      string
		sorted    []time.Duration
		p         int
		want      time.Duration
		wantFound bool
	}{
		{"empty", nil, 50, 0, false},
		{"one value is every percentile", mins(7), 90, 7 * time.Minute, true},
		{"median of an even count is the lower middle", mins(1, 2, 3, 4), 50, 2 * time.Minute, true},
		{"median of an odd count is the middle", mins(1, 2, 3, 4, 5), 50, 3 * time.Minute, true},
		{"p90 of 10 is the 9th", mins(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Minute, true},
		{"p90 of 11 is the 10th (rank ⌈9.9⌉)", mins(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10 * time.Minute, true},
		{"p90 of 4 is the largest (rank ⌈3.6⌉)", mins(1, 2, 3, 4), 90, 4 * time.Minute, true},
		{"p100 is the largest", mins(1, 2, 3), 100, 3 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := insights.Percentile(tt.sorted, tt.p)
			require.Equal(t, tt.wantFound, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestHuman(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second:                "45 s",
		9*time.Minute + 59*time.Second:  "9 min",
		2*time.Hour + 5*time.Minute:     "2 h 05 min",
		47*time.Hour + 59*time.Minute:   "47 h 59 min",
		3*24*time.Hour + 4*time.Hour:    "3 d 04 h",
		48*time.Hour + 30*time.Minute:   "2 d 00 h",
		-time.Second:                    "0 s",
		61*time.Minute + 30*time.Second: "1 h 01 min",
	} {
		require.Equal(t, want, insights.Human(d), d.String())
	}
}

func TestPostmortemsAndActions(t *testing.T) {
	in := seeded(t)
	tests := []struct {
		name    string
		in      insights.Input
		pm      insights.Postmortems
		actions insights.Actions
	}{
		{"reader", as(in, reader),
			// INC-1 (SEV2) and INC-2 (customer-impacting) owe one; INC-3
			// (SEV1) does too, while open, but is not overdue.
			insights.Postmortems{Required: 3, Published: 1, Overdue: 1, OverdueIncidents: []string{"INC-2"}},
			// 1 and 2 on time in their owners' zones, 3 late in Tokyo; 5 is
			// overdue in Tokyo (the 5th), 4 not yet in New York (the 4th).
			insights.Actions{Total: 7, Open: 2, Overdue: 1, Done: 4, DoneOnTime: 2, DoneLate: 1, DoneUndated: 1, WontDo: 1}},
		{"member", as(in, security),
			insights.Postmortems{Required: 4, Published: 1, Overdue: 2, OverdueIncidents: []string{"INC-2", "INC-4"}},
			insights.Actions{Total: 7, Open: 2, Overdue: 1, Done: 4, DoneOnTime: 2, DoneLate: 1, DoneUndated: 1, WontDo: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := insights.Compute(tt.in)
			tt.pm.Definition, tt.actions.Definition = insights.DefinePostmortems, insights.DefineActions
			require.Equal(t, tt.pm, r.Postmortems)
			require.Equal(t, tt.actions, r.Actions)
		})
	}

	t.Run("in UTC the answers differ", func(t *testing.T) {
		in := as(in, reader)
		in.Zone = nil
		r := insights.Compute(in)
		// UTC: 1 on time, 2 late (the 11th), 3 on time (the 10th); both
		// open items are past the 4th.
		require.Equal(t, insights.Actions{Definition: insights.DefineActions, Total: 7, Open: 2, Overdue: 2, Done: 4, DoneOnTime: 2, DoneLate: 1, DoneUndated: 1, WontDo: 1}, r.Actions)
	})
}

// TestPrivateLeftOut: a private incident is in no figure for a person it
// does not admit, and in every one for its member.
func TestPrivateLeftOut(t *testing.T) {
	in := seeded(t)
	hidden := insights.Compute(as(in, reader))
	shown := insights.Compute(as(in, security))
	require.Equal(t, 3, hidden.Incidents)
	require.Equal(t, 4, shown.Incidents)
	require.NotContains(t, hidden.Weekly.Services, "payroll")
	require.NotContains(t, hidden.Postmortems.OverdueIncidents, "INC-4")
	for _, p := range hidden.Load.People {
		require.NotEqual(t, security, p.User, "the private incident's Commander held no role the reader may see")
	}
	var held float64
	for _, p := range shown.Load.People {
		if p.User == security {
			held = p.CommanderHours
		}
	}
	require.InDelta(t, 1.0, held, 1e-9)
}

func TestDefinitionsWritten(t *testing.T) {
	r := insights.Compute(seeded(t))
	require.Equal(t, insights.DefineRange, r.Definition)
	require.Equal(t, insights.DefineWeekly, r.Weekly.Definition)
	require.Equal(t, insights.DefineLoad, r.Load.Definition)
	for _, d := range r.Durations {
		require.Contains(t, d.Definition, "nearest-rank")
	}
}
