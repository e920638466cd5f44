package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestListActions: GET /api/v1/actions lists the items of the incidents
// the token may see, with its filters, and pages through them; a private
// incident's items exist only for a token with the private scope, and
// are not counted for any other.
func TestListActions(t *testing.T) {
	db := storagetest.Open(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) // a Tuesday
	d := &command.Dispatcher{Store: db}
	n := 0
	run := func(text string) {
		n++
		rep := d.Handle(t.Context(), command.Request{Text: text, User: declarer, Source: timeline.SourceCommand, Key: "k" + strconv.Itoa(n), At: t0.Add(time.Duration(n) * time.Minute)})
		require.Equal(t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
	}
	const bob, carol = "U0BOB000001", "U0CAROL0001"
	run("declare sev2 --service checkout Checkout down")
	run("action INC-1 alert on pool saturation <@" + bob + "> P0") // due 8 Dec
	run("action INC-1 write the runbook <@" + carol + "> P3")      // no due day
	run("action INC-1 add a canary <@" + carol + "> P1")           // due 15 Dec
	m := incident.Meta{At: t0.Add(time.Hour), Actor: declarer, Source: timeline.SourceCommand, Key: "done-3"}
	_, err := db.Apply(t.Context(), 1, m.Key, func(inc *incident.Incident) (incident.Change, error) { return inc.MarkActionDone(3, m) })
	require.NoError(t, err)
	run("declare sev1 --private Payroll leak")
	run("action INC-2 rotate the payroll keys <@" + bob + "> P0")

	srv, err := api.NewServer(api.ServerConfig{
		Store: db, Now: func() time.Time { return t0.Add(10 * 24 * time.Hour) },
		APITokens: map[string]api.Token{
			"token-without-private-0":  {Name: "oncall", Scopes: []api.Scope{api.ScopeRead}},
			"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}},
		},
	})
	require.NoError(t, err)
	get := func(token, query string) (int, api.ActionPage, string) {
		code, body := getJSON(t, srv, token, "/api/v1/actions"+query)
		var page api.ActionPage
		if code == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &page), string(body))
		}
		return code, page, string(body)
	}
	refs := func(p api.ActionPage) []string {
		out := []string{}
		for _, a := range p.Actions {
			s := a.Incident + "#" + strconv.Itoa(a.ID)
			if a.Overdue {
				s += "!"
			}
			out = append(out, s)
		}
		return out
	}
	const reader, security = "token-without-private-0", "token-with-private-00000"
	tests := []struct {
		token, query string
		want         []string
	}{
		{reader, "", []string{"INC-1#1!", "INC-1#2"}},
		{security, "", []string{"INC-2#1!", "INC-1#1!", "INC-1#2"}},
		{reader, "?owner=" + bob, []string{"INC-1#1!"}},
		{security, "?owner=@" + bob, []string{"INC-2#1!", "INC-1#1!"}},
		{reader, "?overdue=true", []string{"INC-1#1!"}},
		{reader, "?state=all", []string{"INC-1#1!", "INC-1#2", "INC-1#3"}},
		{reader, "?state=done", []string{"INC-1#3"}},
		{security, "?service=CHECKOUT&state=open", []string{"INC-1#1!", "INC-1#2"}},
		{security, "?service=search", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.token+tt.query, func(t *testing.T) {
			code, page, body := get(tt.token, tt.query)
			require.Equal(t, http.StatusOK, code, body)
			require.Equal(t, tt.want, refs(page))
			require.Equal(t, len(tt.want), page.Total, "the total counts only what the token may see")
			require.Empty(t, page.NextCursor)
			if tt.token == reader {
				require.NotContains(t, body, "payroll")
			}
		})
	}

	_, page, _ := get(reader, "?state=all")
	first := page.Actions[0]
	require.Equal(t, api.ActionView{
		Incident: "INC-1", IncidentTitle: "Checkout down", Service: "checkout", ID: 1, Text: "alert on pool saturation",
		Owner: bob, Priority: "P0", State: "open", Due: "2026-12-08", Overdue: true, CreatedAt: t0.Add(2 * time.Minute),
	}, first)
	done := page.Actions[2]
	require.Equal(t, "done", done.State)
	require.Equal(t, declarer, done.ClosedBy)
	require.Equal(t, "P1", done.Priority)

	// Paging one at a time gives each item once, with the same total.
	var seen []string
	for cursor := ""; ; {
		code, page, body := get(security, "?state=all&limit=1"+cursor)
		require.Equal(t, http.StatusOK, code, body)
		require.Equal(t, 4, page.Total)
		seen = append(seen, refs(page)...)
		if page.NextCursor == "" {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(page.NextCursor)
	}
	require.Equal(t, []string{"INC-2#1!", "INC-1#1!", "INC-1#2", "INC-1#3"}, seen)

	for _, bad := range []struct{ query, msg string }{
		{"?state=closed", `state \"closed\" does not exist`},
		{"?overdue=maybe", "overdue must be true or false"},
		{"?overdue=true&state=all", "overdue items are open ones"},
		{"?limit=0", "limit must be a whole number from 1 to 1000"},
		{"?cursor=bm9wZQ", "cursor is not one this API gave"},
	} {
		code, _, body := get(reader, bad.query)
		require.Equal(t, http.StatusBadRequest, code, bad.query)
		require.Contains(t, body, bad.msg, bad.query)
	}
	code, _, _ := get("wrong-token", "")
	require.Equal(t, http.StatusUnauthorized, code)
}
