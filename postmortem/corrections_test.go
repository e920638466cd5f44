package postmortem_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/roles"
	"github.com/ooda-sre/ooda/timeline"
)

// correctedIncident is INC-9, declared by alice (Commander) at 23:10 with
// carol as Ops, whose timeline people corrected: carol amends her
// rollback's text and alice its time, alice strikes carol's hypothesis,
// and bob writes the first signal after the fact.
func correctedIncident(t testing.TB) *script {
	s := declare(t, 9, incident.Declaration{Title: "Checkout down", Severity: 2},
		incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	inc := &s.inc
	s.commit(inc.AssignRole(roles.Ops, carol, s.by(mins(1), alice)))
	s.commit(inc.AddEntry(timeline.PhaseOrient, "we should have restarted db-2 before the deploy", false, s.by(mins(2), carol))) // #4
	s.commit(inc.AddEntry(timeline.PhaseAct, "rolled back to v2.31.9", false, s.by(mins(3), carol)))                             // #5
	s.commit(inc.AddEntry(timeline.PhaseOrient, "pool default of 2 exhausts under load", true, s.by(mins(4), carol)))            // #6
	s.commit(inc.Amend(5, entry(s, 5), "rolled back to v2.30.4", incident.When{}, s.by(mins(6), carol)))
	at, err := incident.ParseWhen("23:12")
	require.NoError(t, err)
	s.commit(inc.Amend(5, entry(s, 5), "", at, s.by(mins(7), alice)))
	s.commit(inc.Strike(4, entry(s, 4), "db-2 was healthy all along", s.by(mins(8), alice)))
	early, err := incident.ParseWhen("-14m")
	require.NoError(t, err)
	s.commit(inc.AddEntryAt(timeline.PhaseObserve, "first 502s on the status page", false, early, s.by(mins(9), bob))) // #10, 23:05
	s.commit(inc.Resolve("rolled back", s.by(mins(20), alice)))
	return s
}

// entry is the event s's log holds under seq, as the dispatcher reads it.
func entry(s *script, seq uint64) *timeline.Event {
	for i := range s.events {
		if s.events[i].Seq == seq {
			e := s.events[i]
			return &e
		}
	}
	return nil
}

func TestDraftShowsCorrectedEntries(t *testing.T) {
	s := correctedIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{Now: generatedAt, Names: names})

	var rows []string
	for _, m := range doc.Timeline.Minutes {
		for _, e := range m.Entries {
			rows = append(rows, m.Clock+" #"+strconv.FormatUint(e.Seq, 10)+" "+e.Text)
		}
	}
	require.Equal(t, []string{
		"23:05 #10 first 502s on the status page (written 23:19 UTC)",
		"23:10 #1 Declared SEV2 \"Checkout down\"",
		"23:10 #2 alice is Commander",
		"23:11 #3 carol is Ops",
		"23:12 #5 rolled back to v2.30.4 (amended)",
		"23:14 #6 Root cause: pool default of 2 exhausts under load",
		"23:30 #11 Resolved: rolled back",
	}, rows, "the corrected text at the corrected time; the struck entry and the corrections themselves are left out")
	require.Len(t, doc.RootCause.Entries, 1)
	require.Equal(t, "pool default of 2 exhausts under load", doc.RootCause.Entries[0].Text, "a struck hypothesis is no candidate")
	require.NotNil(t, doc.Trigger.Entry)
	require.Equal(t, "first 502s on the status page", doc.Trigger.Entry.Text, "a backdated signal is the trigger when it came first")
	require.Equal(t, "first signal at 23:05 UTC: observation", doc.Lessons.KeyTimes[0].Note, "and time to declare counts from it")

	require.Equal(t, []postmortem.Correction{
		{Kind: "amended", Entry: 5, By: "carol (Ops)", ByID: carol, At: declaredAt.Add(mins(6)), Previous: "rolled back to v2.31.9", Text: "rolled back to v2.30.4",
			Summary: "#5 (act entry of 23:13 UTC) amended by carol (Ops) at 23:16 UTC: was “rolled back to v2.31.9”, now “rolled back to v2.30.4”."},
		{Kind: "amended", Entry: 5, By: "alice (Commander)", ByID: alice, At: declaredAt.Add(mins(7)), Previous: "rolled back to v2.30.4",
			EntryAt: declaredAt.Add(mins(2)), PreviousAt: declaredAt.Add(mins(3)),
			Summary: "#5 (act entry of 23:13 UTC) amended by alice (Commander) at 23:17 UTC: moved from 23:13 UTC to 23:12 UTC."},
		{Kind: "struck", Entry: 4, By: "alice (Commander)", ByID: alice, At: declaredAt.Add(mins(8)), Previous: "we should have restarted db-2 before the deploy",
			Reason:  "db-2 was healthy all along",
			Summary: "#4 (orient entry of 23:12 UTC) struck by alice (Commander) at 23:18 UTC (db-2 was healthy all along). It said “we should have restarted db-2 before the deploy”."},
		{Kind: "backdated", Entry: 10, By: "bob (responder)", ByID: bob, At: declaredAt.Add(mins(9)), EntryAt: declaredAt.Add(-5 * time.Minute),
			Summary: "#10 (observe entry) written by bob (responder) at 23:19 UTC, dated 23:05 UTC, when it happened."},
	}, doc.Corrections, "what was changed, by whom, when")

	var where []string
	for _, f := range doc.Review.Findings {
		where = append(where, f.Section+" "+f.Where)
	}
	require.Contains(t, where, "Corrections #4", "what a struck entry said is checked too: the note publishes it")
}

func TestCorrectionsInEveryFormat(t *testing.T) {
	s := correctedIncident(t)
	out := renderAll(t, postmortem.Draft(s.inc, s.events, postmortem.Options{Now: generatedAt, Names: names}))

	md := string(out["md"])
	require.Equal(t, append(postmortem.Sections(), "Corrections", "Review note"), headings(md), "the note ends the post-mortem, before the review note")
	require.Contains(t, md, "| 23:12 | T+00:02 | act | Ops | rolled back to v2.30.4 (amended) |")
	require.NotContains(t, md, "| orient | Ops | we should have", "the struck entry is not in the timeline")
	require.Contains(t, md, "\n- \\#4 (orient entry of 23:12 UTC) struck by alice (Commander) at 23:18 UTC (db-2 was healthy all along). It said “we should have restarted db-2 before the deploy”.\n")
	require.Contains(t, md, "- \\#10 (observe entry) written by bob (responder) at 23:19 UTC, dated 23:05 UTC, when it happened.")

	html := string(out["html"])
	var got []string
	for _, m := range htmlH2.FindAllStringSubmatch(html, -1) {
		got = append(got, m[1])
	}
	require.Equal(t, append(postmortem.Sections(), "Corrections", "Review note"), got)
	require.Contains(t, html, `<td class="text">rolled back to v2.30.4 (amended)</td>`)
	require.Contains(t, html, `<li class="text">#5 (act entry of 23:13 UTC) amended by carol (Ops) at 23:16 UTC: was “rolled back to v2.31.9”, now “rolled back to v2.30.4”.</li>`)

	var doc struct {
		Corrections []postmortem.Correction `json:"corrections"`
	}
	require.NoError(t, json.Unmarshal(out["json"], &doc))
	require.Len(t, doc.Corrections, 4)
	require.Equal(t, "struck", doc.Corrections[2].Kind)
	require.Equal(t, "we should have restarted db-2 before the deploy", doc.Corrections[2].Previous)
	requireKeysInOrder(t, out["json"], "action_items", "corrections", "review")
}

func TestNoCorrectionsNoNote(t *testing.T) {
	s := minimalIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
	require.NotNil(t, doc.Corrections, "an empty list in JSON, not null")
	require.Empty(t, doc.Corrections)
	require.NotContains(t, string(doc.Markdown()), "## Corrections")
	require.NotContains(t, string(doc.HTML()), `id="corrections"`)
	b, err := doc.JSON()
	require.NoError(t, err)
	require.Contains(t, string(b), `"corrections": [],`)
}

// A correction made days later carries its date.
func TestCorrectionsDaysLaterSayTheDay(t *testing.T) {
	s := declare(t, 9, incident.Declaration{Title: "Checkout down"}, incident.Meta{At: declaredAt, Actor: alice, Source: timeline.SourceCommand})
	s.commit(s.inc.AddEntry(timeline.PhaseNone, "bridge opened", false, s.by(mins(1), alice)))
	s.commit(s.inc.Resolve("", s.by(mins(5), alice)))
	s.commit(s.inc.Strike(3, entry(s, 3), "", s.by(36*time.Hour, alice)))
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
	require.Len(t, doc.Corrections, 1)
	require.Equal(t, "#3 (note of 23:11 UTC) struck by U0ALICE (Commander) at 2026-11-28 11:10 UTC. It said “bridge opened”.", doc.Corrections[0].Summary)
	require.False(t, strings.Contains(string(doc.Markdown()), "bridge opened |"), "not in the timeline")
}
