package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/ooda-sre/ooda/incident"
)

// IncidentPage is the answer of GET /api/v1/incidents: one page of the
// incidents the token may see, newest first.
type IncidentPage struct {
	Incidents []incident.Incident `json:"incidents"`
	// Total counts every incident the token may see under the filter
	// (open, or all), on every page.
	Total int `json:"total"`
	// NextCursor asks for the page after this one; empty on the last.
	NextCursor string `json:"next_cursor"`
}

// The page sizes of GET /api/v1/incidents.
const (
	defaultIncidentLimit = 50
	maxIncidentLimit     = 500
)

// listIncidents answers GET /api/v1/incidents[?all=true][&limit=N][&cursor=C].
// It pages over the store's whole list (incident.Store.Incidents answers
// with every incident): a year of incidents is a few thousand snapshots,
// and paging here keeps the store interface one call. A cursor names the
// last incident a page returned, so pages stay right while incidents are
// declared between requests.
func (s *Server) listIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	all := false
	if v := q.Get("all"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "all must be true or false")
			return
		}
		all = b
	}
	limit := defaultIncidentLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxIncidentLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 1 to %d, such as limit=%d", maxIncidentLimit, defaultIncidentLimit))
			return
		}
		limit = n
	}
	var before uint64 // 0: from the newest
	if v := q.Get("cursor"); v != "" {
		n, err := parseCursor(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "cursor is not one this API gave: pass the next_cursor of the previous page, or leave it out to start from the newest incident")
			return
		}
		before = n
	}
	incs, err := s.cfg.Store.Incidents(r.Context(), all)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	page := IncidentPage{Incidents: []incident.Incident{}}
	for _, inc := range incs {
		// A private incident the token may not see is neither listed
		// nor counted: it does not exist for the token.
		if !admits(r.Context(), inc) {
			continue
		}
		page.Total++
		if before != 0 && inc.Number >= before {
			continue
		}
		if len(page.Incidents) == limit {
			page.NextCursor = cursorBefore(page.Incidents[limit-1].Number)
			continue
		}
		page.Incidents = append(page.Incidents, inc)
	}
	writeJSON(w, http.StatusOK, page)
}

// cursorPrefix versions the cursor, so its form can change without
// misreading the cursors clients already hold.
const cursorPrefix = "v1:before:"

// cursorBefore is the cursor of the page that follows incident n.
func cursorBefore(n uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatUint(n, 10)))
}

// parseCursor reads a cursor cursorBefore wrote back into its number.
func parseCursor(c string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, fmt.Errorf("decode cursor: %w", err)
	}
	rest, ok := strings.CutPrefix(string(raw), cursorPrefix)
	if !ok {
		return 0, fmt.Errorf("cursor %q: not a v1 cursor", raw)
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("cursor %q: not an incident number", raw)
	}
	return n, nil
}
