package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/search"
)

// Searcher is what GET /api/v1/search reads: the index of incidents.
// *search.Index is one.
type Searcher interface {
	Search(query string, may func(incident.Incident) bool, limit int) search.Results
	Ready() bool
	Progress() (read, total int)
}

var _ Searcher = (*search.Index)(nil)

// The page size of GET /api/v1/search.
const (
	defaultSearchLimit = 20
	maxSearchLimit     = 100
)

// SearchHit is one incident GET /api/v1/search found, with the line that
// matched best.
type SearchHit struct {
	ID            string          `json:"id"` // INC-7
	Title         string          `json:"title"`
	Service       string          `json:"service,omitempty"`
	Severity      int             `json:"severity"`
	Status        incident.Status `json:"status"`
	Private       bool            `json:"private,omitempty"`
	DeclaredAt    time.Time       `json:"declared_at"`
	ResolvedAt    time.Time       `json:"resolved_at,omitzero"`
	RootCause     string          `json:"root_cause,omitempty"`
	PostmortemURL string          `json:"postmortem_url,omitempty"`
	// Line is the line holding the most words of the query, Field where
	// it was written (title, impact, root cause, trigger, resolution,
	// description, update, timeline) and At when.
	Line  string       `json:"line,omitempty"`
	Field search.Field `json:"field,omitempty"`
	At    time.Time    `json:"at,omitzero"`
}

// SearchPage is the answer of GET /api/v1/search: the first hits, newest
// first, and how many incidents the token may see match in all.
type SearchPage struct {
	Hits  []SearchHit `json:"hits"`
	Total int         `json:"total"`
}

// search answers GET /api/v1/search?q=words[&limit=N]: the incidents the
// token may see that hold every word, newest first. A private incident
// is found and counted only with the private scope.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	words := strings.TrimSpace(q.Get("q"))
	if words == "" {
		writeError(w, http.StatusBadRequest, "say what to look for with q, such as /api/v1/search?q=connection+pool")
		return
	}
	limit := defaultSearchLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxSearchLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit must be a whole number from 1 to %d, such as limit=%d", maxSearchLimit, defaultSearchLimit))
			return
		}
		limit = n
	}
	if !s.cfg.Search.Ready() {
		read, total := s.cfg.Search.Progress()
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("search is still reading the incidents (%d of %d); try again in a moment", read, total))
		return
	}
	ctx := r.Context()
	res := s.cfg.Search.Search(words, func(inc incident.Incident) bool { return admits(ctx, inc) }, limit)
	page := SearchPage{Hits: make([]SearchHit, 0, len(res.Hits)), Total: res.Total}
	for _, h := range res.Hits {
		page.Hits = append(page.Hits, SearchHit{
			ID: h.ID, Title: h.Title, Service: h.Service, Severity: h.Severity, Status: h.Status, Private: h.Private,
			DeclaredAt: h.DeclaredAt, ResolvedAt: h.ResolvedAt, RootCause: h.RootCause, PostmortemURL: h.PostmortemURL,
			Line: h.Line, Field: h.Field, At: h.At,
		})
	}
	writeJSON(w, http.StatusOK, page)
}
