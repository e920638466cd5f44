package postmortem_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// bigIncident drives an incident of about n events through the domain's
// commands: loop entries in every phase, updates, handovers, captured
// messages, actions, a root cause, silences, and now and then a phrase the
// blameless check flags.
func bigIncident(tb testing.TB, n int) *script {
	s := declare(tb, 42, incident.Declaration{Title: "Payments degraded", Severity: 2, Service: "payments"},
		incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	inc := &s.inc
	phases := [...]timeline.Phase{timeline.PhaseObserve, timeline.PhaseOrient, timeline.PhaseDecide, timeline.PhaseAct}
	who := [...]string{alice, bob, carol, dave}
	at := declaredAt
	for i := 0; len(s.events) < n; i++ {
		at = at.Add(20 * time.Second)
		if i%300 == 299 {
			at = at.Add(20 * time.Minute) // a silence
		}
		actor := who[i%len(who)]
		m := s.meta(at, actor, timeline.SourceCommand)
		switch {
		case i%100 == 50:
			s.commit(inc.AssignRole(roles.Commander, who[(i/100+1)%len(who)], m))
		case i%50 == 10:
			s.commit(inc.PostUpdate(fmt.Sprintf("Update %d: payments are degraded for some card types; next update in 30 minutes.", i), m))
		case i%200 == 20:
			m.Source = timeline.SourcePin
			s.commit(inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve,
				fmt.Sprintf("<@%s> p99 latency at %d ms on <https://grafana.example/d/pay|the payments board>", who[(i+1)%4], 400+i%900),
				map[string]string{timeline.AttrChannel: "C0PAY", timeline.AttrTS: fmt.Sprint(i)}, m))
		case i%500 == 30:
			s.commit(inc.AddAction(fmt.Sprintf("Follow-up %d: add a saturation alert for the card gateway pool", i), who[i%3], "", m))
		case i%1000 == 40:
			s.commit(inc.AddEntry(timeline.PhaseOrient, "we should have load-tested the gateway pool", false, m))
		default:
			p := phases[i%len(phases)]
			s.commit(inc.AddEntry(p, fmt.Sprintf("entry %d: gateway pool at %d%% and retries at %d/s after the %s step", i, i%100, i%37, p), i == 5, m))
		}
	}
	return s
}

// BenchmarkDraftMarkdown drafts and renders the Markdown of incidents of
// growing size; the cost per event should stay flat.
func BenchmarkDraftMarkdown(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			s := bigIncident(b, n)
			opts := postmortem.Options{Now: generatedAt, Names: names}
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = len(postmortem.Draft(s.inc, s.events, opts).Markdown())
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(s.events)), "ns/event")
			b.SetBytes(int64(size))
		})
	}
}

func BenchmarkLint(b *testing.B) {
	s := bigIncident(b, 10_000)
	md := string(postmortem.Draft(s.inc, s.events, postmortem.Options{}).Markdown())
	b.SetBytes(int64(len(md)))
	b.ReportAllocs()
	for b.Loop() {
		postmortem.Lint(md)
	}
}
