package timeline

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// incidentEvents is a short incident: a first signal before the
// declaration, bookkeeping, a silence and a multi-line entry.
func incidentEvents() []Event {
	return seqs(
		Event{At: t0.Add(-3 * time.Minute), Kind: KindLoopEntry, Phase: PhaseObserve, Actor: "alertmanager:checkout", Text: "5xx above 10%"},
		Event{At: t0, Kind: KindDeclared, Phase: PhaseObserve, Actor: "U1", Attrs: map[string]string{AttrTitle: "Checkout down", AttrSeverity: "2", AttrService: "checkout"}},
		Event{At: t0.Add(time.Second), Kind: KindRoleAssigned, Phase: PhaseDecide, Actor: "U1", Attrs: map[string]string{AttrRole: "commander", AttrUser: "U1"}},
		Event{At: t0.Add(2 * time.Second), Kind: KindChannelCreated, Actor: "ooda", Attrs: map[string]string{AttrChannel: "C1"}},
		Event{At: t0.Add(5 * time.Minute), Kind: KindLoopEntry, Phase: PhaseOrient, Actor: "U2", Text: "db pool exhausted\nsince deploy 41"},
		Event{At: t0.Add(5*time.Minute + 30*time.Second), Kind: KindRoleAssigned, Phase: PhaseDecide, Actor: "U1", Attrs: map[string]string{AttrRole: "commander", AttrUser: "U2", AttrPrevious: "U1"}},
		Event{At: t0.Add(52 * time.Minute), Kind: KindLoopEntry, Phase: PhaseAct, Actor: "U2", Text: "rolled back to 40"},
		Event{At: t0.Add(53 * time.Minute), Kind: KindUpdatePosted, Actor: "U3", Text: "Checkout recovering"},
	)
}

func TestWriteText(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		text TextOptions
		want string
	}{
		{name: "plain", want: `13:57  T-00:03
  observe  alertmanager:checkout  5xx above 10%
14:00  T+00:00
  observe  U1                     Declared SEV2 "Checkout down" (service checkout)
  decide   U1                     U1 is Commander
14:05  T+00:05
  orient   U2                     db pool exhausted
                                  since deploy 41
  decide   U1                     U2 is Commander (handover from U1)
  · · · 47 min without entries · · ·
14:52  T+00:52
  act      U2                     rolled back to 40
14:53  T+00:53
  -        U3                     Update: Checkout recovering
`},
		{name: "names and bookkeeping", opts: Options{IncludeBookkeeping: true, Gap: time.Hour},
			text: TextOptions{Name: func(id string) string {
				return map[string]string{"U1": "ada", "U2": "grace", "U3": "linus"}[id]
			}},
			// Ids the directory does not know are shown as they are.
			want: `13:57  T-00:03
  observe  alertmanager:checkout  5xx above 10%
14:00  T+00:00
  observe  ada                    Declared SEV2 "Checkout down" (service checkout)
  decide   ada                    ada is Commander
  -        ooda                   Channel C1 created
14:05  T+00:05
  orient   grace                  db pool exhausted
                                  since deploy 41
  decide   ada                    grace is Commander (handover from ada)
14:52  T+00:52
  act      grace                  rolled back to 40
14:53  T+00:53
  -        linus                  Update: Checkout recovering
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Build(incidentEvents(), t0, tt.opts).WriteText(&buf, tt.text))
			require.Equal(t, tt.want, buf.String())
		})
	}
}

func TestWriteTextColor(t *testing.T) {
	var buf bytes.Buffer
	v := Build(incidentEvents(), t0, Options{IncludeBookkeeping: true})
	require.NoError(t, v.WriteText(&buf, TextOptions{Color: true}))
	out := buf.String()
	require.Contains(t, out, "\x1b[1m14:00\x1b[0m  T+00:00\n")
	require.Contains(t, out, "  \x1b[36mobserve\x1b[0m  U1 ")
	require.Contains(t, out, "  \x1b[33morient\x1b[0m   U2 ")
	require.Contains(t, out, "  \x1b[35mdecide\x1b[0m   U1 ")
	require.Contains(t, out, "  \x1b[32mact\x1b[0m      U2 ")
	require.Contains(t, out, "\x1b[2m  -        ooda                   Channel C1 created\x1b[0m\n", "bookkeeping is dimmed")
	require.Contains(t, out, "\x1b[2m  · · · 47 min without entries · · ·\x1b[0m\n")

	// Without colour, nothing but text.
	buf.Reset()
	require.NoError(t, v.WriteText(&buf, TextOptions{}))
	require.NotContains(t, buf.String(), "\x1b")
}

func TestWriteTextCleansControlCharacters(t *testing.T) {
	events := seqs(Event{At: t0, Kind: KindLoopEntry, Phase: PhaseObserve, Actor: "U1\x1b[2J",
		Text: "red \x1b[31malert\x1b[0m\r\nnext\tline \u009b31m C1 bell\a"})
	var buf bytes.Buffer
	require.NoError(t, Build(events, t0, Options{}).WriteText(&buf, TextOptions{Color: true}))
	out := buf.String()
	// The only escapes left are the renderer's own: bold and reset on the
	// clock, colour and reset on the phase.
	require.Equal(t, 4, strings.Count(out, "\x1b"), "%q", out)
	require.NotContains(t, out, "\u009b")
	require.NotContains(t, out, "\a")
	require.NotContains(t, out, "\r")
	require.Contains(t, out, "U1\uFFFD[2J  red \uFFFD[31malert\uFFFD[0m\n")
	require.Contains(t, out, "next line \uFFFD31m C1 bell\uFFFD\n")
}

func TestWriteTextNameCalledOncePerUser(t *testing.T) {
	calls := map[string]int{}
	name := func(id string) string { calls[id]++; return strings.ToLower(id) }
	var buf bytes.Buffer
	require.NoError(t, Build(incidentEvents(), t0, Options{IncludeBookkeeping: true}).WriteText(&buf, TextOptions{Name: name}))
	for id, n := range calls {
		require.Equal(t, 1, n, id)
	}
	require.Equal(t, map[string]int{"alertmanager:checkout": 1, "U1": 1, "U2": 1, "U3": 1, "ooda": 1}, calls)
}

func TestWriteTextEmpty(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Build(nil, t0, Options{}).WriteText(&buf, TextOptions{}))
	require.Empty(t, buf.String())
}

func TestWriteTextSpanningDays(t *testing.T) {
	events := seqs(at(0, KindLoopEntry), at(26*time.Hour+10*time.Minute, KindLoopEntry))
	var buf bytes.Buffer
	require.NoError(t, Build(events, t0, Options{}).WriteText(&buf, TextOptions{}))
	require.Equal(t, `2026-11-26 14:00  T+00:00
  observe  U1  x
  · · · 26 h 10 min without entries · · ·
2026-11-27 16:10  T+26:10
  observe  U1  x
`, buf.String())
}

type failingWriter struct {
	after  int // bytes accepted before failing
	writes int
}

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if len(p) > w.after {
		n := w.after
		w.after = 0
		return n, errDiskFull
	}
	w.after -= len(p)
	return len(p), nil
}

func TestWriteTextWriteError(t *testing.T) {
	for _, events := range [][]Event{incidentEvents(), longIncident(10_000)} {
		t.Run(fmt.Sprint(len(events)), func(t *testing.T) {
			w := &failingWriter{after: 10}
			err := Build(events, t0, Options{}).WriteText(w, TextOptions{})
			require.ErrorIs(t, err, errDiskFull)
			require.Equal(t, 1, w.writes, "rendering stops at the first error")
		})
	}
}

func TestWriteTextLongIncident(t *testing.T) {
	events := longIncident(10_000)
	var buf bytes.Buffer
	v := Build(events, t0, Options{})
	require.NoError(t, v.WriteText(&buf, TextOptions{}))
	shown := 0
	for _, m := range v.Minutes {
		shown += len(m.Events)
	}
	lines := strings.Count(buf.String(), "\n")
	require.GreaterOrEqual(t, lines, shown+len(v.Minutes), "every event and every minute is written")
}

// longIncident is n events over a multi-day incident: bursts of activity,
// some bookkeeping, and quiet nights.
func longIncident(n int) []Event {
	phases := []Phase{PhaseObserve, PhaseOrient, PhaseDecide, PhaseAct, PhaseNone}
	kinds := []Kind{KindLoopEntry, KindLoopEntry, KindLoopEntry, KindStatusChanged, KindParticipant, KindUpdatePosted, KindActionAdded}
	actors := []string{"U01ABCDEF", "U02GHIJKL", "U03MNOPQR", "ooda", "alertmanager:checkout"}
	events := make([]Event, n)
	at := t0.Add(-5 * time.Minute)
	for i := range events {
		// Mostly a few seconds apart, now and then an hour of quiet.
		step := time.Duration(i%7+1) * 5 * time.Second
		if i%500 == 499 {
			step = time.Hour
		}
		at = at.Add(step)
		k := kinds[i%len(kinds)]
		events[i] = Event{
			Seq: uint64(i + 1), At: at, Kind: k, Phase: phases[i%len(phases)], Actor: actors[i%len(actors)],
			Text:   "checkout p99 latency is back under 300 ms after the pool resize",
			Source: SourceCommand, Key: fmt.Sprintf("key-%d", i),
			Attrs: map[string]string{AttrStatus: "identified", AttrPrevious: "investigating", AttrUser: "U02GHIJKL",
				AttrActionID: "3", AttrOwner: "U03MNOPQR", AttrPriority: "P1"},
		}
	}
	return events
}

func BenchmarkBuild10k(b *testing.B) {
	events := longIncident(10_000)
	b.ReportAllocs()
	for b.Loop() {
		Build(events, t0, Options{})
	}
}

func BenchmarkWriteText10k(b *testing.B) {
	v := Build(longIncident(10_000), t0, Options{IncludeBookkeeping: true})
	names := map[string]string{"U01ABCDEF": "ada", "U02GHIJKL": "grace", "U03MNOPQR": "linus"}
	opts := TextOptions{Color: true, Name: func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}}
	b.ReportAllocs()
	for b.Loop() {
		if err := v.WriteText(discard{}, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildAndWrite10k is the whole job `/incident timeline` does.
func BenchmarkBuildAndWrite10k(b *testing.B) {
	events := longIncident(10_000)
	b.ReportAllocs()
	for b.Loop() {
		if err := Build(events, t0, Options{}).WriteText(discard{}, TextOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// discard is io.Discard without the interface conversion the benchmark
// would otherwise measure.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
