package timeline

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// entry is a loop entry U1 typed at t0+d.
func entry(seq uint64, d time.Duration, text string) Event {
	return Event{Seq: seq, At: t0.Add(d), Kind: KindLoopEntry, Phase: PhaseAct, Actor: "U1", Source: SourceCommand, Text: text}
}

func amended(seq, target uint64, d time.Duration, by, text, previous string, attrs ...string) Event {
	a := map[string]string{AttrEntry: itoa(target), AttrPrevious: previous}
	for i := 0; i < len(attrs); i += 2 {
		a[attrs[i]] = attrs[i+1]
	}
	return Event{Seq: seq, At: t0.Add(d), Kind: KindEntryAmended, Actor: by, Source: SourceCommand, Text: text, Attrs: a}
}

func struck(seq, target uint64, d time.Duration, by, reason, previous string) Event {
	return Event{Seq: seq, At: t0.Add(d), Kind: KindEntryStruck, Actor: by, Source: SourceCommand, Text: reason,
		Attrs: map[string]string{AttrEntry: itoa(target), AttrPrevious: previous}}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func TestCorrectLeavesAnUncorrectedLogAlone(t *testing.T) {
	events := []Event{entry(1, 0, "a"), entry(2, time.Minute, "b")}
	out, audit := Correct(events, false)
	require.Empty(t, audit)
	require.Equal(t, &events[0], &out[0], "nothing corrected: the same slice, no copy")
}

func TestCorrect(t *testing.T) {
	backdated := entry(4, -3*time.Minute, "first 5xx seen")
	backdated.Phase = PhaseObserve
	backdated.Attrs = map[string]string{AttrWrittenAt: FormatTime(t0.Add(20 * time.Minute))}
	events := []Event{
		entry(1, 0, "rolled back to v42"),
		entry(2, time.Minute, "restarted db-2"),
		amended(3, 1, 10*time.Minute, "U1", "rolled back to v41", "rolled back to v42"),
		backdated,
		amended(5, 1, 30*time.Minute, "UCMD", "", "rolled back to v41",
			AttrAt, FormatTime(t0.Add(-time.Minute)), AttrPreviousAt, FormatTime(t0)),
		struck(6, 2, 31*time.Minute, "UCMD", "that was staging", "restarted db-2"),
	}
	orig := cloneEvents(events)

	out, audit := Correct(events, false)
	require.Equal(t, orig, events, "the log itself is never changed")
	require.Len(t, out, 2, "the struck entry and the two amendments are left out")
	require.Equal(t, "rolled back to v41", out[0].Text, "the latest text")
	require.Equal(t, t0.Add(-time.Minute), out[0].At, "the amended time")
	require.Equal(t, "true", out[0].Attr(AttrAmended))
	require.Equal(t, uint64(4), out[1].Seq)

	require.Equal(t, []Correction{
		{Kind: CorrectionAmended, Entry: 1, Seq: 3, By: "U1", At: t0.Add(10 * time.Minute), Previous: "rolled back to v42", Text: "rolled back to v41"},
		{Kind: CorrectionBackdated, Entry: 4, Seq: 4, By: "U1", At: t0.Add(20 * time.Minute), EntryAt: t0.Add(-3 * time.Minute)},
		{Kind: CorrectionAmended, Entry: 1, Seq: 5, By: "UCMD", At: t0.Add(30 * time.Minute), Previous: "rolled back to v41", EntryAt: t0.Add(-time.Minute), PreviousAt: t0},
		{Kind: CorrectionStruck, Entry: 2, Seq: 6, By: "UCMD", At: t0.Add(31 * time.Minute), Previous: "restarted db-2", Reason: "that was staging"},
	}, audit, "in the order they were made")

	kept, _ := Correct(events, true)
	require.Len(t, kept, 3)
	require.True(t, kept[1].Struck())
	require.Equal(t, "UCMD", kept[1].Attr(AttrStruckBy))
	require.Equal(t, "that was staging", kept[1].Attr(AttrReason))
	require.Equal(t, "restarted db-2", kept[1].Text, "a struck entry keeps what it said")
}

// Each line of the trail reads from its own event, which is how the
// incident's fold keeps it.
func TestCorrectionOfMatchesCorrect(t *testing.T) {
	events := []Event{
		entry(1, 0, "a"),
		amended(2, 1, time.Minute, "U1", "b", "a"),
		struck(3, 1, 2*time.Minute, "U1", "", "b"),
	}
	_, audit := Correct(events, false)
	var one []Correction
	for _, e := range events {
		if c, ok := CorrectionOf(e); ok {
			one = append(one, c)
		}
	}
	require.Equal(t, audit, one)
	_, ok := CorrectionOf(entry(9, 0, "not backdated"))
	require.False(t, ok)
}

func TestBuildShowsCorrectedEntries(t *testing.T) {
	events := []Event{
		entry(1, 0, "rolled back to v42"),
		entry(2, 5*time.Minute, "restarted db-2"),
		entry(3, 6*time.Minute, "paged the db team"),
		amended(4, 3, 7*time.Minute, "U1", "paged the storage team", "paged the db team",
			AttrAt, FormatTime(t0.Add(-2*time.Minute)), AttrPreviousAt, FormatTime(t0.Add(6*time.Minute))),
		struck(5, 2, 8*time.Minute, "U1", "wrong incident", "restarted db-2"),
	}
	v := Build(events, t0, Options{})
	require.Equal(t, []string{"13:58 3", "14:00 1"}, shape(v), "the amended time moves the entry; the struck one is gone")
	require.Equal(t, "paged the storage team", v.Minutes[0].Events[0].Text)
	require.Len(t, v.Corrections, 2)

	v = Build(events, t0, Options{IncludeStruck: true})
	require.Equal(t, []string{"13:58 3", "14:00 1", "14:05 2"}, shape(v))
	require.True(t, v.Minutes[2].Events[0].Struck())
}

func TestWriteTextNumbersCorrectableEntries(t *testing.T) {
	declared := Event{Seq: 1, At: t0, Kind: KindDeclared, Actor: "U1", Source: SourceCommand, Attrs: map[string]string{AttrTitle: "Down", AttrSeverity: "2"}}
	events := []Event{declared, entry(2, 0, "rolled back"), entry(12, time.Minute, "restarted db-2"),
		struck(13, 12, 2*time.Minute, "U1", "staging", "restarted db-2")}
	var b bytes.Buffer
	require.NoError(t, Build(events, t0, Options{IncludeStruck: true}).WriteText(&b, TextOptions{Numbers: true}))
	require.Equal(t, ""+
		"14:00  T+00:00\n"+
		"     -        U1  Declared SEV2 \"Down\"\n"+
		"  #2 act      U1  rolled back\n"+
		"14:01  T+00:01\n"+
		"     act      U1  restarted db-2 (struck by U1: staging)\n", b.String(),
		"only entries people may correct carry a number; a struck one no longer does")

	b.Reset()
	require.NoError(t, Build(events, t0, Options{}).WriteText(&b, TextOptions{}))
	require.NotContains(t, b.String(), "#2", "numbers only when asked")
}

func TestCorrectable(t *testing.T) {
	typed := entry(1, 0, "x")
	require.True(t, Correctable(typed))
	api := typed
	api.Source = SourceAPI
	require.True(t, Correctable(api))
	for name, e := range map[string]Event{
		"an alert":     {Kind: KindLoopEntry, Source: SourceAlert, Actor: "ooda"},
		"an SLO":       {Kind: KindLoopEntry, Source: SourceSLO, Actor: "ooda"},
		"a status":     {Kind: KindStatusChanged, Source: SourceCommand, Actor: "U1"},
		"a captured":   {Kind: KindMessageCaptured, Source: SourcePin, Actor: "U1"},
		"an amendment": {Kind: KindEntryAmended, Source: SourceCommand, Actor: "U1"},
	} {
		require.False(t, Correctable(e), name)
	}
}

func cloneEvents(events []Event) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		if e.Attrs != nil {
			e.Attrs = cloneAttrs(e.Attrs)
		}
		out[i] = e
	}
	return out
}
