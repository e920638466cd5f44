package postmortem_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	workspace "github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

// directory is the workspace as Slack describes the rich incident's
// responders.
func directory(alicesName string) *workspace.Directory {
	at := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	return workspace.NewDirectory([]workspace.Person{
		{ID: alice, Handle: "alice.chen", RealName: alicesName, DisplayName: "alice", SeenAt: at},
		{ID: bob, Handle: "bob", RealName: "Bob Kowalski", SeenAt: at},
		{ID: carol, Handle: "carol", RealName: "Carol <b>Diaz</b>", SeenAt: at},
		{ID: dave, Handle: "dave", RealName: "Dave Li", SeenAt: at},
	})
}

// draftAll drafts the rich incident with names and renders every format.
func draftAll(t *testing.T, names func(string) string) (postmortem.Doc, map[string]string) {
	t.Helper()
	s := richIncident(t)
	doc := postmortem.Draft(s.inc, s.events, postmortem.Options{Now: generatedAt, Names: names})
	out := map[string]string{}
	for f, b := range renderAll(t, doc) {
		out[f] = string(b)
	}
	return doc, out
}

func TestPostmortemWithAPopulatedDirectory(t *testing.T) {
	doc, out := draftAll(t, directory("Alice Chen").Name)
	assert.Zero(t, doc.Review.UnresolvedNames)
	assert.Contains(t, out["md"], "Handover: Commander from Alice Chen (@alice) to Dave Li (@dave)")
	assert.Contains(t, out["html"], "Handover: Commander from Alice Chen (@alice) to Dave Li (@dave)")
	assert.Contains(t, out["md"], `Carol \<b\>Diaz\</b\> (@carol)`, "a name is text, escaped like any other")
	assert.Contains(t, out["md"], `Marked: Carol \<b\>Diaz\</b\> (@carol) the pool metrics`, "a mention reads as the name")
	assert.Contains(t, out["html"], "Carol &lt;b&gt;Diaz&lt;/b&gt; (@carol)")
	assert.NotContains(t, out["html"], "<b>Diaz")
	assert.Contains(t, out["json"], `"owner": "Carol \u003cb\u003eDiaz\u003c/b\u003e (@carol)"`)
	assert.Contains(t, out["json"], `"owner_id": "U0CAROL"`, "the JSON keeps the id beside the name")
	for _, f := range []string{"md", "html"} {
		for _, id := range []string{alice, bob, carol, dave} {
			assert.NotContains(t, out[f], id, "%s names everyone", f)
		}
		assert.NotContains(t, out[f], "shown by their Slack member ID")
	}
	assert.NotContains(t, out["json"], "unresolved_names")
}

// Slack down and the directory empty (a first start during an outage):
// the ids are shown as before, and the review note says how many.
func TestPostmortemWithAnEmptyDirectoryAndSlackDown(t *testing.T) {
	doc, out := draftAll(t, workspace.NewDirectory(nil).Name)
	assert.Equal(t, 4, doc.Review.UnresolvedNames, "alice, bob, carol and dave")
	assert.Contains(t, out["md"], "Handover: Commander from U0ALICE to U0DAVE")
	assert.Contains(t, out["md"], "4 people are shown by their Slack member ID: Ooda could not look up their names")
	assert.Contains(t, out["html"], "4 people are shown by their Slack member ID")
	var back postmortem.Doc
	require.NoError(t, json.Unmarshal([]byte(out["json"]), &back))
	assert.Equal(t, 4, back.Review.UnresolvedNames)
	review := out["md"][strings.Index(out["md"], "<!-- ooda:review -->"):]
	assert.Contains(t, review, "shown by their Slack member ID", "the count is in the review note, not in the sections")

	// Some names known, one not: only that one is counted.
	partial := func(id string) string {
		if id == carol {
			return ""
		}
		return directory("Alice Chen").Name(id)
	}
	doc, out = draftAll(t, partial)
	assert.Equal(t, 1, doc.Review.UnresolvedNames)
	assert.Contains(t, out["md"], "1 person is shown by their Slack member ID")
	assert.Contains(t, out["md"], "owner U0CAROL")
}

// A person renamed after the incident: the events keep the id, and the
// draft shows the name they have now.
func TestPostmortemShowsARenamedPersonByTheirCurrentName(t *testing.T) {
	s := richIncident(t)
	for _, e := range s.events {
		if e.Kind == timeline.KindRoleAssigned && e.Attr(timeline.AttrUser) == alice {
			require.NotContains(t, e.Text, "Alice", "the stored event names nobody")
		}
	}
	_, before := draftAll(t, directory("Alice Chen").Name)
	_, after := draftAll(t, directory("Alice Wong").Name)
	assert.Contains(t, before["md"], "Alice Chen (@alice) is Commander")
	assert.Contains(t, after["md"], "Alice Wong (@alice) is Commander")
	assert.NotContains(t, after["md"], "Alice Chen")
	assert.Contains(t, after["html"], "Alice Wong (@alice)")
	assert.Contains(t, after["json"], "Alice Wong (@alice)")
}
