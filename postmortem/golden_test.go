package postmortem_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata from the current output")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./postmortem -run Golden -update to create the golden files")
	require.Equal(t, string(want), string(got), "%s differs; if the change is intended, rerun with -update and review the diff", path)
}

// renderAll renders doc in every format.
func renderAll(t *testing.T, doc postmortem.Doc) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range postmortem.Formats() {
		b, _, err := postmortem.Render(doc, f)
		require.NoError(t, err)
		out[f] = b
	}
	return out
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		doc  func(t *testing.T) postmortem.Doc
	}{
		{"rich", func(t *testing.T) postmortem.Doc {
			s := richIncident(t)
			return postmortem.Draft(s.inc, s.events, richOptions())
		}},
		{"minimal", func(t *testing.T) postmortem.Doc {
			s := minimalIncident(t)
			return postmortem.Draft(s.inc, s.events, postmortem.Options{Now: generatedAt})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for format, b := range renderAll(t, tt.doc(t)) {
				golden(t, tt.name+"."+format, b)
			}
		})
	}
}

func TestOutputIsDeterministic(t *testing.T) {
	s := richIncident(t)
	first := renderAll(t, postmortem.Draft(s.inc, s.events, richOptions()))
	// A second draft from a fresh run of the same script, and a second
	// render of each: byte for byte the same.
	s2 := richIncident(t)
	doc := postmortem.Draft(s2.inc, s2.events, richOptions())
	for range 3 {
		again := renderAll(t, doc)
		for f := range first {
			require.Equal(t, string(first[f]), string(again[f]), "format %s", f)
		}
	}
}

// headings lists the Markdown headings of level 2, in order.
func headings(md string) []string {
	var out []string
	for line := range strings.Lines(md) {
		if h, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "## "); ok {
			out = append(out, h)
		}
	}
	return out
}

var htmlH2 = regexp.MustCompile(`<h2>([^<]*)</h2>`)

func TestEverySectionInOrder(t *testing.T) {
	want := append(postmortem.Sections(), "Review note")
	require.Equal(t, []string{"Summary", "Impact", "Root Cause", "Trigger", "Timeline", "Lessons Learned", "Action Items"}, postmortem.Sections())
	for _, tc := range []struct {
		name string
		s    func(testing.TB) *script
	}{{"minimal", minimalIncident}, {"rich", richIncident}} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.s(t)
			doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
			require.Equal(t, want, headings(string(doc.Markdown())))

			var got []string
			for _, m := range htmlH2.FindAllStringSubmatch(string(doc.HTML()), -1) {
				got = append(got, m[1])
			}
			require.Equal(t, want, got)

			b, err := doc.JSON()
			require.NoError(t, err)
			requireKeysInOrder(t, b, "summary", "impact", "root_cause", "trigger", "timeline", "lessons_learned", "action_items", "review")
		})
	}
}

// requireKeysInOrder checks the top-level keys of a JSON object appear in
// the given order.
func requireKeysInOrder(t *testing.T, b []byte, keys ...string) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	_, err := dec.Token()
	require.NoError(t, err)
	var seen []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
		if key := k.(string); strings.Contains(" "+strings.Join(keys, " ")+" ", " "+key+" ") {
			seen = append(seen, key)
		}
	}
	require.Equal(t, keys, seen)
}

func TestMinimalIncidentPromptsForWhatIsMissing(t *testing.T) {
	s := minimalIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
	md := string(doc.Markdown())

	require.NotEmpty(t, doc.Summary.Prompt, "no resolution summary: ask for one")
	require.False(t, doc.Impact.CustomerImpacting)
	require.Nil(t, doc.Impact.Budget)
	require.Contains(t, md, "**Error budget spent:** unknown", "an unknown budget is never shown as zero")
	require.Empty(t, doc.RootCause.Entries)
	require.Contains(t, doc.RootCause.Prompt, "/incident orient --cause")
	require.Nil(t, doc.Trigger.Entry)
	require.NotEmpty(t, doc.Trigger.Prompt)
	require.NotEmpty(t, doc.Timeline.Minutes)
	require.Len(t, doc.Lessons.Prompts, 3)
	require.Empty(t, doc.Actions.Items)
	require.Contains(t, doc.Actions.Prompt, "/incident action")
	require.Empty(t, doc.Review.Findings)

	byName := map[string]postmortem.KeyTime{}
	for _, k := range doc.Lessons.KeyTimes {
		byName[k.Name] = k
	}
	require.False(t, byName["Time to declare"].Elapsed.Known, "no signal was recorded")
	require.NotEmpty(t, byName["Time to declare"].Note)
	require.True(t, byName["Time to Commander"].Elapsed.Known, "the declarer is Commander")
	require.Zero(t, byName["Time to Commander"].Elapsed.D)
	require.False(t, byName["Time to first stakeholder update"].Elapsed.Known)
	require.False(t, byName["Time to mitigation"].Elapsed.Known)
	require.Equal(t, "20 min", byName["Time to resolution"].Elapsed.String())

	for _, prompt := range []string{"What went well", "What went wrong", "Where we got lucky", "Key times"} {
		require.Contains(t, md, "### "+prompt)
	}
	require.Empty(t, postmortem.Lint(md), "Ooda's own words must pass its blameless check")
}

func TestRichIncidentFacts(t *testing.T) {
	s := richIncident(t)
	doc := postmortem.Draft(s.inc, s.events, richOptions())

	require.True(t, doc.Private)
	require.Equal(t, 1, doc.Summary.Severity)
	require.Equal(t, 1, doc.Summary.WorstSeverity)
	require.Equal(t, "1 h 35 min", doc.Summary.Duration.String())
	require.Equal(t, "inc-7-checkout-api-returning-502s", doc.Summary.ChannelName)

	require.True(t, doc.Impact.CustomerImpacting)
	require.Equal(t, "7 min", doc.Impact.Duration.String(), "from the impact being set to monitoring")
	require.Equal(t, "monitoring", doc.Impact.EndedBy)
	require.InDelta(t, 0.043, doc.Impact.Budget.Spent, 1e-9)

	require.True(t, doc.RootCause.Confirmed)
	require.Len(t, doc.RootCause.Entries, 1)
	require.Contains(t, doc.RootCause.Entries[0].Text, "connection-pool default of 2")
	require.Equal(t, "Commander", doc.RootCause.Entries[0].Role, "dave holds Commander after the handover")

	require.NotNil(t, doc.Trigger.Entry)
	require.Equal(t, "alert", doc.Trigger.Entry.Source)
	require.Contains(t, doc.Trigger.Entry.Text, "CheckoutHighErrorRate")

	require.True(t, doc.Timeline.SpansDays)
	var silences []string
	roles := map[string]string{} // entry text → role
	for _, m := range doc.Timeline.Minutes {
		if m.SilenceBefore.Known {
			silences = append(silences, m.SilenceBefore.String())
		}
		for _, e := range m.Entries {
			roles[e.Text] = e.Role
			require.NotEqual(t, "participant_joined", e.Kind, "bookkeeping is hidden")
			require.NotEqual(t, "channel_created", e.Kind, "bookkeeping is hidden")
			require.NotEqual(t, "nudged", e.Kind, "bookkeeping is hidden")
		}
	}
	require.Equal(t, []string{"32 min", "35 min"}, silences)
	require.Equal(t, "Commander", roles["Handover: Commander from alice to dave"], "alice hands over as Commander")
	require.Equal(t, "Ops", roles["rollback to v2.30.4 started (deploy #8812)"])
	require.Equal(t, "Comms", roles["Update: Checkout is failing for about a third of customers. We are investigating."])
	require.Equal(t, "Commander", roles["Marked: @carol the pool metrics show 2/2 connections in use on every new pod"], "dave marks it after taking over")
	require.Equal(t, "alert", roles["Captured: CheckoutHighErrorRate firing: 5xx ratio 12% over 5m"])
	require.Equal(t, "Ops", roles["Pinned: Rollback pipeline: deploy 8812 (https://ci.example.com/deploys/8812)"], "Slack link markup is shown as text")

	want := map[string]string{
		"Time to declare":                  "5 min",
		"Time to Commander":                "0 s",
		"Time to first stakeholder update": "7 min",
		"Time to mitigation":               "15 min",
		"Time to resolution":               "1 h 35 min",
	}
	for _, k := range doc.Lessons.KeyTimes {
		require.Equal(t, want[k.Name], k.Elapsed.String(), k.Name)
	}

	require.Len(t, doc.Actions.Items, 3)
	a := doc.Actions.Items
	require.Equal(t, []string{"P1", "P0", "P0"}, []string{a[0].Priority, a[1].Priority, a[2].Priority}, "customer-impacting: P0 by default")
	require.Equal(t, []bool{false, true, true}, []bool{a[0].DefaultPriority, a[1].DefaultPriority, a[2].DefaultPriority})
	require.Equal(t, []string{"carol", "", "bob"}, []string{a[0].Owner, a[1].Owner, a[2].Owner})

	require.Len(t, doc.Review.Findings, 1)
	require.Equal(t, "should have", doc.Review.Findings[0].Phrase)
	require.Equal(t, postmortem.SectionTimeline, doc.Review.Findings[0].Section)
}

// TestReviewNoteIsTheOnlyPlaceOfFindings: the findings are in the note,
// not in the text, and linting the exported draft finds the same phrases
// in the text (the note itself is skipped).
func TestReviewNoteAgreesWithLint(t *testing.T) {
	s := richIncident(t)
	doc := postmortem.Draft(s.inc, s.events, richOptions())
	md := string(doc.Markdown())

	var inDraft, inExport []string
	for _, f := range doc.Review.Findings {
		inDraft = append(inDraft, f.Phrase)
	}
	for _, f := range postmortem.Lint(md) {
		inExport = append(inExport, f.Phrase)
	}
	require.Equal(t, inDraft, inExport)

	body, note, ok := strings.Cut(md, "<!-- ooda:review -->")
	require.True(t, ok)
	require.Contains(t, note, "Hindsight:", "the suggestion is in the note")
	require.NotContains(t, body, "Hindsight:", "no finding is written into the sections")
}

func TestNoNamesExceptWhereNeeded(t *testing.T) {
	s := richIncident(t)
	doc := postmortem.Draft(s.inc, s.events, richOptions())
	for _, m := range doc.Timeline.Minutes {
		for _, e := range m.Entries {
			switch e.Kind {
			case "role_assigned", "action_added":
				continue // who took a role, who owns an action: a reader needs the name
			case "message_captured":
				continue // a mention people typed stays in what they typed
			}
			for _, name := range people {
				require.NotContains(t, e.Text, name+" ", "entry %q", e.Text)
			}
			for id := range people {
				require.NotContains(t, e.Text, id, "entry %q shows a user id", e.Text)
			}
		}
	}
}

func TestNamesDefaultToIDs(t *testing.T) {
	s := richIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
	md := string(doc.Markdown())
	require.Contains(t, md, "Handover: Commander from U0ALICE to U0DAVE")
	require.Equal(t, "U0CAROL", doc.Actions.Items[0].Owner)
}

func TestRenderFormats(t *testing.T) {
	s := minimalIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{})
	for _, tt := range []struct{ format, contentType string }{
		{"md", "text/markdown; charset=utf-8"},
		{"html", "text/html; charset=utf-8"},
		{"json", "application/json"},
	} {
		b, ct, err := postmortem.Render(doc, tt.format)
		require.NoError(t, err)
		require.Equal(t, tt.contentType, ct)
		require.NotEmpty(t, b)
	}
	_, _, err := postmortem.Render(doc, "pdf")
	require.ErrorIs(t, err, postmortem.ErrFormat)
	require.EqualError(t, err, `unknown post-mortem format "pdf": use md, html, json`)

	b, err := doc.JSON()
	require.NoError(t, err)
	var back postmortem.Doc
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, doc.Summary.Duration, back.Summary.Duration)
	require.False(t, back.Impact.Duration.Known, "null reads back as unknown")
}

func TestBudgetUnknownIsNeverZero(t *testing.T) {
	s := richIncident(t)
	opts := richOptions()
	opts.Budget = nil
	doc := postmortem.Draft(s.inc, s.events, opts)
	b, err := doc.JSON()
	require.NoError(t, err)
	require.Contains(t, string(b), `"error_budget": null`)
	require.Contains(t, string(doc.Markdown()), "**Error budget spent:** unknown")

	opts.Budget = &postmortem.BudgetSpent{SLO: "checkout", Spent: 0}
	doc = postmortem.Draft(s.inc, s.events, opts)
	require.Contains(t, string(doc.Markdown()), "**Error budget spent:** 0.0% of the checkout error budget", "a known zero is zero")
}

// TestEmptyInputs: a state without events, or events without a state,
// still renders every section without panicking.
func TestEmptyInputs(t *testing.T) {
	s := richIncident(t)
	for name, doc := range map[string]postmortem.Doc{
		"nothing":     postmortem.Draft(incident.Incident{}, nil, postmortem.Options{}),
		"state only":  postmortem.Draft(s.inc, nil, postmortem.Options{}),
		"events only": postmortem.Draft(incident.Incident{}, s.events, postmortem.Options{}),
	} {
		t.Run(name, func(t *testing.T) {
			out := renderAll(t, doc)
			require.Equal(t, append(postmortem.Sections(), "Review note"), headings(string(out["md"])))
			require.NotContains(t, string(out["md"]), "0001-01-01", "a missing time is not printed as year 1")
		})
	}
}
