package trackertest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/tickets"
)

// The flavours of Jira the fake speaks.
const (
	JiraCloud      = "cloud"
	JiraDataCenter = "datacenter"
)

// The credentials NewJira accepts: Basic email:token on Cloud, Bearer token
// (a personal access token) on Data Center.
const (
	DefaultJiraEmail = "ooda@example.com"
	DefaultJiraToken = "jira-trackertest-token"
)

// jiraTime is how Jira writes times.
const jiraTime = "2006-01-02T15:04:05.000-0700"

// JiraTransition is a transition a Jira workflow offers.
type JiraTransition struct {
	ID   string
	Name string
	// To is the status it leads to, Category that status's category key:
	// "new", "indeterminate" or "done".
	To       string
	Category string
}

// JiraUser is a user the fake's user search knows.
type JiraUser struct {
	AccountID string // Cloud
	Name      string // Data Center
	Email     string
	Display   string
}

// DefaultJiraWorkflow is the workflow NewJira starts with.
var DefaultJiraWorkflow = []JiraTransition{
	{ID: "11", Name: "To Do", To: "To Do", Category: "new"},
	{ID: "21", Name: "In Progress", To: "In Progress", Category: "indeterminate"},
	{ID: "31", Name: "Done", To: "Done", Category: "done"},
	{ID: "41", Name: "Won't Do", To: "Won't Do", Category: "done"},
}

// Jira is a fake Jira REST API (v2) in the Cloud or the Data Center
// flavour: issues, JQL search (Cloud's POST /search/jql, Data Center's
// POST /search), Cloud's bulk fetch (POST /issue/bulkfetch), comments,
// transitions and the user search. Search and bulk fetch count as
// EndpointList. Project "OPS"
// exists from the start.
type Jira struct {
	*server
	flavor string

	pmu        sync.Mutex
	projects   map[string]int // key → last issue number
	workflow   []JiraTransition
	categories map[string]string // status → category
	users      []JiraUser
}

var _ Fake = (*Jira)(nil)

// NewJira starts a fake Jira of flavor (JiraCloud or JiraDataCenter). The
// caller must Close it.
func NewJira(flavor string) *Jira {
	j := &Jira{flavor: flavor, projects: map[string]int{"OPS": 0}}
	j.SetWorkflow(DefaultJiraWorkflow)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(DefaultJiraEmail+":"+DefaultJiraToken))
	mux := http.NewServeMux()
	j.server = newServer(flavour{
		authorized: func(r *http.Request) bool {
			if j.flavor == JiraCloud {
				return r.Header.Get("Authorization") == basic
			}
			return r.Header.Get("Authorization") == "Bearer "+DefaultJiraToken
		},
		errorBody: func(_ int, msg string) any { return jiraError(msg) },
		rateLimited: func(h http.Header, retryAfter time.Duration) reply {
			h.Set("Retry-After", retryAfterSeconds(retryAfter))
			h.Set("X-RateLimit-Limit", "100")
			h.Set("X-RateLimit-Remaining", "0")
			return reply{status: http.StatusTooManyRequests, body: jiraError("Rate limit exceeded.")}
		},
	}, mux)
	mux.HandleFunc("POST /rest/api/2/issue", j.handleCreate())
	search := j.handleSearch()
	mux.HandleFunc("POST /rest/api/2/search/jql", func(w http.ResponseWriter, r *http.Request) {
		if j.flavor != JiraCloud {
			http.NotFound(w, r)
			return
		}
		search(w, r)
	})
	mux.HandleFunc("POST /rest/api/2/search", func(w http.ResponseWriter, r *http.Request) {
		if j.flavor == JiraCloud {
			// Cloud removed the old search in 2025.
			write(w, reply{status: http.StatusGone, body: jiraError("The requested API has been removed. Please migrate to the /rest/api/2/search/jql API.")})
			return
		}
		search(w, r)
	})
	mux.HandleFunc("POST /rest/api/2/issue/bulkfetch", func(w http.ResponseWriter, r *http.Request) {
		if j.flavor != JiraCloud {
			http.NotFound(w, r)
			return
		}
		j.handleBulkFetch()(w, r)
	})
	mux.HandleFunc("GET /rest/api/2/issue/{key}", j.handleGet())
	mux.HandleFunc("POST /rest/api/2/issue/{key}/comment", j.handleComment())
	mux.HandleFunc("GET /rest/api/2/issue/{key}/transitions", j.handleTransitions())
	mux.HandleFunc("POST /rest/api/2/issue/{key}/transitions", j.handleTransition())
	mux.HandleFunc("GET /rest/api/2/user/search", j.handleUsers())
	j.srv.Start()
	return j
}

// StartJira starts a fake Jira closed with the test.
func StartJira(t interface{ Cleanup(func()) }, flavor string) *Jira {
	j := NewJira(flavor)
	t.Cleanup(j.Close)
	return j
}

// URL is the site's base URL.
func (j *Jira) URL() string { return j.srv.URL }

// Token is the API token (Cloud) or personal access token (Data Center).
func (j *Jira) Token() string { return DefaultJiraToken }

// Flavor is JiraCloud or JiraDataCenter.
func (j *Jira) Flavor() string { return j.flavor }

// AddProject makes a project key exist.
func (j *Jira) AddProject(key string) {
	j.pmu.Lock()
	defer j.pmu.Unlock()
	if _, ok := j.projects[key]; !ok {
		j.projects[key] = 0
	}
}

// SetWorkflow replaces the transitions every issue's workflow offers: from
// any status, each transition to another status.
func (j *Jira) SetWorkflow(ts []JiraTransition) {
	j.pmu.Lock()
	defer j.pmu.Unlock()
	j.workflow = slices.Clone(ts)
	j.categories = map[string]string{"To Do": "new", "Done": "done"}
	for _, t := range ts {
		j.categories[t.To] = t.Category
	}
}

// AddUser adds a user the user search finds.
func (j *Jira) AddUser(u JiraUser) {
	j.pmu.Lock()
	defer j.pmu.Unlock()
	j.users = append(j.users, u)
}

// CloseTicket moves an issue to Done.
func (j *Jira) CloseTicket(_, id string) error {
	return j.setState(projectOf(id), id, func(t *Ticket) { t.State, t.Reason = tickets.StateClosed, "Done" })
}

// ReopenTicket moves an issue to To Do.
func (j *Jira) ReopenTicket(_, id string) error {
	return j.setState(projectOf(id), id, func(t *Ticket) { t.State, t.Reason = tickets.StateOpen, "To Do" })
}

func projectOf(key string) string {
	p, _, _ := strings.Cut(key, "-")
	return p
}

// SignedWebhook builds a jira:issue_updated delivery for a status change to
// the issue's current status, signed as Jira Cloud signs admin webhooks
// that have a secret, and Data Center every webhook that has one:
// X-Hub-Signature: sha256=<hex HMAC-SHA256>.
func (j *Jira) SignedWebhook(_, id string, secret []byte) (http.Header, []byte, error) {
	j.mu.Lock()
	t := j.ticket(projectOf(id), id)
	var issue map[string]any
	var status string
	if t != nil {
		issue = j.issueJSON(t)
		status = t.Reason
	}
	j.mu.Unlock()
	if t == nil {
		return nil, nil, fmt.Errorf("trackertest: no issue %s", id)
	}
	from := "Done"
	if status == "Done" || status == "Won't Do" {
		from = "In Progress"
	}
	body, err := json.Marshal(map[string]any{
		"timestamp":             j.now().UnixMilli(),
		"webhookEvent":          "jira:issue_updated",
		"issue_event_type_name": "issue_generic",
		"user":                  map[string]any{"accountId": "5b10a2844c20165700ede21g", "displayName": "Mia Krystof"},
		"issue":                 issue,
		"changelog": map[string]any{
			"id": "10100",
			"items": []any{map[string]any{
				"field": "status", "fieldtype": "jira", "fieldId": "status",
				"from": "3", "fromString": from, "to": "10001", "toString": status,
			}},
		},
	})
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("User-Agent", "Atlassian Webhook HTTP Client")
	h.Set("X-Atlassian-Webhook-Identifier", "1f6c1a1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b")
	h.Set("X-Atlassian-Webhook-Flow", "Primary")
	if secret != nil {
		h.Set("X-Hub-Signature", JiraSignature(body, secret))
	}
	return h, body, nil
}

// JiraSignature is the X-Hub-Signature Jira Cloud sends with body when its
// webhook has secret: "sha256=" and the hex HMAC-SHA256.
func JiraSignature(body, secret []byte) string {
	return "sha256=" + mac(sha256.New, secret, body)
}

func jiraError(msgs ...string) map[string]any {
	return map[string]any{"errorMessages": msgs, "errors": map[string]any{}}
}

func jiraFieldError(field, msg string) reply {
	return reply{status: http.StatusBadRequest, body: map[string]any{"errorMessages": []string{}, "errors": map[string]any{field: msg}}}
}

func (j *Jira) notFound() reply {
	return reply{status: http.StatusNotFound, body: jiraError("Issue does not exist or you do not have permission to see it.")}
}

func (j *Jira) handleCreate() http.HandlerFunc {
	return j.handle(EndpointCreate, func(_ *http.Request, body []byte) reply {
		var req struct {
			Fields struct {
				Project struct {
					Key string `json:"key"`
				} `json:"project"`
				Summary     string `json:"summary"`
				Description string `json:"description"`
				IssueType   struct {
					Name string `json:"name"`
				} `json:"issuetype"`
				Labels   []string `json:"labels"`
				Assignee *struct {
					AccountID string `json:"accountId"`
					Name      string `json:"name"`
				} `json:"assignee"`
			} `json:"fields"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: jiraError("Unexpected character in the request body.")}
		}
		f := req.Fields
		j.pmu.Lock()
		_, ok := j.projects[f.Project.Key]
		j.pmu.Unlock()
		switch {
		case !ok:
			return jiraFieldError("project", "valid project is required")
		case f.Summary == "":
			return jiraFieldError("summary", "You must specify a summary of the issue.")
		case !slices.Contains([]string{"Task", "Bug", "Story"}, f.IssueType.Name):
			return jiraFieldError("issuetype", "Specify a valid issue type")
		case slices.ContainsFunc(f.Labels, func(l string) bool { return l == "" || strings.ContainsAny(l, " \t") }):
			return jiraFieldError("labels", "The label must not contain spaces.")
		}
		var assignees []string
		if a := f.Assignee; a != nil {
			if j.flavor == JiraCloud {
				assignees = []string{a.AccountID}
			} else {
				assignees = []string{a.Name}
			}
		}
		j.pmu.Lock()
		j.projects[f.Project.Key]++
		key := f.Project.Key + "-" + strconv.Itoa(j.projects[f.Project.Key])
		j.pmu.Unlock()
		now := j.now()
		j.mu.Lock()
		defer j.mu.Unlock()
		t := &Ticket{
			Project: f.Project.Key, ID: key, Title: f.Summary, Body: f.Description,
			Labels: f.Labels, Assignees: assignees, State: tickets.StateOpen, Reason: "To Do",
			URL: j.srv.URL + "/browse/" + key, Created: now, Updated: now,
		}
		j.tickets = append(j.tickets, t)
		id := 10000 + len(j.tickets)
		return reply{status: http.StatusCreated, body: map[string]any{
			"id": strconv.Itoa(id), "key": key, "self": j.srv.URL + "/rest/api/2/issue/" + strconv.Itoa(id),
		}}
	})
}

// jqlClause is one clause of the JQL the fake understands: clauses joined
// by AND, each `project = "X"`, `labels = "x"` or `key in ("A-1", "A-2")`.
var jqlClause = regexp.MustCompile(`^\s*(project|labels|key)\s+(=|in)\s+(.+?)\s*$`)

type jqlQuery struct {
	project string
	label   string
	keys    []string
	hasKeys bool
}

func parseJQL(jql string) (jqlQuery, error) {
	var q jqlQuery
	for _, c := range strings.Split(jql, " AND ") {
		m := jqlClause.FindStringSubmatch(c)
		if m == nil {
			return q, fmt.Errorf("Error in the JQL Query: %q", c)
		}
		field, op, val := m[1], m[2], m[3]
		switch {
		case field == "key" && op == "in":
			inner := strings.TrimSuffix(strings.TrimPrefix(val, "("), ")")
			q.hasKeys = true
			for _, k := range strings.Split(inner, ",") {
				q.keys = append(q.keys, unquote(k))
			}
		case field == "project" && op == "=":
			q.project = unquote(val)
		case field == "labels" && op == "=":
			q.label = unquote(val)
		default:
			return q, fmt.Errorf("Error in the JQL Query: %q", c)
		}
	}
	return q, nil
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func (j *Jira) handleSearch() http.HandlerFunc {
	return j.handle(EndpointList, func(_ *http.Request, body []byte) reply {
		var req struct {
			JQL           string          `json:"jql"`
			Fields        []string        `json:"fields"`
			MaxResults    int             `json:"maxResults"`
			ValidateQuery json.RawMessage `json:"validateQuery"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: jiraError("Unexpected character in the request body.")}
		}
		strict, bad := j.validates(req.ValidateQuery)
		if bad != nil {
			return *bad
		}
		q, err := parseJQL(req.JQL)
		if err != nil {
			return reply{status: http.StatusBadRequest, body: jiraError(err.Error())}
		}
		if req.MaxResults <= 0 {
			req.MaxResults = 50
		}
		j.pmu.Lock()
		_, known := j.projects[q.project]
		j.pmu.Unlock()
		if q.project != "" && !known {
			return reply{status: http.StatusBadRequest, body: jiraError(fmt.Sprintf("The value '%s' does not exist for the field 'project'.", q.project))}
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		var warnings []string
		for _, k := range q.keys {
			if j.ticket(projectOf(k), k) != nil {
				continue
			}
			msg := fmt.Sprintf("An issue with key '%s' does not exist for field 'key'.", k)
			if strict {
				return reply{status: http.StatusBadRequest, body: jiraError(msg)}
			}
			warnings = append(warnings, msg)
		}
		issues := []map[string]any{}
		for i := len(j.tickets) - 1; i >= 0; i-- {
			t := j.tickets[i]
			switch {
			case q.project != "" && t.Project != q.project,
				q.label != "" && !slices.Contains(t.Labels, q.label),
				q.hasKeys && !slices.Contains(q.keys, t.ID):
				continue
			}
			if len(issues) < req.MaxResults {
				issues = append(issues, j.issueJSON(t))
			}
		}
		if j.flavor == JiraCloud {
			return reply{status: http.StatusOK, body: map[string]any{"issues": issues, "isLast": true}}
		}
		out := map[string]any{"startAt": 0, "maxResults": req.MaxResults, "total": len(issues), "issues": issues}
		if len(warnings) > 0 {
			out["warningMessages"] = warnings
		}
		return reply{status: http.StatusOK, body: out}
	})
}

// validates reads a search's validateQuery: whether a key in (…) naming
// an issue that does not exist fails the search (400) or only warns.
// Cloud's /search/jql validates always (it takes no such switch; a string,
// as its removed /search took, is ignored). Data Center's /search takes a
// boolean, true by default, and answers 400 to anything else: the
// "strict"/"warn"/"none" strings are Cloud's.
func (j *Jira) validates(raw json.RawMessage) (bool, *reply) {
	if j.flavor == JiraCloud {
		var s string
		if len(raw) > 0 && json.Unmarshal(raw, &s) != nil {
			return false, &reply{status: http.StatusBadRequest, body: jiraError("Unexpected character in the request body.")}
		}
		return true, nil
	}
	if len(raw) == 0 || string(raw) == "null" {
		return true, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		return false, &reply{status: http.StatusBadRequest, body: jiraError("Can not deserialize instance of boolean out of " + string(raw) + ": validateQuery is true or false")}
	}
	return b, nil
}

// maxBulkFetch is how many issues Cloud's bulk fetch reads at most when
// the request does not qualify for more.
const maxBulkFetch = 100

// handleBulkFetch serves Cloud's POST /rest/api/2/issue/bulkfetch: the
// issues among issueIdsOrKeys, in ascending id order; a key that does not
// exist is left out of both issues and issueErrors, as Jira leaves out
// issues not found or hidden from the account.
func (j *Jira) handleBulkFetch() http.HandlerFunc {
	return j.handle(EndpointList, func(_ *http.Request, body []byte) reply {
		var req struct {
			IssueIdsOrKeys []string `json:"issueIdsOrKeys"`
			Fields         []string `json:"fields"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: jiraError("Unexpected character in the request body.")}
		}
		if len(req.IssueIdsOrKeys) == 0 {
			return jiraFieldError("issueIdsOrKeys", "You must specify at least one issue ID or key.")
		}
		if len(req.IssueIdsOrKeys) > maxBulkFetch {
			return jiraFieldError("issueIdsOrKeys", fmt.Sprintf("You can request up to %d issues.", maxBulkFetch))
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		issues := []map[string]any{}
		for _, t := range j.tickets {
			if slices.ContainsFunc(req.IssueIdsOrKeys, func(k string) bool { return strings.EqualFold(k, t.ID) }) {
				issues = append(issues, j.issueJSON(t))
			}
		}
		return reply{status: http.StatusOK, body: map[string]any{"issues": issues, "issueErrors": []any{}}}
	})
}

func (j *Jira) handleGet() http.HandlerFunc {
	return j.handle(EndpointIssue, func(r *http.Request, _ []byte) reply {
		j.mu.Lock()
		defer j.mu.Unlock()
		key := r.PathValue("key")
		t := j.ticket(projectOf(key), key)
		if t == nil {
			return j.notFound()
		}
		out := j.issueJSON(t)
		if strings.Contains(r.URL.Query().Get("expand"), "transitions") {
			j.pmu.Lock()
			out["transitions"] = j.transitionsJSON(t.Reason)
			j.pmu.Unlock()
		}
		return reply{status: http.StatusOK, body: out}
	})
}

// transitionsJSON is the transitions out of status as Jira gives them;
// j.pmu must be held.
func (j *Jira) transitionsJSON(status string) []map[string]any {
	out := []map[string]any{}
	for _, tr := range j.offered(status) {
		out = append(out, map[string]any{
			"id": tr.ID, "name": tr.Name, "hasScreen": false, "isAvailable": true,
			"to": map[string]any{"name": tr.To, "statusCategory": map[string]any{"key": tr.Category}},
		})
	}
	return out
}

func (j *Jira) handleComment() http.HandlerFunc {
	return j.handle(EndpointComment, func(r *http.Request, body []byte) reply {
		var req struct {
			Body string `json:"body"`
		}
		if err := json.Unmarshal(body, &req); err != nil || req.Body == "" {
			return jiraFieldError("comment", "Comment body can not be empty!")
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		key := r.PathValue("key")
		t := j.ticket(projectOf(key), key)
		if t == nil {
			return j.notFound()
		}
		t.Comments = append(t.Comments, req.Body)
		t.Updated = j.now()
		return reply{status: http.StatusCreated, body: map[string]any{
			"id": strconv.Itoa(10000 + len(t.Comments)), "body": req.Body, "created": j.now().Format(jiraTime),
		}}
	})
}

// offered is the transitions out of status; j.pmu must be held.
func (j *Jira) offered(status string) []JiraTransition {
	var out []JiraTransition
	for _, tr := range j.workflow {
		if tr.To != status {
			out = append(out, tr)
		}
	}
	return out
}

func (j *Jira) handleTransitions() http.HandlerFunc {
	return j.handle(EndpointTransitions, func(r *http.Request, _ []byte) reply {
		j.mu.Lock()
		key := r.PathValue("key")
		t := j.ticket(projectOf(key), key)
		var status string
		if t != nil {
			status = t.Reason
		}
		j.mu.Unlock()
		if t == nil {
			return j.notFound()
		}
		j.pmu.Lock()
		defer j.pmu.Unlock()
		return reply{status: http.StatusOK, body: map[string]any{"expand": "transitions", "transitions": j.transitionsJSON(status)}}
	})
}

func (j *Jira) handleTransition() http.HandlerFunc {
	return j.handle(EndpointClose, func(r *http.Request, body []byte) reply {
		var req struct {
			Transition struct {
				ID string `json:"id"`
			} `json:"transition"`
		}
		if err := json.Unmarshal(body, &req); err != nil {
			return reply{status: http.StatusBadRequest, body: jiraError("Unexpected character in the request body.")}
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		key := r.PathValue("key")
		t := j.ticket(projectOf(key), key)
		if t == nil {
			return j.notFound()
		}
		j.pmu.Lock()
		defer j.pmu.Unlock()
		i := slices.IndexFunc(j.offered(t.Reason), func(tr JiraTransition) bool { return tr.ID == req.Transition.ID })
		if i < 0 {
			return reply{status: http.StatusBadRequest, body: jiraError("Transition id '" + req.Transition.ID + "' is not valid for this issue.")}
		}
		tr := j.offered(t.Reason)[i]
		t.Reason = tr.To
		t.State = tickets.StateOpen
		if tr.Category == "done" {
			t.State = tickets.StateClosed
		}
		t.Updated = j.now()
		return reply{status: http.StatusNoContent}
	})
}

// handleUsers serves GET /user/search: ?query= on Cloud (matching email or
// display name), ?username= on Data Center (matching user name, display
// name or email).
func (j *Jira) handleUsers() http.HandlerFunc {
	return j.handle(EndpointUsers, func(r *http.Request, _ []byte) reply {
		param := "username"
		if j.flavor == JiraCloud {
			param = "query"
		}
		q := strings.ToLower(r.URL.Query().Get(param))
		if q == "" {
			return reply{status: http.StatusBadRequest, body: jiraError("The " + param + " parameter is required.")}
		}
		j.pmu.Lock()
		defer j.pmu.Unlock()
		out := []map[string]any{}
		for _, u := range j.users {
			if !strings.HasPrefix(strings.ToLower(u.Email), q) && !strings.Contains(strings.ToLower(u.Display), q) &&
				!strings.HasPrefix(strings.ToLower(u.Name), q) {
				continue
			}
			if j.flavor == JiraCloud {
				out = append(out, map[string]any{"accountId": u.AccountID, "accountType": "atlassian",
					"displayName": u.Display, "emailAddress": u.Email, "active": true})
			} else {
				out = append(out, map[string]any{"name": u.Name, "key": "JIRAUSER" + u.Name,
					"displayName": u.Display, "emailAddress": u.Email, "active": true})
			}
		}
		return reply{status: http.StatusOK, body: out}
	})
}

// issueJSON is an issue as Jira's REST API v2 gives it; j.mu must be held.
func (j *Jira) issueJSON(t *Ticket) map[string]any {
	j.pmu.Lock()
	cat := j.categories[t.Reason]
	j.pmu.Unlock()
	if cat == "" {
		cat = "new"
	}
	id := 10000 + slices.Index(j.tickets, t) + 1
	labels := t.Labels
	if labels == nil {
		labels = []string{}
	}
	return map[string]any{
		"id":   strconv.Itoa(id),
		"key":  t.ID,
		"self": j.srv.URL + "/rest/api/2/issue/" + strconv.Itoa(id),
		"fields": map[string]any{
			"summary":     t.Title,
			"description": t.Body,
			"labels":      labels,
			"created":     t.Created.Format(jiraTime),
			"updated":     t.Updated.Format(jiraTime),
			"project":     map[string]any{"key": t.Project},
			"status": map[string]any{
				"name":           t.Reason,
				"statusCategory": map[string]any{"key": cat},
			},
		},
	}
}
