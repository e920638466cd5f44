package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/slo"
	"github.com/ooda-sre/ooda/storage/storagetest"
	"github.com/ooda-sre/ooda/timeline"
)

// TestTokenScopes runs every route with a token of each single scope: a
// route outside the token's scopes answers 403 naming the missing scope;
// one inside answers anything else.
func TestTokenScopes(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	m := incident.Meta{At: time.Now().UTC(), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	_, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Payments down", Severity: 2}, m)
	})
	require.NoError(t, err)
	tokens := map[string]api.Token{}
	for _, sc := range api.Scopes {
		tokens["token-with-"+string(sc)+"-scope"] = api.Token{Name: string(sc) + "-only", Scopes: []api.Scope{sc}}
	}
	srv, err := api.NewServer(api.ServerConfig{
		Store: db, APIToken: "admin-token-0123456789", APITokens: tokens,
		Dispatcher: &command.Dispatcher{Store: db},
		Backup: func(_ context.Context, w io.Writer) (int64, error) {
			n, err := w.Write([]byte("db"))
			return int64(n), err
		},
		Freeze: func(context.Context, string) (slo.FreezeStatus, bool, error) { return slo.FreezeStatus{}, true, nil },
		Alerts: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) }),
	})
	require.NoError(t, err)

	routes := []struct {
		method, path, body string
		needs              api.Scope
	}{
		{http.MethodGet, "/api/v1/status", "", api.ScopeRead},
		{http.MethodGet, "/api/v1/incidents", "", api.ScopeRead},
		{http.MethodGet, "/api/v1/incidents/1", "", api.ScopeRead},
		{http.MethodGet, "/api/v1/incidents/1/postmortem", "", api.ScopeRead},
		{http.MethodGet, "/api/v1/freeze?service=checkout", "", api.ScopeRead},
		{http.MethodPost, "/api/v1/commands", `{"text": "list"}`, api.ScopeRead},
		{http.MethodPost, "/api/v1/commands", `{"text": "note INC-1 rolled back"}`, api.ScopeWrite},
		{http.MethodPost, "/api/v1/alerts", `{}`, api.ScopeWrite},
		{http.MethodGet, "/api/v1/backup", "", api.ScopeAdmin},
	}
	for _, rt := range routes {
		for tok, held := range tokens {
			t.Run(rt.method+" "+rt.path+" "+rt.body+" with "+held.Name, func(t *testing.T) {
				req := httptest.NewRequest(rt.method, rt.path, bytes.NewBufferString(rt.body))
				req.Header.Set("Authorization", "Bearer "+tok)
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				// write needs read as well: the commands route is read's.
				allowed := held.Has(rt.needs) && (rt.needs != api.ScopeWrite || rt.path != "/api/v1/commands" || held.Has(api.ScopeRead))
				if allowed {
					require.NotEqual(t, http.StatusForbidden, rec.Code, rec.Body.String())
					return
				}
				require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
				var e struct {
					Error string `json:"error"`
				}
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &e))
				missing := string(rt.needs)
				if rt.path == "/api/v1/commands" && !held.Has(api.ScopeRead) {
					missing = string(api.ScopeRead)
				}
				require.True(t, strings.Contains(e.Error, "lacks the "+missing+" scope"), e.Error)
			})
		}
	}
}

// TestPrivateIncidentsNeedThePrivateScope: without the private scope, a
// private incident is answered as an unknown number (404, never 403) and
// is absent from the list.
func TestPrivateIncidentsNeedThePrivateScope(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t)
	m := incident.Meta{At: time.Now().UTC(), Actor: "U0ALICE", Source: timeline.SourceCommand, Key: "declare"}
	_, err := db.Declare(ctx, m.Key, func(n uint64) (incident.Change, error) {
		return incident.Declare(n, incident.Declaration{Title: "Breach at the vendor", Severity: 1, Private: true}, m)
	})
	require.NoError(t, err)
	srv, err := api.NewServer(api.ServerConfig{Store: db, Dispatcher: &command.Dispatcher{Store: db}, APITokens: map[string]api.Token{
		"token-without-private-0":  {Name: "oncall", Scopes: api.LegacyScopes},
		"token-with-private-00000": {Name: "security", Scopes: []api.Scope{api.ScopeRead, api.ScopeWrite, api.ScopePrivate}},
	}})
	require.NoError(t, err)
	get := func(tok, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	for _, path := range []string{"/api/v1/incidents/%d", "/api/v1/incidents/%d/postmortem"} {
		unknown := get("token-without-private-0", strings.Replace(path, "%d", "99", 1))
		hidden := get("token-without-private-0", strings.Replace(path, "%d", "1", 1))
		require.Equal(t, http.StatusNotFound, hidden.Code)
		require.Equal(t, strings.ReplaceAll(unknown.Body.String(), "INC-99", "INC-1"), hidden.Body.String(), "the unknown-number answer")
		require.Equal(t, http.StatusOK, get("token-with-private-00000", strings.Replace(path, "%d", "1", 1)).Code)
	}
	require.NotContains(t, get("token-without-private-0", "/api/v1/incidents?all=true").Body.String(), "Breach")
	require.Contains(t, get("token-with-private-00000", "/api/v1/incidents?all=true").Body.String(), "Breach")
}
