package insights_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/insights"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

// TestTimeToDeclareAgreesWithPostmortem: insights measures the time to
// declare by the rule the post-mortem's key times use (the first signal
// or backdated observation → declared, left out with neither), so the
// two never disagree about one incident.
func TestTimeToDeclareAgreesWithPostmortem(t *testing.T) {
	declared := utc(t, "2026-09-07T10:00")
	tests := []struct {
		name  string
		story func(l *incidentLog)
		want  time.Duration // -1: left out
	}{
		{"no signal", func(l *incidentLog) {}, -1},
		{"an alert before", func(l *incidentLog) { l.alert(declared.Add(-7 * time.Minute)) }, 7 * time.Minute},
		{"an observation after only", func(l *incidentLog) { l.observe(declared.Add(5*time.Minute), time.Time{}) }, -1},
		{"a backdated observation", func(l *incidentLog) {
			l.observe(declared.Add(5*time.Minute), declared.Add(-40*time.Minute))
		}, 40 * time.Minute},
		{"an SLO warning and a later alert: the earliest", func(l *incidentLog) {
			l.add(timeline.Event{At: declared.Add(-30 * time.Minute), Kind: timeline.KindLoopEntry, Phase: timeline.PhaseObserve, Source: timeline.SourceSLO, Actor: incident.Bot})
			l.alert(declared.Add(-3 * time.Minute))
		}, 30 * time.Minute},
		{"declared by an alert: no time at all", func(l *incidentLog) { l.events[0].Source = timeline.SourceAlert }, 0},
		{"a captured message", func(l *incidentLog) {
			l.add(timeline.Event{At: declared.Add(-2 * time.Minute), Kind: timeline.KindMessageCaptured, Source: timeline.SourcePin})
		}, 2 * time.Minute},
		{"a struck observation does not count", func(l *incidentLog) {
			l.observe(declared.Add(time.Minute), declared.Add(-50*time.Minute))
			l.kind(declared.Add(2*time.Minute), timeline.KindEntryStruck, timeline.AttrEntry, "2")
			l.alert(declared.Add(-10 * time.Minute))
		}, 10 * time.Minute},
		{"an observation amended to an earlier time", func(l *incidentLog) {
			l.observe(declared.Add(time.Minute), time.Time{})
			l.kind(declared.Add(2*time.Minute), timeline.KindEntryAmended, timeline.AttrEntry, "2",
				timeline.AttrAt, declared.Add(-25*time.Minute).Format(time.RFC3339), timeline.AttrPreviousAt, declared.Add(time.Minute).Format(time.RFC3339))
		}, 25 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h history
			l := h.declare(1, declared, 2, "checkout", alice, false)
			tt.story(l)
			incs, events := h.input()
			r := insights.Compute(insights.Input{Incidents: incs, Events: events,
				From: utc(t, "2026-09-01T00:00"), To: utc(t, "2026-10-01T00:00"), Now: utc(t, "2026-10-01T00:00")})
			got := r.Durations[0]
			require.Equal(t, insights.TimeToDeclare, got.Name)

			doc := postmortem.Draft(incs[0], events[1], postmortem.Options{})
			key := doc.Lessons.KeyTimes[0]
			require.Equal(t, "Time to declare", key.Name)
			if tt.want < 0 {
				require.Zero(t, got.Count)
				require.False(t, key.Elapsed.Known, "the post-mortem leaves it out too: %s", key.Note)
				return
			}
			require.Equal(t, 1, got.Count)
			require.Equal(t, int64(tt.want/time.Second), *got.MedianSeconds)
			require.True(t, key.Elapsed.Known, key.Note)
			require.Equal(t, strconv.FormatInt(int64(key.Elapsed.D/time.Second), 10), strconv.FormatInt(*got.MedianSeconds, 10), "insights and the post-mortem agree")
		})
	}
}
