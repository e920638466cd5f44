package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/search"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestSearch: GET /api/v1/search finds the incidents the token may see
// holding every word, newest first, with the line that matched; a private
// incident is found and counted only with the private scope; a query
// without words or with a bad limit is 400, and an index still being read
// is 503.
func TestSearch(t *testing.T) {
	db := storagetest.Open(t)
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	d := &command.Dispatcher{Store: db}
	n := 0
	run := func(text string) {
		n++
		rep := d.Handle(t.Context(), command.Request{Text: text, User: declarer, Source: timeline.SourceCommand, Key: "k" + strconv.Itoa(n), At: t0.Add(time.Duration(n) * time.Hour)})
		require.Equal(t, http.StatusOK, rep.Code, "%s: %s", text, rep.Text)
	}
	run("declare sev2 --service checkout Checkout API returning 502s")
	run("orient INC-1 --cause connection pool exhausted under peak traffic")
	run("resolve INC-1")
	run("postmortem publish INC-1 https://wiki.example.com/pm/inc-1")
	run("declare sev1 --private --service payroll Payroll export leaked")
	run("orient INC-2 --cause debug logging of the connection pool")
	run("declare sev3 Search results stale")

	idx := search.New()
	srv, err := api.NewServer(api.ServerConfig{
		Store: db, Search: idx,
		APITokens: map[string]api.Token{
			"token-without-private-0":  {Name: "oncall", Scopes: []api.Scope{api.ScopeRead}},
			"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopePrivate}},
			"token-write-only-000000":  {Name: "ci", Scopes: []api.Scope{api.ScopeWrite}},
		},
	})
	require.NoError(t, err)

	code, raw := getJSON(t, srv, "token-without-private-0", "/api/v1/search?q=pool")
	require.Equal(t, http.StatusServiceUnavailable, code, "the index is not read yet: %s", raw)
	require.Contains(t, string(raw), "search is still reading the incidents (0 of 0); try again in a moment")

	require.NoError(t, idx.Rebuild(t.Context(), db))
	get := func(token, query string) (int, api.SearchPage, string) {
		code, body := getJSON(t, srv, token, "/api/v1/search"+query)
		var page api.SearchPage
		if code == http.StatusOK {
			require.NoError(t, json.Unmarshal(body, &page), string(body))
		}
		return code, page, string(body)
	}
	ids := func(p api.SearchPage) []string {
		var out []string
		for _, h := range p.Hits {
			out = append(out, h.ID)
		}
		return out
	}

	code, page, body := get("token-without-private-0", "?q=connection+pool")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, api.SearchPage{Total: 1, Hits: []api.SearchHit{{
		ID: "INC-1", Title: "Checkout API returning 502s", Service: "checkout", Severity: 2, Status: "closed",
		DeclaredAt: t0.Add(time.Hour), ResolvedAt: t0.Add(3 * time.Hour),
		RootCause: "connection pool exhausted under peak traffic", PostmortemURL: "https://wiki.example.com/pm/inc-1",
		Line: "connection pool exhausted under peak traffic", Field: search.FieldRootCause, At: t0.Add(2 * time.Hour),
	}}}, page, "a private incident is neither listed nor counted without the private scope")
	require.NotContains(t, body, "Payroll")

	code, page, body = get("token-with-private-00000", "?q=Connection%20Pool")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 2, page.Total)
	require.Equal(t, []string{"INC-2", "INC-1"}, ids(page), "newest first")
	require.True(t, page.Hits[0].Private)

	code, page, body = get("token-with-private-00000", "?q=pool&limit=1")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 2, page.Total, "total counts past the limit")
	require.Equal(t, []string{"INC-2"}, ids(page))

	code, page, body = get("token-without-private-0", "?q=payroll")
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, api.SearchPage{Hits: []api.SearchHit{}}, page)
	require.JSONEq(t, `{"hits": [], "total": 0}`, body)

	for _, bad := range []string{"", "?q=", "?q=%20", "?q=pool&limit=0", "?q=pool&limit=101", "?q=pool&limit=ten"} {
		code, _, body = get("token-without-private-0", bad)
		require.Equal(t, http.StatusBadRequest, code, "%s: %s", bad, body)
	}
	code, _, body = get("token-write-only-000000", "?q=pool")
	require.Equal(t, http.StatusForbidden, code, "search needs the read scope: %s", body)
	code, _, _ = get("not-a-token-at-all-0000", "?q=pool")
	require.Equal(t, http.StatusUnauthorized, code)
}
