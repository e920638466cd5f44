package trackertest

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // GitHub still sends the legacy SHA-1 signature beside the SHA-256 one.
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/tickets"
)

// DefaultGitHubToken is the token NewGitHub accepts.
const DefaultGitHubToken = "ghp_trackertestToken0000000000000000"

// GitHubSecondaryLimitMessage starts the body of GitHub's secondary rate limit.
const GitHubSecondaryLimitMessage = "You have exceeded a secondary rate limit"

// GitHub is a fake GitHub REST API (the GitHub Enterprise Server layout,
// under /api/v3/): issues, their listing, the issue search, comments and
// edits. Repositories exist once AddProject names them; "acme/ops" exists
// from the start.
type GitHub struct {
	*server
	token string

	pmu      sync.Mutex
	projects map[string]int // full name → last issue number
	// dropLabels makes Create drop labels and assignees, as GitHub does
	// without an error when the token's user may not triage the
	// repository.
	dropLabels bool
}

var _ Fake = (*GitHub)(nil)

// NewGitHub starts a fake GitHub accepting DefaultGitHubToken. The caller
// must Close it.
func NewGitHub() *GitHub {
	g := &GitHub{token: DefaultGitHubToken, projects: map[string]int{"acme/ops": 0}}
	mux := http.NewServeMux()
	g.server = newServer(flavour{
		authorized: func(r *http.Request) bool {
			a := r.Header.Get("Authorization")
			return a == "Bearer "+g.token || a == "token "+g.token
		},
		errorBody:   githubError,
		rateLimited: g.rateLimited,
		secondary:   githubSecondary,
	}, mux)
	const repo = "/api/v3/repos/{owner}/{repo}/issues"
	mux.HandleFunc("POST "+repo, g.handleCreate())
	mux.HandleFunc("GET "+repo, g.handleList())
	mux.HandleFunc("POST "+repo+"/{number}/comments", g.handleComment())
	mux.HandleFunc("PATCH "+repo+"/{number}", g.handleEdit())
	mux.HandleFunc("GET /api/v3/search/issues", g.handleSearch())
	g.srv.Start()
	return g
}

// StartGitHub starts a fake GitHub closed with the test.
func StartGitHub(t interface{ Cleanup(func()) }) *GitHub {
	g := NewGitHub()
	t.Cleanup(g.Close)
	return g
}

// URL is the API base URL, the one a GitHub Enterprise Server has.
func (g *GitHub) URL() string { return g.srv.URL + "/api/v3/" }

// Token is the token the fake accepts.
func (g *GitHub) Token() string { return g.token }

// AddProject makes a repository ("owner/repo") exist.
func (g *GitHub) AddProject(fullName string) {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	if _, ok := g.projects[fullName]; !ok {
		g.projects[fullName] = 0
	}
}

// DropLabels makes the issues created from now on lose the labels and
// assignees the request names, as GitHub drops them, answering 201, when
// the token's user has no triage or push access to the repository.
func (g *GitHub) DropLabels(drop bool) {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.dropLabels = drop
}

// SecondaryRateLimit answers the next n calls to endpoint with GitHub's
// secondary rate limit: 403, a message saying so, and Retry-After unless
// retryAfter is 0 (GitHub does not always send it).
func (g *GitHub) SecondaryRateLimit(endpoint string, retryAfter time.Duration, n int) {
	g.queue(endpoint, &fault{kind: faultSecondaryRateLimit, retryAfter: retryAfter, left: n})
}

// AddPullRequest adds a pull request, which GitHub's issues listing returns
// among the issues, and returns its number.
func (g *GitHub) AddPullRequest(project, title, body string) string {
	n := g.nextNumber(project)
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.tickets = append(g.tickets, &Ticket{
		Project: project, ID: strconv.Itoa(n), Title: title, Body: body, State: tickets.StateOpen,
		URL: g.srv.URL + "/" + project + "/pull/" + strconv.Itoa(n), Created: now, Updated: now, pull: true,
	})
	return strconv.Itoa(n)
}

// CloseTicket closes an issue as completed.
func (g *GitHub) CloseTicket(project, id string) error {
	return g.setState(project, id, func(t *Ticket) { t.State, t.Reason = tickets.StateClosed, "completed" })
}

// ReopenTicket reopens an issue.
func (g *GitHub) ReopenTicket(project, id string) error {
	return g.setState(project, id, func(t *Ticket) { t.State, t.Reason = tickets.StateOpen, "reopened" })
}

// SignedWebhook builds an "issues" delivery with action "closed" or
// "reopened", signed as GitHub signs it: X-Hub-Signature-256 (and the legacy
// X-Hub-Signature) over the raw body.
func (g *GitHub) SignedWebhook(project, id string, secret []byte) (http.Header, []byte, error) {
	g.mu.Lock()
	t := g.ticket(project, id)
	var issue map[string]any
	if t != nil {
		issue = g.issueJSON(t)
	}
	g.mu.Unlock()
	if t == nil {
		return nil, nil, fmt.Errorf("trackertest: no issue %s in %s", id, project)
	}
	action := "reopened"
	if issue["state"] == "closed" {
		action = "closed"
	}
	owner, name, _ := strings.Cut(project, "/")
	body, err := json.Marshal(map[string]any{
		"action": action,
		"issue":  issue,
		"repository": map[string]any{
			"id": 1296269, "name": name, "full_name": project,
			"owner":    map[string]any{"login": owner, "type": "Organization"},
			"html_url": g.srv.URL + "/" + project,
		},
		"sender": map[string]any{"login": "octocat", "type": "User"},
	})
	if err != nil {
		return nil, nil, err
	}
	return GitHubDelivery("issues", body, secret), body, nil
}

// GitHubDelivery returns the headers GitHub sends with a delivery of event,
// signed with secret unless it is nil.
func GitHubDelivery(event string, body, secret []byte) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitHub-Hookshot/7a1b2c3")
	h.Set("X-GitHub-Event", event)
	h.Set("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h.Set("X-GitHub-Hook-ID", "292430182")
	if secret != nil {
		h.Set("X-Hub-Signature", "sha1="+mac(sha1.New, secret, body))
		h.Set("X-Hub-Signature-256", "sha256="+mac(sha256.New, secret, body))
	}
	return h
}

func mac(h func() hash.Hash, secret, body []byte) string {
	m := hmac.New(h, secret)
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

func githubError(status int, msg string) any {
	return map[string]any{
		"message":           msg,
		"documentation_url": "https://docs.github.com/rest",
		"status":            strconv.Itoa(status),
	}
}

// rateLimited is GitHub's primary rate limit: no requests left until the
// reset time.
func (g *GitHub) rateLimited(h http.Header, retryAfter time.Duration) reply {
	h.Set("Retry-After", retryAfterSeconds(retryAfter))
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Used", "5000")
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-RateLimit-Reset", strconv.FormatInt(g.now().Add(retryAfter).Unix(), 10))
	return reply{status: http.StatusTooManyRequests, body: map[string]any{
		"message":           "API rate limit exceeded for user ID 1.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
		"status":            "429",
	}}
}

func githubSecondary(h http.Header, retryAfter time.Duration) reply {
	if retryAfter > 0 {
		h.Set("Retry-After", retryAfterSeconds(retryAfter))
	}
	return reply{status: http.StatusForbidden, body: map[string]any{
		"message":           GitHubSecondaryLimitMessage + ". Please wait a few minutes before you try again.",
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
		"status":            "403",
	}}
}

// project returns the repository a request names and whether it exists.
func (g *GitHub) project(r *http.Request) (string, bool) {
	p := r.PathValue("owner") + "/" + r.PathValue("repo")
	g.pmu.Lock()
	defer g.pmu.Unlock()
	_, ok := g.projects[p]
	return p, ok
}

func (g *GitHub) nextNumber(project string) int {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.projects[project]++
	return g.projects[project]
}

func notFound(errorBody func(int, string) any) reply {
	return reply{status: http.StatusNotFound, body: errorBody(http.StatusNotFound, "Not Found")}
}

func (g *GitHub) handleCreate() http.HandlerFunc {
	return g.handle(EndpointCreate, func(r *http.Request, body []byte) reply {
		project, ok := g.project(r)
		if !ok {
			return notFound(githubError)
		}
		var req struct {
			Title     string   `json:"title"`
			Body      string   `json:"body"`
			Labels    []string `json:"labels"`
			Assignees []string `json:"assignees"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: githubError(http.StatusBadRequest, "Problems parsing JSON")}
		}
		if req.Title == "" {
			return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed")}
		}
		g.pmu.Lock()
		if g.dropLabels {
			req.Labels, req.Assignees = nil, nil
		}
		g.pmu.Unlock()
		n := g.nextNumber(project)
		now := g.now()
		g.mu.Lock()
		defer g.mu.Unlock()
		t := &Ticket{
			Project: project, ID: strconv.Itoa(n), Title: req.Title, Body: req.Body,
			Labels: req.Labels, Assignees: req.Assignees, State: tickets.StateOpen,
			URL: g.srv.URL + "/" + project + "/issues/" + strconv.Itoa(n), Created: now, Updated: now,
		}
		g.tickets = append(g.tickets, t)
		return reply{status: http.StatusCreated, body: g.issueJSON(t)}
	})
}

// handleList serves GET /repos/{owner}/{repo}/issues with state, labels,
// since (on the update time), sort (created by default, or updated),
// direction (desc by default), per_page and page, and a Link header to the
// next page, as GitHub does.
func (g *GitHub) handleList() http.HandlerFunc {
	return g.handle(EndpointList, func(r *http.Request, _ []byte) reply {
		project, ok := g.project(r)
		if !ok {
			return notFound(githubError)
		}
		q := r.URL.Query()
		state := q.Get("state")
		if state == "" {
			state = "open"
		}
		var labels []string
		if l := q.Get("labels"); l != "" {
			labels = strings.Split(l, ",")
		}
		var since time.Time
		if s := q.Get("since"); s != "" {
			var err error
			if since, err = time.Parse(time.RFC3339, s); err != nil {
				return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed")}
			}
		}
		perPage, page := pagination(q, 30, 100)

		g.mu.Lock()
		defer g.mu.Unlock()
		var match []*Ticket
		for _, t := range g.tickets {
			switch {
			case t.Project != project,
				state != "all" && (state == "closed") != closed(t),
				!since.IsZero() && t.Updated.Before(since),
				!hasAll(t.Labels, labels):
				continue
			}
			match = append(match, t)
		}
		key := func(t *Ticket) time.Time { return t.Created }
		if q.Get("sort") == "updated" {
			key = func(t *Ticket) time.Time { return t.Updated }
		}
		slices.SortStableFunc(match, func(a, b *Ticket) int { return key(a).Compare(key(b)) })
		if q.Get("direction") != "asc" {
			slices.Reverse(match)
		}
		items, more := pageOf(match, perPage, page)
		out := make([]map[string]any, 0, len(items))
		for _, t := range items {
			out = append(out, g.issueJSON(t))
		}
		h := g.nextLink(r, page, more)
		return reply{status: http.StatusOK, body: out, header: h}
	})
}

// handleSearch serves GET /search/issues: q with quoted phrases and
// words, which a hit's title or body (its body alone with in:body) must
// all contain, case folded, and the qualifiers repo:owner/repo (required
// here; a repository that does not exist is a 422, as GitHub answers),
// is:issue or is:pr. It answers GitHub's documented shape, total_count,
// incomplete_results and items, best match first (here: newest created
// first), paged by per_page and page. Its index does not lag, as GitHub's
// does by a minute or so.
func (g *GitHub) handleSearch() http.HandlerFunc {
	return g.handle(EndpointSearch, func(r *http.Request, _ []byte) reply {
		q, err := parseSearch(r.URL.Query().Get("q"))
		if err != nil {
			return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed: "+err.Error())}
		}
		g.pmu.Lock()
		_, ok := g.projects[q.repo]
		g.pmu.Unlock()
		if !ok {
			return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity,
				"Validation Failed: The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.")}
		}
		perPage, page := pagination(r.URL.Query(), 30, 100)

		g.mu.Lock()
		defer g.mu.Unlock()
		var match []*Ticket
		for _, t := range g.tickets {
			if t.Project == q.repo && q.matches(t) {
				match = append(match, t)
			}
		}
		slices.SortStableFunc(match, func(a, b *Ticket) int { return b.Created.Compare(a.Created) })
		items, more := pageOf(match, perPage, page)
		out := make([]map[string]any, 0, len(items))
		for _, t := range items {
			issue := g.issueJSON(t)
			issue["score"] = 1.0
			out = append(out, issue)
		}
		h := g.nextLink(r, page, more)
		return reply{status: http.StatusOK, header: h, body: map[string]any{
			"total_count": len(match), "incomplete_results": false, "items": out,
		}}
	})
}

// searchQuery is a parsed q of the issue search.
type searchQuery struct {
	repo   string
	terms  []string // phrases and words, each contained in a hit
	inBody bool     // in:body: the terms are looked for in the body alone
	kind   string   // "issue", "pr" or "" for both
}

func parseSearch(q string) (searchQuery, error) {
	var out searchQuery
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		var tok string
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				return searchQuery{}, fmt.Errorf("unclosed quote in %q", q)
			}
			tok, q = q[1:end+1], q[end+2:]
			out.terms = append(out.terms, tok)
			continue
		}
		tok, q, _ = strings.Cut(q, " ")
		switch name, value, _ := strings.Cut(tok, ":"); name {
		case "repo":
			out.repo = value
		case "in":
			out.inBody = value == "body"
		case "is", "type":
			out.kind = value
		default:
			out.terms = append(out.terms, tok)
		}
	}
	if out.repo == "" {
		return searchQuery{}, fmt.Errorf("the fake searches one repository: q needs repo:owner/repo")
	}
	return out, nil
}

// matches reports whether t is a hit.
var htmlComment = regexp.MustCompile(`(?s)<!--.*?-->`)

func (q searchQuery) matches(t *Ticket) bool {
	switch {
	case q.kind == "issue" && t.pull, q.kind == "pr" && !t.pull:
		return false
	}
	// GitHub's search does not index HTML comments (<!-- … -->).
	text := strings.ToLower(htmlComment.ReplaceAllString(t.Body, " "))
	if !q.inBody {
		text = strings.ToLower(t.Title) + "\n" + text
	}
	for _, term := range q.terms {
		if !strings.Contains(text, strings.ToLower(term)) {
			return false
		}
	}
	return true
}

func (g *GitHub) handleComment() http.HandlerFunc {
	return g.handle(EndpointComment, func(r *http.Request, body []byte) reply {
		project, ok := g.project(r)
		if !ok {
			return notFound(githubError)
		}
		var req struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Body == "" {
			return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed")}
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		t := g.ticket(project, r.PathValue("number"))
		if t == nil {
			return notFound(githubError)
		}
		t.Comments = append(t.Comments, req.Body)
		t.Updated = g.now()
		return reply{status: http.StatusCreated, body: map[string]any{
			"id": len(t.Comments), "body": req.Body, "html_url": t.URL + "#issuecomment-" + strconv.Itoa(len(t.Comments)),
			"created_at": g.now().UTC().Format(time.RFC3339),
		}}
	})
}

func (g *GitHub) handleEdit() http.HandlerFunc {
	return g.handle(EndpointClose, func(r *http.Request, body []byte) reply {
		project, ok := g.project(r)
		if !ok {
			return notFound(githubError)
		}
		var req struct {
			State       *string `json:"state"`
			StateReason *string `json:"state_reason"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: githubError(http.StatusBadRequest, "Problems parsing JSON")}
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		t := g.ticket(project, r.PathValue("number"))
		if t == nil {
			return notFound(githubError)
		}
		if req.State != nil {
			switch *req.State {
			case "closed":
				t.State, t.Reason = tickets.StateClosed, "completed"
			case "open":
				t.State, t.Reason = tickets.StateOpen, "reopened"
			default:
				return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed")}
			}
		}
		if req.StateReason != nil {
			switch *req.StateReason {
			case "completed", "not_planned", "reopened":
				t.Reason = *req.StateReason
			default:
				return reply{status: http.StatusUnprocessableEntity, body: githubError(http.StatusUnprocessableEntity, "Validation Failed")}
			}
		}
		t.Updated = g.now()
		return reply{status: http.StatusOK, body: g.issueJSON(t)}
	})
}

// issueJSON is an issue as GitHub's REST API gives it; g.mu must be held.
func (g *GitHub) issueJSON(t *Ticket) map[string]any {
	n, _ := strconv.Atoi(t.ID)
	labels := make([]map[string]any, 0, len(t.Labels))
	for _, l := range t.Labels {
		labels = append(labels, map[string]any{"name": l})
	}
	assignees := make([]map[string]any, 0, len(t.Assignees))
	for _, a := range t.Assignees {
		assignees = append(assignees, map[string]any{"login": a})
	}
	state := "open"
	var closedAt any
	if closed(t) {
		state, closedAt = "closed", t.Updated.UTC().Format(time.RFC3339)
	}
	var reason any
	if t.Reason != "" {
		reason = t.Reason
	}
	out := map[string]any{
		"id":           100000 + n,
		"number":       n,
		"title":        t.Title,
		"body":         t.Body,
		"state":        state,
		"state_reason": reason,
		"labels":       labels,
		"assignees":    assignees,
		"html_url":     t.URL,
		"url":          g.URL() + "repos/" + t.Project + "/issues/" + t.ID,
		"created_at":   t.Created.UTC().Format(time.RFC3339),
		"updated_at":   t.Updated.UTC().Format(time.RFC3339),
		"closed_at":    closedAt,
	}
	if t.pull {
		out["pull_request"] = map[string]any{"html_url": t.URL}
	}
	return out
}

// nextLink is the header of a page of a listing: a Link to the next page
// when more follow, as GitHub sends.
func (g *GitHub) nextLink(r *http.Request, page int, more bool) http.Header {
	h := http.Header{}
	if more {
		next := *r.URL
		nq := next.Query()
		nq.Set("page", strconv.Itoa(page+1))
		next.RawQuery = nq.Encode()
		h.Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, g.srv.URL, next.RequestURI()))
	}
	return h
}

// pagination reads per_page and page.
func pagination(q url.Values, def, maxPer int) (perPage, page int) {
	perPage, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || perPage <= 0 {
		perPage = def
	}
	perPage = min(perPage, maxPer)
	page, err = strconv.Atoi(q.Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	return perPage, page
}

// pageOf returns page (from 1) of items and whether more follow.
func pageOf[T any](items []T, perPage, page int) ([]T, bool) {
	start := (page - 1) * perPage
	if start >= len(items) {
		return nil, false
	}
	end := min(start+perPage, len(items))
	return items[start:end], end < len(items)
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}
