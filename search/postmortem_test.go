package search_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/timeline"
)

// TestRootCauseAndTriggerAgreeWithThePostmortem: the index names the same
// root cause and trigger as the post-mortem draft of the same events.
func TestRootCauseAndTriggerAgreeWithThePostmortem(t *testing.T) {
	type tc struct {
		name    string
		script  func(t *testing.T) *script
		cause   []string
		trigger []string
	}
	alert := func(s *script, at time.Duration, text string) {
		s.next++
		m := meta(s.inc.Number, s.next)
		m.At, m.Actor, m.Source = declaredAt(s.inc.Number).Add(at), "alertmanager:checkout", timeline.SourceAlert
		s.commit(s.inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, text,
			map[string]string{timeline.AttrChannel: "C0ALERTS", timeline.AttrTS: "1.2"}, m))
	}
	entry := func(s *script, phase timeline.Phase, text string, cause bool) timeline.Event {
		return s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
			return inc.AddEntry(phase, text, cause, m)
		}).Events[0]
	}
	tests := []tc{
		{name: "a seeded incident", script: func(t *testing.T) *script { return play(t, 1, history[0]) },
			cause: []string{"connection pool default of 2 exhausted under peak traffic"}, trigger: []string{"5xx alert firing on checkout-api"}},
		{name: "an alert seen before the declaration is the trigger", script: func(t *testing.T) *script {
			s := play(t, 2, past{title: "Queue backlog", service: "jobs", trigger: "queue depth at 10k", cause: "consumer crashed"})
			alert(s, -5*time.Minute, "QueueDepthHigh firing")
			return s
		}, cause: []string{"consumer crashed"}, trigger: []string{"QueueDepthHigh firing"}},
		{name: "an observation that is also the cause is not the trigger", script: func(t *testing.T) *script {
			s := &script{t: t}
			s.commit(incident.Declare(3, incident.Declaration{Title: "Disk full"}, meta(3, 0)))
			entry(s, timeline.PhaseObserve, "log volume filled the disk", false)
			entry(s, timeline.PhaseObserve, "writes failing", false)
			entry(s, timeline.PhaseOrient, "log volume filled the disk", true)
			entry(s, timeline.PhaseOrient, "rotation was off", true)
			return s
		}, cause: []string{"log volume filled the disk", "rotation was off"}, trigger: []string{"writes failing"}},
		{name: "a struck observation is not the trigger; an amended one reads as amended", script: func(t *testing.T) *script {
			s := &script{t: t}
			s.commit(incident.Declare(4, incident.Declaration{Title: "Latency"}, meta(4, 0)))
			first := entry(s, timeline.PhaseObserve, "wrong channel", false)
			second := entry(s, timeline.PhaseObserve, "p99 at 3s", false)
			s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
				return inc.Strike(first.Seq, &first, "", m)
			})
			s.do(func(inc *incident.Incident, m incident.Meta) (incident.Change, error) {
				return inc.Amend(second.Seq, &second, "p99 at 4s", incident.When{}, m)
			})
			return s
		}, trigger: []string{"p99 at 4s"}},
		{name: "nothing marked, nothing observed", script: func(t *testing.T) *script {
			s := &script{t: t}
			s.commit(incident.Declare(5, incident.Declaration{Title: "Quiet"}, meta(5, 0)))
			entry(s, timeline.PhaseOrient, "maybe the cache", false)
			return s
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.script(t)
			lines := search.Lines(s.inc, s.events)
			require.Equal(t, tt.cause, lines[search.FieldRootCause], "the root cause")
			require.Equal(t, tt.trigger, lines[search.FieldTrigger], "the trigger")

			doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
			var causes []string
			if doc.RootCause.Confirmed {
				for _, e := range doc.RootCause.Entries {
					causes = append(causes, e.Text)
				}
			}
			require.Equal(t, tt.cause, causes, "the post-mortem's root cause")
			var trigger []string
			if doc.Trigger.Entry != nil {
				trigger = []string{doc.Trigger.Entry.Text}
			}
			require.Equal(t, tt.trigger, trigger, "the post-mortem's trigger")

			x := search.New()
			x.Put(s.inc, s.events)
			res := x.Search(strings.Fields(s.inc.Title)[0], nil, 0)
			require.Equal(t, strings.Join(tt.cause, "; "), res.Hits[0].RootCause)
		})
	}
}
