package postmortem_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// The responders of the incidents under test.
const (
	alice = "U0ALICE"
	bob   = "U0BOB"
	carol = "U0CAROL"
	dave  = "U0DAVE"
)

var people = map[string]string{alice: "alice", bob: "bob", carol: "carol", dave: "dave"}

func names(id string) string { return people[id] }

// declaredAt is when the rich incident is declared: late in a UTC day, so
// it runs into the next.
var declaredAt = time.Date(2026, 11, 26, 23, 10, 0, 0, time.UTC)

// generatedAt is when the drafts under test are written.
var generatedAt = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

// script is one incident driven through the domain's own commands, the
// way the store drives them: each change is folded into the state.
type script struct {
	t      testing.TB
	inc    incident.Incident
	events []timeline.Event
	n      int
}

func (s *script) meta(at time.Time, actor string, source timeline.Source) incident.Meta {
	s.n++
	return incident.Meta{At: at, Actor: actor, Source: source, Key: "k" + strconv.Itoa(s.n)}
}

// by is a command typed by actor at declaredAt+d.
func (s *script) by(d time.Duration, actor string) incident.Meta {
	return s.meta(declaredAt.Add(d), actor, timeline.SourceCommand)
}

func (s *script) commit(ch incident.Change, err error) {
	s.t.Helper()
	require.NoError(s.t, err)
	for _, e := range ch.Events {
		s.inc.Apply(e)
	}
	s.events = append(s.events, ch.Events...)
}

func declare(t testing.TB, number uint64, d incident.Declaration, m incident.Meta) *script {
	t.Helper()
	s := &script{t: t}
	m.Key = "declare"
	s.commit(incident.Declare(number, d, m))
	return s
}

func mins(n int) time.Duration { return time.Duration(n) * time.Minute }

// richIncident is an incident with everything a post-mortem shows: every
// phase, a handover, pinned, marked and alert-captured messages, a first
// signal before the declaration, two UTC days, silences longer than the
// gap, actions with and without owners and priorities, a root cause and a
// candidate, bookkeeping to hide, blaming language for the review note,
// and a private, customer-impacting declaration.
func richIncident(t testing.TB) *script {
	s := declare(t, 7, incident.Declaration{
		Title: "Checkout API returning 502s", Severity: 2, Private: true, Service: "checkout",
		Description: "5xx alert on checkout-api; support reports failed card payments",
	}, incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	inc := &s.inc
	s.commit(inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, "CheckoutHighErrorRate firing: 5xx ratio 12% over 5m",
		map[string]string{timeline.AttrChannel: "C0ALERTS", timeline.AttrTS: "1795734252.000100"},
		s.meta(declaredAt.Add(-5*time.Minute-48*time.Second), "alertmanager:checkout", timeline.SourceAlert)))
	s.commit(inc.ChannelCreated("C0INC7", s.meta(declaredAt.Add(5*time.Second), incident.Bot, timeline.SourceSystem)))
	s.commit(inc.Record(timeline.KindParticipant, timeline.PhaseNone, "", map[string]string{timeline.AttrUser: bob}, s.by(mins(1), bob)))
	s.commit(inc.AssignRole(roles.Comms, bob, s.by(mins(2), alice)))
	s.commit(inc.AddEntry(timeline.PhaseObserve, "5xx rate on checkout-api at 38%, p99 latency 4.2s", false, s.by(mins(3), alice)))
	s.commit(inc.AssignRole(roles.Ops, carol, s.by(mins(4), alice)))
	s.commit(inc.AddEntry(timeline.PhaseOrient, "errors all come from pods on the 23:00 deploy (v2.31.0); older pods are healthy", false, s.by(mins(6), carol)))
	s.commit(inc.PostUpdate("Checkout is failing for about a third of customers. We are investigating.", s.by(mins(7), bob)))
	s.commit(inc.SetImpact("about 38% of checkout attempts fail with 502; card payments affected", s.by(mins(8), alice)))
	s.commit(inc.SetSeverity(1, s.by(mins(8)+30*time.Second, alice)))
	s.commit(inc.SetStatus(incident.StatusIdentified, s.by(mins(9), alice)))
	s.commit(inc.AddEntry(timeline.PhaseDecide, "roll back checkout-api to v2.30.4 rather than fix forward", false, s.by(mins(10), alice)))
	s.commit(inc.AddEntry(timeline.PhaseAct, "rollback to v2.30.4 started (deploy #8812)", false, s.by(mins(11), carol)))
	s.commit(inc.Record(timeline.KindMessageCaptured, timeline.PhaseAct, "Rollback pipeline: <https://ci.example.com/deploys/8812|deploy 8812>",
		map[string]string{timeline.AttrChannel: "C0INC7", timeline.AttrTS: "1795734700.000200"},
		s.meta(declaredAt.Add(mins(11)+40*time.Second), carol, timeline.SourcePin)))
	s.commit(inc.Nudge(roles.Nudge{Kind: "update_due", Role: roles.Comms, User: bob, Text: "An update is due"},
		s.meta(declaredAt.Add(mins(12)), incident.Bot, timeline.SourceReminder)))
	s.commit(inc.AddEntry(timeline.PhaseObserve, "rollback complete; 5xx rate falling, 4% and dropping", false, s.by(mins(14), carol)))
	s.commit(inc.SetStatus(incident.StatusMonitoring, s.by(mins(15), alice)))
	s.commit(inc.AssignRole(roles.Commander, dave, s.by(mins(16), alice)))
	s.commit(inc.Record(timeline.KindMessageCaptured, timeline.PhaseObserve, "<@U0CAROL> the pool metrics show 2/2 connections in use on every new pod",
		map[string]string{timeline.AttrChannel: "C0INC7", timeline.AttrTS: "1795735000.000300"},
		s.meta(declaredAt.Add(mins(17)), dave, timeline.SourceReaction)))
	// 32 minutes without entries.
	s.commit(inc.AddEntry(timeline.PhaseObserve, "error rate back at baseline (0.1%) for 30 minutes", false, s.by(mins(49), carol)))
	s.commit(inc.AddEntry(timeline.PhaseOrient, "v2.31.0 shipped a connection-pool default of 2; the pool exhausts under peak traffic", true, s.by(mins(52), dave)))
	s.commit(inc.AddEntry(timeline.PhaseOrient, "a retry storm from the mobile app amplified the load", false, s.by(mins(53), dave)))
	s.commit(inc.PostUpdate("Checkout has been healthy for 30 minutes. We keep watching it.", s.by(mins(55), bob)))
	// 35 minutes without entries.
	s.commit(inc.AddAction("Make the connection-pool size a config value with a load-tested default", carol, "P1", s.by(mins(90), dave)))
	s.commit(inc.AddAction("Alert on pool saturation before errors reach customers", "", "", s.by(mins(91), dave)))
	s.commit(inc.AddAction("Add a canary stage to checkout deploys", bob, "", s.by(mins(92), dave)))
	s.commit(inc.AddEntry(timeline.PhaseOrient, "the canary failed to detect the pool exhaustion: it gets no peak traffic", false, s.by(mins(93), carol)))
	s.commit(inc.AddEntry(timeline.PhaseNone, "we should have caught the pool default in review", false, s.by(mins(94), carol)))
	s.commit(inc.Resolve("Rolled back checkout-api v2.31.0; its connection-pool default exhausted under peak traffic.", s.by(mins(95), dave)))
	return s
}

// richOptions are the options the golden files are drafted with.
func richOptions() postmortem.Options {
	return postmortem.Options{
		Now: generatedAt, Gap: 15 * time.Minute, Names: names,
		Budget: &postmortem.BudgetSpent{SLO: "checkout-availability", Spent: 0.043},
	}
}

// minimalIncident is declared and resolved, nothing else.
func minimalIncident(t testing.TB) *script {
	s := declare(t, 3, incident.Declaration{Title: "Search is slow"}, incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	s.commit(s.inc.Resolve("", s.by(mins(20), alice)))
	return s
}
