package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api"
	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

const requestsToken = "admin-token-0123456789"

func requestsServer(t *testing.T) *api.Server {
	t.Helper()
	db := storagetest.Open(t)
	srv, err := api.NewServer(api.ServerConfig{Store: db, APIToken: requestsToken, Dispatcher: &command.Dispatcher{Store: db}})
	require.NoError(t, err)
	return srv
}

// send runs one request and returns its status and its JSON body, which
// every answer must have.
func send(t *testing.T, srv http.Handler, method, path, auth, key, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	require.Contains(t, rec.Header().Get("Content-Type"), "application/json", "%s %s answers JSON", method, path)
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), "%s %s answers JSON: %s", method, path, rec.Body)
	return rec.Code, out, rec.Header()
}

func TestReusedIdempotencyKeyWithAnotherBodyIsRefused(t *testing.T) {
	srv := requestsServer(t)
	auth := "Bearer " + requestsToken
	code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-1", `{"text": "declare sev2 Checkout is down"}`)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, "INC-1", out["incident"])

	// The retry of the same request is answered with the first result.
	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-1", `{"text": "declare sev2 Checkout is down"}`)
	require.Equal(t, http.StatusOK, code, out)
	require.Equal(t, "INC-1", out["incident"])

	// Another request under the same key is not silently answered with it.
	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-1", `{"text": "declare sev1 Payments are down"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, out)
	require.Contains(t, out["text"], "already used for a different request")

	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-2", `{"text": "observe 5xx at 12%", "incident": "INC-1"}`)
	require.Equal(t, http.StatusOK, code, out)
	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-2", `{"text": "observe 5xx at 40%", "incident": "INC-1"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, out)
	code, _, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "k-2", `{"text": "observe 5xx at 12%", "incident": "INC-1"}`)
	require.Equal(t, http.StatusOK, code)

	// Nothing the refused requests asked for was recorded.
	code, out, _ = send(t, srv, http.MethodGet, "/api/v1/incidents/1", auth, "", "")
	require.Equal(t, http.StatusOK, code, out)
	events, _ := json.Marshal(out["events"])
	require.NotContains(t, string(events), "40%")
	code, out, _ = send(t, srv, http.MethodGet, "/api/v1/incidents", auth, "", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, float64(1), out["total"], "the sev1 declaration opened nothing")
}

func TestBearerSchemeInAnyCase(t *testing.T) {
	srv := requestsServer(t)
	for _, auth := range []string{"Bearer " + requestsToken, "bearer " + requestsToken, "BEARER  " + requestsToken + " "} {
		code, out, _ := send(t, srv, http.MethodGet, "/api/v1/incidents", auth, "", "")
		require.Equal(t, http.StatusOK, code, "%q: %v", auth, out)
	}
	for _, auth := range []string{"Basic " + requestsToken, requestsToken, "Bearer", "Bearer wrong-token-0123456789"} {
		code, _, h := send(t, srv, http.MethodGet, "/api/v1/incidents", auth, "", "")
		require.Equal(t, http.StatusUnauthorized, code, "%q", auth)
		require.Equal(t, `Bearer realm="ooda"`, h.Get("WWW-Authenticate"))
	}
}

func TestCommandBodyIsOneObject(t *testing.T) {
	srv := requestsServer(t)
	auth := "Bearer " + requestsToken
	for _, body := range []string{
		`{"text": "declare sev2 A"}{"text": "declare sev1 B"}`,
		`{"text": "declare sev2 A"} trailing`,
		`{"text": "declare sev2 A"}]`,
	} {
		code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "", body)
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, out["error"], "one JSON object with nothing after it", body)
	}
	code, out, _ := send(t, srv, http.MethodPost, "/api/v1/commands", auth, "", "{\"text\": \"declare sev2 A\"}\n\t ")
	require.Equal(t, http.StatusOK, code, "white space after the object is fine: %v", out)

	// The incident is named once, or twice alike.
	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "", `{"text": "observe INC-2 disk full", "incident": "INC-1"}`)
	require.Equal(t, http.StatusBadRequest, code)
	require.Contains(t, out["text"], "the request names INC-1 and the command names INC-2")
	code, out, _ = send(t, srv, http.MethodPost, "/api/v1/commands", auth, "", `{"text": "observe INC-1 disk full", "incident": "INC-1"}`)
	require.Equal(t, http.StatusOK, code, out)
}

func TestUnroutedRequestsAnswerJSON(t *testing.T) {
	srv := requestsServer(t)
	auth := "Bearer " + requestsToken
	code, out, _ := send(t, srv, http.MethodGet, "/api/v1/nope", auth, "", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Contains(t, out["error"], "nothing is served at /api/v1/nope")
	code, out, _ = send(t, srv, http.MethodGet, "/", "", "", "")
	require.Equal(t, http.StatusNotFound, code, out)

	code, out, h := send(t, srv, http.MethodDelete, "/api/v1/incidents", auth, "", "")
	require.Equal(t, http.StatusMethodNotAllowed, code)
	require.Contains(t, h.Get("Allow"), "GET")
	require.Contains(t, out["error"], "/api/v1/incidents does not take DELETE; use GET")
	code, _, _ = send(t, srv, http.MethodGet, "/api/v1/commands", auth, "", "")
	require.Equal(t, http.StatusMethodNotAllowed, code)
}
