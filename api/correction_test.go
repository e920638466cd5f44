package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

// TestExportShowsCorrections: the JSON export (GET /api/v1/incidents/{n},
// which `ooda export` writes) carries the audit trail beside the log,
// whose original entries are untouched, and the post-mortem endpoint's
// three formats end with the Corrections note.
func TestExportShowsCorrections(t *testing.T) {
	srv := requestsServer(t)
	auth := "Bearer " + requestsToken
	for i, text := range []string{
		"declare sev2 Checkout is down",               // #1; a token is no Commander
		"observe INC-1 5xx at 12%",                    // #2
		"note INC-1 paged the db team",                // #3
		"amend INC-1 #2 5xx at 14%",                   // #4
		"strike INC-1 #3 that was the other incident", // #5
		"observe INC-1 --at -5m first 502s",           // #6
	} {
		code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-"+string(rune('a'+i)), `{"text": "`+text+`"}`)
		require.Equal(t, http.StatusOK, code, "%s: %v", text, out)
	}

	code, body := getJSON(t, srv, requestsToken, "/api/v1/incidents/1")
	require.Equal(t, http.StatusOK, code, string(body))
	var inc api.IncidentWithEvents
	require.NoError(t, json.Unmarshal(body, &inc))
	require.Len(t, inc.Corrections, 3)
	var got []string
	for _, c := range inc.Corrections {
		got = append(got, string(c.Kind)+" #"+itoa(c.Entry)+" by "+c.By+": "+c.Previous+" → "+c.Text+c.Reason)
	}
	require.Equal(t, []string{
		"amended #2 by api:admin: 5xx at 12% → 5xx at 14%",
		"struck #3 by api:admin: paged the db team → that was the other incident",
		"backdated #6 by api:admin:  → ",
	}, got)
	require.False(t, inc.Corrections[2].EntryAt.After(inc.Corrections[2].At), "a backdated entry is dated no later than it was written")
	require.Equal(t, "5xx at 12%", inc.Events[1].Text, "the log keeps what was first written")
	require.Equal(t, timeline.KindEntryAmended, inc.Events[3].Kind)

	code, body = getJSON(t, srv, requestsToken, "/api/v1/incidents/1/postmortem?format=json")
	require.Equal(t, http.StatusOK, code, string(body))
	var doc postmortem.Doc
	require.NoError(t, json.Unmarshal(body, &doc))
	require.Len(t, doc.Corrections, 3)
	require.Equal(t, "the API token admin", doc.Corrections[0].By)
	for _, m := range doc.Timeline.Minutes {
		for _, e := range m.Entries {
			require.NotContains(t, e.Text, "paged the db team", "the struck entry is left out of the timeline")
			require.NotContains(t, e.Text, "12%", "the amended entry shows its new text")
		}
	}

	code, body = getJSON(t, srv, requestsToken, "/api/v1/incidents/1/postmortem?format=md")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), "\n## Corrections\n")
	require.Contains(t, string(body), "- \\#3 (note of ")
	code, body = getJSON(t, srv, requestsToken, "/api/v1/incidents/1/postmortem?format=html")
	require.Equal(t, http.StatusOK, code)
	require.True(t, strings.Contains(string(body), `<section id="corrections">`))
}

func itoa(n uint64) string { b, _ := json.Marshal(n); return string(b) }
