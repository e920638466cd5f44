package trackertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/tickets"
)

// DefaultGitLabToken is the token NewGitLab accepts.
const DefaultGitLabToken = "glpat-trackertestToken000"

// GitLab is a fake GitLab REST API (v4): project issues, their listing,
// notes and edits, and the user search. A project is named by its numeric
// id or its URL-encoded path; "acme/ops" (id 7) exists from the start.
type GitLab struct {
	*server
	token string

	pmu      sync.Mutex
	projects []*gitlabProject
	users    []GitLabUser
}

type gitlabProject struct {
	id   int
	path string
	last int // last iid
}

// GitLabUser is a user the fake's user search knows.
type GitLabUser struct {
	ID       int
	Username string
	Name     string
	// PublicEmail is shown to everyone, and found by a search for it; the
	// private email is found only by administrators, which the fake's token
	// is not.
	PublicEmail string
}

var _ Fake = (*GitLab)(nil)

// NewGitLab starts a fake GitLab accepting DefaultGitLabToken. The caller
// must Close it.
func NewGitLab() *GitLab {
	g := &GitLab{token: DefaultGitLabToken, projects: []*gitlabProject{{id: 7, path: "acme/ops"}}}
	mux := http.NewServeMux()
	g.server = newServer(flavour{
		authorized: func(r *http.Request) bool {
			return r.Header.Get("Private-Token") == g.token || r.Header.Get("Authorization") == "Bearer "+g.token
		},
		errorBody: func(status int, msg string) any {
			return map[string]any{"message": strconv.Itoa(status) + " " + msg}
		},
		rateLimited: func(h http.Header, retryAfter time.Duration) reply {
			h.Set("Retry-After", retryAfterSeconds(retryAfter))
			h.Set("RateLimit-Limit", "2000")
			h.Set("RateLimit-Remaining", "0")
			h.Set("RateLimit-Reset", strconv.FormatInt(time.Now().Add(retryAfter).Unix(), 10))
			// GitLab's throttle answers in plain text.
			return reply{status: http.StatusTooManyRequests, body: "Retry later"}
		},
	}, mux)
	const issues = "/api/v4/projects/{id}/issues"
	mux.HandleFunc("POST "+issues, g.handleCreate())
	mux.HandleFunc("GET "+issues, g.handleList())
	mux.HandleFunc("POST "+issues+"/{iid}/notes", g.handleNote())
	mux.HandleFunc("PUT "+issues+"/{iid}", g.handleEdit())
	mux.HandleFunc("GET /api/v4/users", g.handleUsers())
	g.srv.Start()
	return g
}

// StartGitLab starts a fake GitLab closed with the test.
func StartGitLab(t interface{ Cleanup(func()) }) *GitLab {
	g := NewGitLab()
	t.Cleanup(g.Close)
	return g
}

// URL is the instance's base URL; the API is under /api/v4/.
func (g *GitLab) URL() string { return g.srv.URL }

// Token is the token the fake accepts.
func (g *GitLab) Token() string { return g.token }

// AddProject makes a project exist with a numeric id and a path.
func (g *GitLab) AddProject(id int, path string) {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.projects = append(g.projects, &gitlabProject{id: id, path: path})
}

// AddUser adds a user the user search finds.
func (g *GitLab) AddUser(u GitLabUser) {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.users = append(g.users, u)
}

// CloseTicket closes an issue.
func (g *GitLab) CloseTicket(project, id string) error {
	return g.setState(g.path(project), id, func(t *Ticket) { t.State = tickets.StateClosed })
}

// ReopenTicket reopens an issue.
func (g *GitLab) ReopenTicket(project, id string) error {
	return g.setState(g.path(project), id, func(t *Ticket) { t.State = tickets.StateOpen })
}

// path returns the path of a project named by id or path.
func (g *GitLab) path(project string) string {
	if p := g.lookup(project); p != nil {
		return p.path
	}
	return project
}

// SignedWebhook builds an "Issue Hook" delivery with action "close" or
// "reopen", carrying secret in X-Gitlab-Token as GitLab does (it signs
// nothing: the token is the proof).
func (g *GitLab) SignedWebhook(project, id string, secret []byte) (http.Header, []byte, error) {
	p := g.lookup(project)
	if p == nil {
		return nil, nil, fmt.Errorf("trackertest: no project %s", project)
	}
	g.mu.Lock()
	t := g.ticket(p.path, id)
	var issue map[string]any
	if t != nil {
		issue = g.issueJSON(t, p)
	}
	g.mu.Unlock()
	if t == nil {
		return nil, nil, fmt.Errorf("trackertest: no issue %s in %s", id, project)
	}
	attrs := map[string]any{
		"id": issue["id"], "iid": issue["iid"], "title": issue["title"], "description": issue["description"],
		"state": issue["state"], "url": issue["web_url"], "project_id": p.id,
		"created_at": t.Created.UTC().Format("2006-01-02 15:04:05 UTC"),
		"updated_at": t.Updated.UTC().Format("2006-01-02 15:04:05 UTC"),
		"action":     "reopen",
	}
	if closed(t) {
		attrs["action"] = "close"
	}
	body, err := json.Marshal(map[string]any{
		"object_kind": "issue",
		"event_type":  "issue",
		"user":        map[string]any{"id": 1, "name": "Administrator", "username": "root"},
		"project": map[string]any{
			"id": p.id, "name": p.path[strings.LastIndex(p.path, "/")+1:], "path_with_namespace": p.path,
			"web_url": g.srv.URL + "/" + p.path,
		},
		"object_attributes": attrs,
		"labels":            []any{},
		"changes":           map[string]any{},
	})
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "GitLab/17.5.0")
	h.Set("X-Gitlab-Event", "Issue Hook")
	h.Set("X-Gitlab-Instance", g.srv.URL)
	h.Set("X-Gitlab-Webhook-UUID", "d7d0c6e4-2b4a-4ad9-9d2b-7c2e0b0a2c11")
	h.Set("X-Gitlab-Event-UUID", "13792a34-cac6-4fda-95a8-c58e00a3954e")
	if secret != nil {
		h.Set("X-Gitlab-Token", string(secret))
	}
	return h, body, nil
}

func (g *GitLab) lookup(project string) *gitlabProject {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	for _, p := range g.projects {
		if p.path == project || strconv.Itoa(p.id) == project {
			return p
		}
	}
	return nil
}

func (g *GitLab) notFound(what string) reply {
	return reply{status: http.StatusNotFound, body: map[string]any{"message": "404 " + what + " Not Found"}}
}

func (g *GitLab) badRequest(msg string) reply {
	return reply{status: http.StatusBadRequest, body: map[string]any{"error": msg}}
}

func (g *GitLab) handleCreate() http.HandlerFunc {
	return g.handle(EndpointCreate, func(r *http.Request, body []byte) reply {
		p := g.lookup(r.PathValue("id"))
		if p == nil {
			return g.notFound("Project")
		}
		var req struct {
			Title       string          `json:"title"`
			Description string          `json:"description"`
			Labels      json.RawMessage `json:"labels"`
			AssigneeIDs []int           `json:"assignee_ids"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return g.badRequest("invalid JSON")
		}
		if req.Title == "" {
			return g.badRequest("title is missing")
		}
		labels, err := gitlabLabels(req.Labels)
		if err != nil {
			return g.badRequest("labels is invalid")
		}
		var assignees []string
		for _, id := range req.AssigneeIDs {
			assignees = append(assignees, strconv.Itoa(id))
		}
		g.pmu.Lock()
		p.last++
		iid := p.last
		g.pmu.Unlock()
		now := g.now()
		g.mu.Lock()
		defer g.mu.Unlock()
		t := &Ticket{
			Project: p.path, ID: strconv.Itoa(iid), Title: req.Title, Body: req.Description,
			Labels: labels, Assignees: assignees, State: tickets.StateOpen,
			URL: g.srv.URL + "/" + p.path + "/-/issues/" + strconv.Itoa(iid), Created: now, Updated: now,
		}
		g.tickets = append(g.tickets, t)
		return reply{status: http.StatusCreated, body: g.issueJSON(t, p)}
	})
}

// gitlabLabels reads labels sent as a comma-separated string or an array.
func gitlabLabels(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return nil, nil
		}
		return strings.Split(s, ","), nil
	}
	var a []string
	return a, json.Unmarshal(raw, &a)
}

// handleList serves GET /projects/:id/issues with iids[], search, in,
// created_after, state, per_page and page, newest first, with GitLab's
// X-Next-Page header.
func (g *GitLab) handleList() http.HandlerFunc {
	return g.handle(EndpointList, func(r *http.Request, _ []byte) reply {
		p := g.lookup(r.PathValue("id"))
		if p == nil {
			return g.notFound("Project")
		}
		q := r.URL.Query()
		iids := q["iids[]"]
		search := q.Get("search")
		in := q.Get("in")
		if in == "" {
			in = "title,description"
		}
		var after time.Time
		if s := q.Get("created_after"); s != "" {
			var err error
			if after, err = time.Parse(time.RFC3339, s); err != nil {
				return g.badRequest("created_after is invalid")
			}
		}
		state := q.Get("state")
		perPage, page := pagination(q, 20, 100)

		g.mu.Lock()
		defer g.mu.Unlock()
		var match []*Ticket
		for _, t := range g.tickets {
			switch {
			case t.Project != p.path,
				len(iids) > 0 && !slices.Contains(iids, t.ID),
				!after.IsZero() && t.Created.Before(after),
				state == "opened" && closed(t), state == "closed" && !closed(t),
				search != "" && !(strings.Contains(in, "title") && strings.Contains(t.Title, search) ||
					strings.Contains(in, "description") && strings.Contains(t.Body, search)):
				continue
			}
			match = append(match, t)
		}
		slices.Reverse(match)
		items, more := pageOf(match, perPage, page)
		out := make([]map[string]any, 0, len(items))
		for _, t := range items {
			out = append(out, g.issueJSON(t, p))
		}
		h := http.Header{}
		h.Set("X-Page", strconv.Itoa(page))
		h.Set("X-Per-Page", strconv.Itoa(perPage))
		h.Set("X-Total", strconv.Itoa(len(match)))
		if more {
			h.Set("X-Next-Page", strconv.Itoa(page+1))
		}
		return reply{status: http.StatusOK, body: out, header: h}
	})
}

func (g *GitLab) handleNote() http.HandlerFunc {
	return g.handle(EndpointComment, func(r *http.Request, body []byte) reply {
		p := g.lookup(r.PathValue("id"))
		if p == nil {
			return g.notFound("Project")
		}
		var req struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Body == "" {
			return g.badRequest("body is missing")
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		t := g.ticket(p.path, r.PathValue("iid"))
		if t == nil {
			return g.notFound("Issue")
		}
		t.Comments = append(t.Comments, req.Body)
		t.Updated = g.now()
		iid, _ := strconv.Atoi(t.ID)
		return reply{status: http.StatusCreated, body: map[string]any{
			"id": len(t.Comments), "body": req.Body, "noteable_type": "Issue", "noteable_iid": iid,
			"created_at": g.now().UTC().Format(time.RFC3339),
		}}
	})
}

func (g *GitLab) handleEdit() http.HandlerFunc {
	return g.handle(EndpointClose, func(r *http.Request, body []byte) reply {
		p := g.lookup(r.PathValue("id"))
		if p == nil {
			return g.notFound("Project")
		}
		var req struct {
			StateEvent string `json:"state_event"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return g.badRequest("invalid JSON")
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		t := g.ticket(p.path, r.PathValue("iid"))
		if t == nil {
			return g.notFound("Issue")
		}
		switch req.StateEvent {
		case "close":
			t.State = tickets.StateClosed
		case "reopen":
			t.State = tickets.StateOpen
		case "":
		default:
			return g.badRequest("state_event does not have a valid value")
		}
		t.Updated = g.now()
		return reply{status: http.StatusOK, body: g.issueJSON(t, p)}
	})
}

// handleUsers serves GET /users?search=: a user matches by username or name
// in part, or by public email exactly, as GitLab answers a non-admin.
func (g *GitLab) handleUsers() http.HandlerFunc {
	return g.handle(EndpointUsers, func(r *http.Request, _ []byte) reply {
		search := strings.ToLower(r.URL.Query().Get("search"))
		g.pmu.Lock()
		defer g.pmu.Unlock()
		out := []map[string]any{}
		for _, u := range g.users {
			if search == "" || strings.Contains(strings.ToLower(u.Username), search) ||
				strings.Contains(strings.ToLower(u.Name), search) || strings.EqualFold(u.PublicEmail, search) {
				out = append(out, map[string]any{
					"id": u.ID, "username": u.Username, "name": u.Name, "state": "active",
					"public_email": u.PublicEmail, "web_url": g.srv.URL + "/" + u.Username,
				})
			}
		}
		return reply{status: http.StatusOK, body: out}
	})
}

// issueJSON is an issue as GitLab's REST API gives it; g.mu must be held.
func (g *GitLab) issueJSON(t *Ticket, p *gitlabProject) map[string]any {
	iid, _ := strconv.Atoi(t.ID)
	state := "opened"
	var closedAt any
	if closed(t) {
		state, closedAt = "closed", t.Updated.UTC().Format(time.RFC3339)
	}
	assignees := []map[string]any{}
	for _, a := range t.Assignees {
		id, _ := strconv.Atoi(a)
		assignees = append(assignees, map[string]any{"id": id})
	}
	labels := t.Labels
	if labels == nil {
		labels = []string{}
	}
	return map[string]any{
		"id":          1000*p.id + iid,
		"iid":         iid,
		"project_id":  p.id,
		"title":       t.Title,
		"description": t.Body,
		"state":       state,
		"labels":      labels,
		"assignees":   assignees,
		"web_url":     t.URL,
		"created_at":  t.Created.UTC().Format(time.RFC3339Nano),
		"updated_at":  t.Updated.UTC().Format(time.RFC3339Nano),
		"closed_at":   closedAt,
	}
}
