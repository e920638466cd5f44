package timeline

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 26, 14, 0, 0, 0, time.UTC)

// at builds an event at t0+d with the given kind; its Seq is filled in by
// seqs.
func at(d time.Duration, kind Kind) Event {
	return Event{At: t0.Add(d), Kind: kind, Phase: PhaseObserve, Actor: "U1", Text: "x"}
}

func seqs(events ...Event) []Event {
	for i := range events {
		events[i].Seq = uint64(i + 1)
	}
	return events
}

// shape reduces a view to what the tests compare: each minute's clock and
// the sequences of its events.
func shape(v View) []string {
	var out []string
	for _, m := range v.Minutes {
		s := v.Clock(m)
		for _, e := range m.Events {
			s += fmt.Sprintf(" %d", e.Seq)
		}
		out = append(out, s)
	}
	return out
}

func TestBuildGrouping(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+30*60)
	tests := []struct {
		name   string
		events []Event
		want   []string
	}{
		{name: "no events", events: nil, want: nil},
		{name: "one minute", events: seqs(at(0, KindLoopEntry), at(30*time.Second, KindLoopEntry), at(59*time.Second, KindLoopEntry)), want: []string{"14:00 1 2 3"}},
		{name: "minute boundary", events: seqs(at(59*time.Second+999*time.Millisecond, KindLoopEntry), at(time.Minute, KindLoopEntry)), want: []string{"14:00 1", "14:01 2"}},
		{name: "several minutes", events: seqs(at(0, KindLoopEntry), at(2*time.Minute, KindLoopEntry), at(2*time.Minute+5*time.Second, KindLoopEntry), at(9*time.Minute, KindLoopEntry)),
			want: []string{"14:00 1", "14:02 2 3", "14:09 4"}},
		{name: "a backdated entry goes where it happened", events: seqs(at(5*time.Minute, KindLoopEntry), at(6*time.Minute, KindLoopEntry), at(5*time.Minute+10*time.Second, KindLoopEntry), at(5*time.Minute+20*time.Second, KindLoopEntry)),
			want: []string{"14:05 1 3 4", "14:06 2"}},
		{name: "ties keep sequence order", events: seqs(at(time.Minute, KindLoopEntry), at(0, KindLoopEntry), at(time.Minute, KindLoopEntry)),
			want: []string{"14:00 2", "14:01 1 3"}},
		{name: "grouped by UTC minute whatever the zone", events: seqs(
			Event{At: t0.Add(30 * time.Second).In(kolkata), Kind: KindLoopEntry},
			Event{At: t0.Add(50 * time.Second).In(time.FixedZone("X", -3*3600)), Kind: KindLoopEntry},
			Event{At: t0.Add(70 * time.Second).In(kolkata), Kind: KindLoopEntry},
		), want: []string{"14:00 1 2", "14:01 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Build(tt.events, t0, Options{})
			require.Equal(t, tt.want, shape(v))
			for _, m := range v.Minutes {
				require.Equal(t, time.UTC, m.At.Location())
				require.Equal(t, m.At, m.At.Truncate(time.Minute))
			}
		})
	}
}

func TestBuildOffsets(t *testing.T) {
	tests := []struct {
		name   string
		start  time.Time
		events []Event
		want   []string // OffsetLabel per minute
	}{
		{name: "from declaration", start: t0, events: seqs(at(0, KindDeclared), at(5*time.Minute+59*time.Second, KindLoopEntry)), want: []string{"T+00:00", "T+00:05"}},
		{name: "first signal before declaration", start: t0, events: seqs(at(-3*time.Minute, KindLoopEntry), at(-10*time.Second, KindLoopEntry), at(0, KindDeclared)), want: []string{"T-00:03", "T-00:01", "T+00:00"}},
		{name: "hours beyond a day", start: t0, events: seqs(at(26*time.Hour+10*time.Minute, KindLoopEntry), at(100*time.Hour, KindLoopEntry)), want: []string{"T+26:10", "T+100:00"}},
		// Offsets count minute to minute, so the label agrees with the clocks.
		{name: "start with seconds", start: t0.Add(50 * time.Second), events: seqs(at(5*time.Minute+10*time.Second, KindLoopEntry)), want: []string{"T+00:05"}},
		{name: "start in another zone", start: t0.In(time.FixedZone("X", 3600)), events: seqs(at(5*time.Minute, KindLoopEntry)), want: []string{"T+00:05"}},
		{name: "no start: from the first minute", start: time.Time{}, events: seqs(at(-2*time.Minute, KindLoopEntry), at(7*time.Minute, KindLoopEntry)), want: []string{"T+00:00", "T+00:09"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Build(tt.events, tt.start, Options{})
			var got []string
			for _, m := range v.Minutes {
				got = append(got, m.OffsetLabel())
			}
			require.Equal(t, tt.want, got)
			require.Equal(t, tt.start.UTC(), v.Start)
		})
	}
}

func TestOffsetLabel(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "T+00:00"},
		{5 * time.Minute, "T+00:05"},
		{59*time.Minute + 59*time.Second, "T+00:59"},
		{time.Hour, "T+01:00"},
		{26*time.Hour + 10*time.Minute, "T+26:10"},
		{100 * time.Hour, "T+100:00"},
		{-3 * time.Minute, "T-00:03"},
		{-25 * time.Hour, "T-25:00"},
		{-30 * time.Second, "T+00:00"}, // less than a minute before is not "T-00:00"
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, Minute{Offset: tt.d}.OffsetLabel(), tt.d.String())
	}
	// The extremes must render without overflowing.
	require.Equal(t, "T+2562047:47", Minute{Offset: time.Duration(1<<63 - 1)}.OffsetLabel())
	require.Equal(t, "T-2562047:47", Minute{Offset: time.Duration(-1 << 63)}.OffsetLabel())
}

func TestSpansDays(t *testing.T) {
	midnight := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		start  time.Time
		events []Event
		opts   Options
		spans  bool
		clocks []string
	}{
		{name: "one day", start: t0, events: seqs(at(0, KindDeclared), at(9*time.Hour+59*time.Minute, KindLoopEntry)), spans: false, clocks: []string{"14:00", "23:59"}},
		{name: "across midnight", start: t0, events: seqs(at(0, KindDeclared), at(10*time.Hour, KindLoopEntry)), spans: true, clocks: []string{"2026-11-26 14:00", "2026-11-27 00:00"}},
		{name: "declared the day before", start: midnight.Add(-time.Minute), events: seqs(Event{At: midnight, Kind: KindLoopEntry}), spans: true, clocks: []string{"2026-11-27 00:00"}},
		// The date is the UTC date: 23:30 in New York is the next UTC day.
		{name: "local midnight is not UTC midnight", start: t0, events: seqs(
			Event{At: time.Date(2026, 11, 26, 9, 0, 0, 0, time.FixedZone("EST", -5*3600)), Kind: KindLoopEntry},
			Event{At: time.Date(2026, 11, 26, 18, 59, 0, 0, time.FixedZone("EST", -5*3600)), Kind: KindLoopEntry},
		), spans: false, clocks: []string{"14:00", "23:59"}},
		{name: "hidden bookkeeping does not count", start: t0, events: seqs(at(0, KindDeclared), at(10*time.Hour, KindNudged)), spans: false, clocks: []string{"14:00"}},
		{name: "shown bookkeeping counts", start: t0, events: seqs(at(0, KindDeclared), at(10*time.Hour, KindNudged)), opts: Options{IncludeBookkeeping: true}, spans: true, clocks: []string{"2026-11-26 14:00", "2026-11-27 00:00"}},
		{name: "no events", start: t0, spans: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Build(tt.events, tt.start, tt.opts)
			require.Equal(t, tt.spans, v.SpansDays)
			var clocks []string
			for _, m := range v.Minutes {
				clocks = append(clocks, v.Clock(m))
			}
			require.Equal(t, tt.clocks, clocks)
		})
	}
}

func TestSilence(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name   string
		gap    time.Duration
		events []Event
		want   []time.Duration // Silence per minute
	}{
		{name: "default gap, exactly 15 min", events: seqs(at(0, KindLoopEntry), at(15*m, KindLoopEntry)), want: []time.Duration{0, 0}},
		{name: "default gap, 16 min", events: seqs(at(0, KindLoopEntry), at(16*m, KindLoopEntry)), want: []time.Duration{0, 16 * m}},
		// Gaps are measured between minutes, so 14:00:59 to 14:15:00 is
		// exactly 15 minutes and 14:00:00 to 14:15:59 is too.
		{name: "seconds do not count", events: seqs(at(59*time.Second, KindLoopEntry), at(15*m, KindLoopEntry), at(30*m+59*time.Second, KindLoopEntry)), want: []time.Duration{0, 0, 0}},
		{name: "gap exactly", gap: 5 * m, events: seqs(at(0, KindLoopEntry), at(5*m, KindLoopEntry)), want: []time.Duration{0, 0}},
		{name: "gap strictly longer", gap: 5 * m, events: seqs(at(0, KindLoopEntry), at(6*m, KindLoopEntry), at(53*m, KindLoopEntry)), want: []time.Duration{0, 6 * m, 47 * m}},
		{name: "gap shorter than a minute", gap: 30 * time.Second, events: seqs(at(0, KindLoopEntry), at(m, KindLoopEntry)), want: []time.Duration{0, m}},
		{name: "negative gap means default", gap: -time.Hour, events: seqs(at(0, KindLoopEntry), at(15*m, KindLoopEntry), at(31*m, KindLoopEntry)), want: []time.Duration{0, 0, 16 * m}},
		{name: "first minute is never a silence", events: seqs(at(5*time.Hour, KindLoopEntry)), want: []time.Duration{0}},
		{name: "a backdated entry comes first", events: seqs(at(time.Hour, KindLoopEntry), at(0, KindLoopEntry)), want: []time.Duration{0, time.Hour}},
		{name: "long silence across days", events: seqs(at(0, KindLoopEntry), at(26*time.Hour, KindLoopEntry)), want: []time.Duration{0, 26 * time.Hour}},
		// Hidden bookkeeping is not an entry: the silence spans it.
		{name: "hidden bookkeeping does not break a silence", events: seqs(at(0, KindLoopEntry), at(10*m, KindNudged), at(20*m, KindLoopEntry)), want: []time.Duration{0, 20 * m}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Build(tt.events, t0, Options{Gap: tt.gap})
			var got []time.Duration
			for _, m := range v.Minutes {
				got = append(got, m.Silence)
			}
			require.Equal(t, tt.want, got)
		})
	}
}

func TestBookkeeping(t *testing.T) {
	events := seqs(
		at(0, KindDeclared),
		at(0, KindChannelCreated),
		at(0, KindParticipant),
		at(time.Minute, KindNudged),
		at(2*time.Minute, KindEffectFailed),
		at(2*time.Minute, KindLoopEntry),
	)
	require.Equal(t, []string{"14:00 1", "14:02 6"}, shape(Build(events, t0, Options{})), "hidden by default")
	require.Equal(t, []string{"14:00 1 2 3", "14:01 4", "14:02 5 6"}, shape(Build(events, t0, Options{IncludeBookkeeping: true})))
	require.Empty(t, Build(events[1:5], t0, Options{}).Minutes, "only bookkeeping")

	// Drafting the post-mortem days later is not part of the incident's
	// story: no silent stretch of days, no entry after the resolution.
	later := seqs(
		at(0, KindDeclared),
		at(time.Hour, KindResolved),
		at(72*time.Hour, KindPostmortemRequested),
		at(72*time.Hour+time.Minute, KindPostmortemDrafted),
	)
	require.Equal(t, []string{"14:00 1", "15:00 2"}, shape(Build(later, t0, Options{})))
}

func TestBuildOwnsItsEvents(t *testing.T) {
	events := seqs(at(0, KindLoopEntry), at(time.Minute, KindLoopEntry))
	v := Build(events, t0, Options{})
	events[0].Text = "changed"
	require.Equal(t, "x", v.Minutes[0].Events[0].Text, "Build copies the events")

	// Minutes share one backing array; appending to one must not
	// overwrite the next.
	_ = append(v.Minutes[0].Events, Event{Seq: 99})
	require.Equal(t, uint64(2), v.Minutes[1].Events[0].Seq)
}
