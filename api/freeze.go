package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/ooda-sre/ooda/slo"
)

// FreezeLookup finds a service's freeze status; ok is false for a service
// without SLOs. prom.Monitor.Freeze is one.
type FreezeLookup func(ctx context.Context, service string) (fs slo.FreezeStatus, ok bool, err error)

// FreezeHandler serves GET /api/v1/freeze?service=NAME: 200 with a
// slo.FreezeStatus, 400 without a service, 404 for a service without SLOs. It
// does no authentication; mount it behind the API's bearer token.
func FreezeHandler(lookup FreezeLookup) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// The media type CI scripts were written against.
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "use GET /api/v1/freeze?service=NAME")
			return
		}
		service := strings.TrimSpace(r.URL.Query().Get("service"))
		if service == "" {
			writeError(w, http.StatusBadRequest, "name the service: GET /api/v1/freeze?service=NAME")
			return
		}
		fs, ok, err := lookup(r.Context(), service)
		switch {
		case errors.Is(err, context.Canceled):
			return
		case err != nil:
			writeError(w, http.StatusServiceUnavailable, "freeze status unavailable: "+err.Error())
			return
		case !ok:
			writeError(w, http.StatusNotFound, "no SLO names the service "+service+"; check the service: field of your SLO files")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, fs)
	}
}
