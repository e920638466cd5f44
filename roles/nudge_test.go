package roles

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

func TestUpdateCadence(t *testing.T) {
	tests := []struct {
		sev  int
		want time.Duration
	}{
		{1, 15 * time.Minute},
		{2, 30 * time.Minute},
		{3, 60 * time.Minute},
		{4, 0},
		{0, 0},
		{5, 0},
		{-1, 0},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, UpdateCadence(tt.sev), "SEV%d", tt.sev)
	}
}

func TestNudges(t *testing.T) {
	// staffed has every role held by someone else, so only the nudge under
	// test can fire.
	staffed := Holders{Commander: "U1", Comms: "U2", Ops: "U3"}
	noCommander := Holders{Comms: "U2", Ops: "U3"}
	tests := []struct {
		name string
		s    Situation
		at   time.Duration // after t0
		want []Nudge       // Key and Text are checked by TestNudgeKeys
		// kinds limits the check to these kinds; nil means the role and
		// update nudges, so cases stay about one rule each.
		kinds []NudgeKind
	}{
		{name: "commander empty before grace", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: noCommander}, at: 4*time.Minute + 59*time.Second},
		{name: "commander empty at grace", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: noCommander}, at: 5 * time.Minute,
			want: []Nudge{{Kind: NudgeCommanderMissing, Role: Commander}}},
		{name: "commander empty after grace", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: noCommander}, at: 40 * time.Minute,
			want: []Nudge{{Kind: NudgeCommanderMissing, Role: Commander}}},
		{name: "grace counts from when the role was vacated", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: noCommander, CommanderVacantSince: t0.Add(time.Hour)}, at: time.Hour + 4*time.Minute},
		{name: "vacated long enough", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: noCommander, CommanderVacantSince: t0.Add(time.Hour)}, at: time.Hour + 5*time.Minute,
			want: []Nudge{{Kind: NudgeCommanderMissing, Role: Commander}}},

		{name: "SEV1 update not yet due", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: staffed}, at: 15*time.Minute - time.Second},
		{name: "SEV1 update due at 15 min", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: staffed}, at: 15 * time.Minute,
			want: []Nudge{{Kind: NudgeUpdateDue, Role: Comms, User: "U2"}}},
		{name: "SEV2 update not yet due", s: Situation{Severity: 2, Active: true, DeclaredAt: t0, Holders: staffed}, at: 29 * time.Minute},
		{name: "SEV2 update due at 30 min", s: Situation{Severity: 2, Active: true, DeclaredAt: t0, Holders: staffed}, at: 30 * time.Minute,
			want: []Nudge{{Kind: NudgeUpdateDue, Role: Comms, User: "U2"}}},
		{name: "SEV3 update not yet due", s: Situation{Severity: 3, Active: true, DeclaredAt: t0, Holders: staffed}, at: 59 * time.Minute},
		{name: "SEV3 update due at 60 min", s: Situation{Severity: 3, Active: true, DeclaredAt: t0, Holders: staffed}, at: 60 * time.Minute,
			want: []Nudge{{Kind: NudgeUpdateDue, Role: Comms, User: "U2"}}},
		{name: "SEV4 has no cadence", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: staffed}, at: 72 * time.Hour},
		{name: "cadence counts from the last update", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: staffed, LastUpdateAt: t0.Add(20 * time.Minute)}, at: 34 * time.Minute},
		{name: "due again after the last update", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: staffed, LastUpdateAt: t0.Add(20 * time.Minute)}, at: 35 * time.Minute,
			want: []Nudge{{Kind: NudgeUpdateDue, Role: Comms, User: "U2"}}},
		{name: "no Comms: the channel is nudged", s: Situation{Severity: 2, Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1"}}, at: 30 * time.Minute,
			want: []Nudge{{Kind: NudgeUpdateDue, Role: Comms}}},

		{name: "commander also ops", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Ops: "U1"}}, at: time.Minute,
			want: []Nudge{{Kind: NudgeCommanderHoldsOps, Role: Commander, User: "U1"}}},
		{name: "commander also comms is fine", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Comms: "U1"}}, at: time.Minute},
		{name: "everything at once, in a stable order", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: Holders{}}, at: 20 * time.Minute,
			want: []Nudge{{Kind: NudgeCommanderMissing, Role: Commander}, {Kind: NudgeUpdateDue, Role: Comms}}},

		{name: "SEV1 check-in at 30 min", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: staffed, LastUpdateAt: t0.Add(29 * time.Minute), LastActivityAt: t0.Add(29 * time.Minute)}, at: 30 * time.Minute, kinds: []NudgeKind{NudgeCheckIn},
			want: []Nudge{{Kind: NudgeCheckIn, Role: Commander, User: "U1"}}},
		{name: "SEV2 no check-in before an hour", s: Situation{Severity: 2, Active: true, DeclaredAt: t0, Holders: staffed}, at: 59 * time.Minute, kinds: []NudgeKind{NudgeCheckIn}},
		{name: "SEV4 has no check-ins", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: staffed}, at: 23 * time.Hour, kinds: []NudgeKind{NudgeCheckIn}},
		{name: "no check-in without a Commander", s: Situation{Severity: 1, Active: true, DeclaredAt: t0, Holders: noCommander}, at: 2 * time.Hour, kinds: []NudgeKind{NudgeCheckIn}},
		{name: "not stale at 23h59", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: staffed}, at: 24*time.Hour - time.Minute, kinds: []NudgeKind{NudgeStale}},
		{name: "stale after 24h without activity", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: staffed}, at: 24 * time.Hour, kinds: []NudgeKind{NudgeStale},
			want: []Nudge{{Kind: NudgeStale, Role: Commander, User: "U1"}}},
		{name: "activity resets staleness", s: Situation{Severity: 4, Active: true, DeclaredAt: t0, Holders: staffed, LastActivityAt: t0.Add(10 * time.Hour)}, at: 30 * time.Hour, kinds: []NudgeKind{NudgeStale}},

		{name: "inactive incident gets nothing", s: Situation{Severity: 1, Active: false, DeclaredAt: t0, Holders: Holders{Ops: "U1"}}, at: 10 * time.Hour},
		{name: "inactive, commander also ops", s: Situation{Severity: 1, Active: false, DeclaredAt: t0, Holders: Holders{Commander: "U1", Ops: "U1"}}, at: 10 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kinds := tt.kinds
			if kinds == nil {
				kinds = []NudgeKind{NudgeCommanderMissing, NudgeUpdateDue, NudgeCommanderHoldsOps}
			}
			var got []Nudge
			for _, n := range Nudges(tt.s, t0.Add(tt.at)) {
				if slices.Contains(kinds, n.Kind) {
					got = append(got, n)
				}
			}
			require.Len(t, got, len(tt.want), "%+v", got)
			for i := range got {
				require.NotEmpty(t, got[i].Key)
				require.NotEmpty(t, got[i].Text)
				got[i].Key, got[i].Text = "", ""
			}
			if len(tt.want) == 0 {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// TestNudgeKeys checks that callers who deduplicate by Key send a nudge once
// per occasion: the same Key on every tick of one interval, a new Key when a
// new interval starts or the situation behind the nudge changes.
func TestNudgeKeys(t *testing.T) {
	key := func(t *testing.T, s Situation, at time.Duration, kind NudgeKind) string {
		t.Helper()
		for _, n := range Nudges(s, t0.Add(at)) {
			if n.Kind == kind {
				return n.Key
			}
		}
		require.Failf(t, "no nudge", "%s at %s", kind, at)
		return ""
	}
	sev := func(n int) Situation {
		return Situation{Severity: n, Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Comms: "U2"}}
	}
	tests := []struct {
		name  string
		kind  NudgeKind
		a, b  Situation
		atA   time.Duration
		atB   time.Duration
		equal bool
	}{
		{name: "SEV1 repeated tick", kind: NudgeUpdateDue, a: sev(1), b: sev(1), atA: 15 * time.Minute, atB: 29 * time.Minute, equal: true},
		{name: "SEV1 next interval", kind: NudgeUpdateDue, a: sev(1), b: sev(1), atA: 29 * time.Minute, atB: 30 * time.Minute},
		{name: "SEV2 repeated tick", kind: NudgeUpdateDue, a: sev(2), b: sev(2), atA: 30 * time.Minute, atB: 59 * time.Minute, equal: true},
		{name: "SEV2 next interval", kind: NudgeUpdateDue, a: sev(2), b: sev(2), atA: 59 * time.Minute, atB: 60 * time.Minute},
		{name: "SEV3 repeated tick", kind: NudgeUpdateDue, a: sev(3), b: sev(3), atA: 60 * time.Minute, atB: 119 * time.Minute, equal: true},
		{name: "SEV3 next interval", kind: NudgeUpdateDue, a: sev(3), b: sev(3), atA: 119 * time.Minute, atB: 120 * time.Minute},
		{name: "an update starts a new count", kind: NudgeUpdateDue, a: sev(1), b: func() Situation {
			s := sev(1)
			s.LastUpdateAt = t0.Add(16 * time.Minute)
			return s
		}(), atA: 15 * time.Minute, atB: 31 * time.Minute},

		{name: "commander missing repeated tick", kind: NudgeCommanderMissing,
			a: Situation{Active: true, DeclaredAt: t0}, b: Situation{Active: true, DeclaredAt: t0}, atA: 5 * time.Minute, atB: 3 * time.Hour, equal: true},
		{name: "commander vacated again", kind: NudgeCommanderMissing,
			a: Situation{Active: true, DeclaredAt: t0}, b: Situation{Active: true, DeclaredAt: t0, CommanderVacantSince: t0.Add(time.Hour)}, atA: 5 * time.Minute, atB: time.Hour + 5*time.Minute},

		{name: "commander holds ops is stable", kind: NudgeCommanderHoldsOps,
			a: Situation{Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Ops: "U1"}}, b: Situation{Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Ops: "U1"}}, atA: time.Minute, atB: 9 * time.Hour, equal: true},
		{name: "another commander holding ops is warned again", kind: NudgeCommanderHoldsOps,
			a: Situation{Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U1", Ops: "U1"}}, b: Situation{Active: true, DeclaredAt: t0, Holders: Holders{Commander: "U2", Ops: "U2"}}, atA: time.Minute, atB: time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := key(t, tt.a, tt.atA, tt.kind), key(t, tt.b, tt.atB, tt.kind)
			if tt.equal {
				require.Equal(t, a, b)
			} else {
				require.NotEqual(t, a, b)
			}
		})
	}
}

func TestNudgeText(t *testing.T) {
	s := Situation{Severity: 2, Active: true, DeclaredAt: t0}
	got := Nudges(s, t0.Add(75*time.Minute))
	require.Len(t, got, 2)
	require.Equal(t, "Nobody has been Commander for 1 h 15 min. Take it with `/incident role commander @you`.", got[0].Text)
	require.Equal(t, "A stakeholder update is due: SEV2 incidents get one every 30 min, and the last was 1 h 15 min ago. Post it with `/incident update <text>`.", got[1].Text)
}

func TestPostmortemDueForABudgetBreach(t *testing.T) {
	resolved := time.Date(2026, 11, 26, 15, 0, 0, 0, time.UTC) // a Thursday
	s := Situation{Severity: 3, ResolvedAt: resolved, Holders: Holders{Commander: "U1"}}
	friday := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	for _, n := range Nudges(s, friday) {
		require.NotEqual(t, NudgePostmortemDue, n.Kind, "a SEV3 owes no post-mortem on its own")
	}
	s.BudgetBreached = true
	var due []Nudge
	for _, n := range Nudges(s, friday) {
		if n.Kind == NudgePostmortemDue {
			due = append(due, n)
		}
	}
	require.Len(t, due, 1)
	require.Contains(t, due[0].Text, "spent more of an error budget")
	require.NotContains(t, due[0].Text, "SEV3 incidents get one")
}
