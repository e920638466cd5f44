package insights_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/timeline"
)

// TestLoad: the hours each person held each role, and how many of them
// fell outside 09:00–18:00, Monday to Friday, in their own zone.
func TestLoad(t *testing.T) {
	const bob, unknown = "U0BOB000001", "U0NOZONE001"
	type held struct {
		zone                           string
		commander, comms, ops, outside float64 // hours
	}
	tests := []struct {
		name     string
		history  func(h *history)
		from, to string
		now      string
		want     map[string]held
	}{
		{
			name: "a handover mid-incident; the rest of the day past 18:00 is outside",
			history: func(h *history) {
				// Monday 7 September, UTC for both.
				h.declare(1, utc(t, "2026-09-07T10:00"), 2, "checkout", alice, false).
					role(utc(t, "2026-09-07T10:00"), "commander", alice).
					role(utc(t, "2026-09-07T12:00"), "commander", bob).
					resolve(utc(t, "2026-09-07T20:00"))
			},
			from: "2026-09-01T00:00", to: "2026-10-01T00:00", now: "2026-10-05T00:00",
			want: map[string]held{
				alice: {zone: "UTC", commander: 2},
				bob:   {zone: "UTC", commander: 8, outside: 2},
			},
		},
		{
			name: "the same six hours in New York, Tokyo and UTC: across 18:00 on a Friday, a Saturday morning, a Friday night",
			history: func(h *history) {
				// Friday 11 September 20:00 UTC to Saturday 02:00 UTC: 16:00–22:00
				// Friday in New York (EDT), 05:00–11:00 Saturday in Tokyo.
				h.declare(1, utc(t, "2026-09-11T20:00"), 2, "checkout", unknown, false).
					role(utc(t, "2026-09-11T20:00"), "commander", unknown).
					role(utc(t, "2026-09-11T20:00"), "ops", newYork).
					role(utc(t, "2026-09-11T20:00"), "comms", tokyo).
					resolve(utc(t, "2026-09-12T02:00"))
			},
			from: "2026-09-01T00:00", to: "2026-10-01T00:00", now: "2026-10-05T00:00",
			want: map[string]held{
				newYork: {zone: "America/New_York", ops: 6, outside: 4},
				tokyo:   {zone: "Asia/Tokyo", comms: 6, outside: 6},
				unknown: {zone: "UTC", commander: 6, outside: 6},
			},
		},
		{
			name: "the day daylight saving ends in New York has 25 hours",
			history: func(h *history) {
				// Saturday 31 October 12:00 EDT (16:00 UTC) to Monday 2 November
				// 12:00 EST (17:00 UTC): 49 h, of which Monday 09:00–12:00 is work.
				h.declare(1, utc(t, "2026-10-31T16:00"), 2, "checkout", newYork, false).
					role(utc(t, "2026-10-31T16:00"), "commander", newYork).
					resolve(utc(t, "2026-11-02T17:00"))
			},
			from: "2026-10-01T00:00", to: "2026-12-01T00:00", now: "2026-12-01T00:00",
			want: map[string]held{
				newYork: {zone: "America/New_York", commander: 49, outside: 46},
			},
		},
		{
			name: "clipped to the range, an incident declared before it included; an open one holds until now",
			history: func(h *history) {
				// Declared Sunday 30 August 22:00, resolved Tuesday 1
				// September 02:00: only the 2 h from the 1st count.
				h.declare(1, utc(t, "2026-08-30T22:00"), 2, "checkout", alice, false).
					role(utc(t, "2026-08-30T22:00"), "commander", alice).
					resolve(utc(t, "2026-09-01T02:00"))
				// Open since Wednesday 30 September 17:00; now is 18:30.
				h.declare(2, utc(t, "2026-09-30T17:00"), 2, "checkout", bob, false).
					role(utc(t, "2026-09-30T17:00"), "commander", bob)
			},
			from: "2026-09-01T00:00", to: "2026-10-01T00:00", now: "2026-09-30T18:30",
			want: map[string]held{
				alice: {zone: "UTC", commander: 2, outside: 2},
				bob:   {zone: "UTC", commander: 1.5, outside: 0.5},
			},
		},
		{
			name: "a vacated role ends its holding; a reopened incident's holders hold again",
			history: func(h *history) {
				h.declare(1, utc(t, "2026-09-07T10:00"), 2, "checkout", alice, false).
					role(utc(t, "2026-09-07T10:00"), "commander", alice).
					role(utc(t, "2026-09-07T10:00"), "ops", bob).
					role(utc(t, "2026-09-07T10:30"), "ops", "").
					resolve(utc(t, "2026-09-07T11:00")).
					kind(utc(t, "2026-09-07T13:00"), timeline.KindReopened).
					resolve(utc(t, "2026-09-07T14:00"))
			},
			from: "2026-09-01T00:00", to: "2026-10-01T00:00", now: "2026-10-05T00:00",
			want: map[string]held{
				alice: {zone: "UTC", commander: 2},
				bob:   {zone: "UTC", ops: 0.5},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			tt.history(&h)
			incs, events := h.input()
			r := insights.Compute(insights.Input{
				Incidents: incs, Events: events, Zone: zonesOf(t),
				From: utc(t, tt.from), To: utc(t, tt.to), Now: utc(t, tt.now),
			})
			require.Equal(t, insights.DefineLoad, r.Load.Definition)
			got := map[string]held{}
			for _, p := range r.Load.People {
				got[p.User] = held{zone: p.Zone, commander: p.CommanderHours, comms: p.CommsHours, ops: p.OpsHours, outside: p.OutsideHours}
				require.InDelta(t, p.CommanderHours+p.CommsHours+p.OpsHours, p.Hours, 1e-9)
				require.InDelta(t, p.OutsideHours/p.Hours, p.OutsideShare, 1e-9)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestOutsideWork splits stretches at midnight and at 09:00 and 18:00
// local time.
func TestOutsideWork(t *testing.T) {
	ny, tk := zone(t, "America/New_York"), zone(t, "Asia/Tokyo")
	tests := []struct {
		name     string
		from, to string
		loc      *time.Location
		want     time.Duration
	}{
		{"a working morning in UTC", "2026-09-07T09:00", "2026-09-07T12:00", nil, 0},
		{"before 09:00 in UTC", "2026-09-07T07:00", "2026-09-07T10:00", time.UTC, 2 * time.Hour},
		{"a whole weekday is 15 h outside", "2026-09-07T00:00", "2026-09-08T00:00", time.UTC, 15 * time.Hour},
		{"a whole week is 123 h outside", "2026-09-07T00:00", "2026-09-14T00:00", time.UTC, 123 * time.Hour},
		{"Monday 09:00 in Tokyo is Sunday 24:00 UTC", "2026-09-07T00:00", "2026-09-07T01:00", tk, 0},
		{"a UTC working hour is night in New York", "2026-09-07T10:00", "2026-09-07T11:00", ny, time.Hour},
		{"the 25-hour Sunday in New York", "2026-11-01T04:00", "2026-11-02T05:00", ny, 25 * time.Hour},
		{"the 23-hour Sunday in New York, then a working Monday morning", "2026-03-08T05:00", "2026-03-09T17:00", ny, 23*time.Hour + 9*time.Hour},
		{"empty", "2026-09-07T10:00", "2026-09-07T10:00", ny, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, insights.OutsideWork(utc(t, tt.from), utc(t, tt.to), tt.loc))
		})
	}
}

// TestActionOwnerDay: an item done on its due day in its owner's zone is
// on time, a day later is late, and the owner's zone decides the day.
func TestActionOwnerDay(t *testing.T) {
	tests := []struct {
		name         string
		owner        string
		doneAt       string
		onTime, late int
	}{
		{"Tokyo, 23:59 on the due day", tokyo, "2026-09-10T14:59", 1, 0},
		{"Tokyo, 00:00 the day after", tokyo, "2026-09-10T15:00", 0, 1},
		{"New York, 23:59 on the due day (the 11th in UTC)", newYork, "2026-09-11T03:59", 1, 0},
		{"New York, a day late", newYork, "2026-09-11T15:00", 0, 1},
		{"unknown zone: UTC, the end of the due day", alice, "2026-09-10T23:59", 1, 0},
		{"unknown zone: UTC, a day late", alice, "2026-09-11T00:00", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			h.declare(1, utc(t, "2026-09-01T10:00"), 2, "checkout", alice, false).
				action(utc(t, "2026-09-01T10:05"), 1, tt.owner, "2026-09-10").
				actionChange(utc(t, tt.doneAt), 1, timeline.ActionChangeDone)
			incs, events := h.input()
			r := insights.Compute(insights.Input{Incidents: incs, Events: events, Zone: zonesOf(t),
				From: utc(t, "2026-09-01T00:00"), To: utc(t, "2026-10-01T00:00"), Now: utc(t, "2026-10-01T00:00")})
			require.Equal(t, tt.onTime, r.Actions.DoneOnTime)
			require.Equal(t, tt.late, r.Actions.DoneLate)
		})
	}
}
