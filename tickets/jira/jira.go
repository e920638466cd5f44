// Package jira opens and follows tickets in Jira Cloud and Jira Data
// Center: it implements tickets.Tracker and tickets.Accounts over REST API
// v2, whose plain-text descriptions both accept. It uses net/http alone, no
// Jira client library: the handful of calls it makes do not justify one,
// and none covers both flavours' search endpoints. It knows nothing of
// incidents or of the outbox; it must not import the bot, storage or app
// packages.
package jira

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

// The flavours of Jira.
const (
	FlavorCloud      = "cloud"
	FlavorDataCenter = "datacenter"
)

// DefaultIssueType is the type of the issues Create opens.
const DefaultIssueType = "Task"

// maxErrorBody bounds how much of an error answer is read for its message.
const maxErrorBody = 64 << 10

// created is how Jira writes times.
const created = "2006-01-02T15:04:05.000-0700"

// Config says which Jira to reach and how.
type Config struct {
	// BaseURL is the site (https://acme.atlassian.net or
	// https://jira.example.com).
	BaseURL string
	// Flavor is FlavorCloud (Basic auth with Email and an API token) or
	// FlavorDataCenter (Bearer personal access token).
	Flavor string
	Email  string
	Token  string
	// IssueType names the type of the issues Create opens
	// (DefaultIssueType when empty).
	IssueType string
	// HTTPClient carries the calls: pass the tracker's
	// resilience.Guard.HTTPClient.
	HTTPClient *http.Client
}

// Tracker is Jira as a tickets.Tracker. A project is named by its key
// ("OPS"), a ticket by its issue key ("OPS-12").
type Tracker struct {
	base      *url.URL
	cloud     bool
	auth      string
	issueType string
	client    *http.Client
}

var (
	_ tickets.Tracker  = (*Tracker)(nil)
	_ tickets.Accounts = (*Tracker)(nil)
)

// New validates cfg and builds its Tracker.
func New(cfg Config) (*Tracker, error) {
	var errs []error
	base, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(cfg.BaseURL), "/"))
	if err != nil || base.Scheme == "" || base.Host == "" {
		errs = append(errs, fmt.Errorf("base url %q: want https://site", cfg.BaseURL))
	}
	if cfg.Token == "" {
		errs = append(errs, errors.New("token is empty"))
	}
	if cfg.HTTPClient == nil {
		errs = append(errs, errors.New("http client is nil"))
	}
	t := &Tracker{base: base, issueType: cfg.IssueType, client: cfg.HTTPClient}
	if t.issueType == "" {
		t.issueType = DefaultIssueType
	}
	switch cfg.Flavor {
	case FlavorCloud:
		if cfg.Email == "" {
			errs = append(errs, errors.New("email is empty: Jira Cloud authenticates with email and API token"))
		}
		t.cloud = true
		req := http.Request{Header: http.Header{}}
		req.SetBasicAuth(cfg.Email, cfg.Token)
		t.auth = req.Header.Get("Authorization")
	case FlavorDataCenter:
		t.auth = "Bearer " + cfg.Token
	default:
		errs = append(errs, fmt.Errorf("flavor %q: want %q or %q", cfg.Flavor, FlavorCloud, FlavorDataCenter))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("jira tracker: %w", err)
	}
	return t, nil
}

// Kind returns tickets.KindJira.
func (t *Tracker) Kind() string { return tickets.KindJira }

// KeyLabel is the label that carries key on a Jira issue, which has no
// hidden markers: "ooda-" and key in lower case, every character outside
// [a-z0-9-] replaced by "-" (Jira labels hold no spaces).
func KeyLabel(key string) string {
	return "ooda-" + strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			return r
		default:
			return '-'
		}
	}, strings.ToLower(key))
}

// Create opens an issue labelled with the key's KeyLabel, its description
// ending with the key's marker as plain text.
func (t *Tracker) Create(ctx context.Context, project string, nt tickets.NewTicket) (tickets.Ticket, error) {
	labels := append(append([]string(nil), nt.Labels...), KeyLabel(nt.Key))
	fields := map[string]any{
		"project":     map[string]string{"key": project},
		"summary":     nt.Title,
		"description": nt.Body + "\n\n" + tickets.Marker(nt.Key),
		"issuetype":   map[string]string{"name": t.issueType},
		"labels":      labels,
	}
	if nt.Assignee != "" {
		if t.cloud {
			fields["assignee"] = map[string]string{"accountId": nt.Assignee}
		} else {
			fields["assignee"] = map[string]string{"name": nt.Assignee}
		}
	}
	var out struct {
		Key string `json:"key"`
	}
	if err := t.call(ctx, http.MethodPost, "/rest/api/2/issue", map[string]any{"fields": fields}, &out,
		"create an issue in "+project); err != nil {
		return tickets.Ticket{}, err
	}
	return tickets.Ticket{ID: out.Key, URL: t.browse(out.Key), State: tickets.StateOpen}, nil
}

// Find searches project for the issue labelled with key's KeyLabel and
// confirms the marker in its description. The label names the key exactly,
// so since is not needed (and JQL dates are in the user's time zone).
func (t *Tracker) Find(ctx context.Context, project, key string, _ time.Time) (tickets.Ticket, bool, error) {
	jql := fmt.Sprintf("project = %s AND labels = %s", quote(project), quote(KeyLabel(key)))
	issues, err := t.search(ctx, jql, 10, "search "+project+" for "+key)
	if err != nil {
		return tickets.Ticket{}, false, err
	}
	for _, is := range issues {
		if hasMarkerLine(is.Fields.Description, tickets.Marker(key)) {
			return t.ticket(is), true, nil
		}
	}
	return tickets.Ticket{}, false, nil
}

// States asks for ids (issue keys) with one request. On Cloud that is the
// bulk fetch (POST /rest/api/2/issue/bulkfetch): it reads the issues
// themselves, not the search index, which lags behind writes, and leaves
// out a key that is gone or hidden instead of failing, where Cloud's JQL
// search answers 400 to a key in (…) naming one that does not exist, which
// would stop the whole project's polling. Data Center keeps a JQL search
// with validateQuery false, so that such keys give warnings, not a 400.
func (t *Tracker) States(ctx context.Context, project string, ids []string, _ time.Time) (map[string]tickets.Ticket, error) {
	if len(ids) == 0 {
		return map[string]tickets.Ticket{}, nil
	}
	for _, id := range ids {
		if !issueKey.MatchString(id) {
			return nil, resilience.Permanent(fmt.Errorf("jira: %q is not an issue key", id))
		}
	}
	what := "read the states of issues in " + project
	var issues []issueState
	if t.cloud {
		var err error
		if issues, err = t.bulkFetch(ctx, ids, what); err != nil {
			return nil, err
		}
	} else {
		quoted := make([]string, 0, len(ids))
		for _, id := range ids {
			quoted = append(quoted, quote(id))
		}
		jql := fmt.Sprintf("project = %s AND key in (%s)", quote(project), strings.Join(quoted, ", "))
		found, err := t.search(ctx, jql, len(ids), what)
		if err != nil {
			return nil, err
		}
		for _, is := range found {
			issues = append(issues, is.state())
		}
	}
	asked := make(map[string]bool, len(ids))
	for _, id := range ids {
		asked[id] = true
	}
	out := make(map[string]tickets.Ticket, len(issues))
	for _, is := range issues {
		// The bulk fetch follows a moved issue to its new key, which is
		// not the ticket Ooda knows.
		if asked[is.Key] {
			out[is.Key] = t.state(is)
		}
	}
	return out, nil
}

// bulkFetch reads the status and project of the issues keys names (100 at
// most) with Cloud's bulk fetch. Jira leaves out of issues a key that does
// not exist or that the account may not see, and lists in issueErrors a key
// it could not read this time; both are left out, and the next poll asks
// again.
func (t *Tracker) bulkFetch(ctx context.Context, keys []string, what string) ([]issueState, error) {
	req := map[string]any{"issueIdsOrKeys": keys, "fields": []string{"status", "project"}}
	var out struct {
		Issues []issueState `json:"issues"`
	}
	if err := t.call(ctx, http.MethodPost, "/rest/api/2/issue/bulkfetch", req, &out, what); err != nil {
		return nil, err
	}
	return out.Issues, nil
}

// Comment adds a comment to issue id.
func (t *Tracker) Comment(ctx context.Context, _, id, comment string) error {
	if !issueKey.MatchString(id) {
		return resilience.Permanent(fmt.Errorf("jira: %q is not an issue key", id))
	}
	return t.call(ctx, http.MethodPost, "/rest/api/2/issue/"+id+"/comment", map[string]string{"body": comment}, nil,
		"comment on "+id)
}

// Close moves issue id through a transition to a status of the done
// category: for won't do, one named like "Won't Do", "Won't Fix",
// "Declined" or "Cancel…" when the workflow has one. One GET reads the
// issue's status and the transitions its workflow offers, so that an issue
// already done is left as it is; when the workflow offers no way to done,
// the error is permanent.
func (t *Tracker) Close(ctx context.Context, _, id, how string) error {
	if !issueKey.MatchString(id) {
		return resilience.Permanent(fmt.Errorf("jira: %q is not an issue key", id))
	}
	var is struct {
		issueState
		Transitions []transition `json:"transitions"`
	}
	if err := t.call(ctx, http.MethodGet, "/rest/api/2/issue/"+id+"?fields=status&expand=transitions", nil, &is,
		"read the status and transitions of "+id); err != nil {
		return err
	}
	if is.Fields.Status.StatusCategory.Key == "done" {
		return nil
	}
	tr, ok := pickTransition(is.Transitions, how)
	if !ok {
		return resilience.Permanent(fmt.Errorf("Jira offers no transition to a done status for %s from its workflow", id))
	}
	body := map[string]any{"transition": map[string]string{"id": tr.ID}}
	return t.call(ctx, http.MethodPost, "/rest/api/2/issue/"+id+"/transitions", body, nil, "close "+id)
}

type transition struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	To   struct {
		Name           string `json:"name"`
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	} `json:"to"`
}

// wontDo matches the names workflows give to closing without doing.
var wontDo = regexp.MustCompile(`(?i)^(won['’]?t (do|fix)|declined?|cancel)`)

func pickTransition(ts []transition, how string) (transition, bool) {
	var done []transition
	for _, tr := range ts {
		if tr.To.StatusCategory.Key == "done" {
			done = append(done, tr)
		}
	}
	if len(done) == 0 {
		return transition{}, false
	}
	if how == tickets.CloseWontDo {
		for _, tr := range done {
			if wontDo.MatchString(tr.Name) || wontDo.MatchString(tr.To.Name) {
				return tr, true
			}
		}
		return done[0], true
	}
	for _, tr := range done {
		if !wontDo.MatchString(tr.Name) && !wontDo.MatchString(tr.To.Name) {
			return tr, true
		}
	}
	return done[0], true
}

// AccountByEmail searches users for email: Cloud by query, returning the
// accountId; Data Center by username (which also matches emails),
// returning the user name. Cloud may hide email addresses; then a search
// finding exactly one user is taken to be that user.
func (t *Tracker) AccountByEmail(ctx context.Context, email string) (string, error) {
	param := "username"
	if t.cloud {
		param = "query"
	}
	var users []struct {
		AccountID    string `json:"accountId"`
		Name         string `json:"name"`
		EmailAddress string `json:"emailAddress"`
	}
	if err := t.call(ctx, http.MethodGet, "/rest/api/2/user/search?"+param+"="+url.QueryEscape(email), nil, &users,
		"look up a user by email"); err != nil {
		return "", err
	}
	id := func(i int) string {
		if t.cloud {
			return users[i].AccountID
		}
		return users[i].Name
	}
	for i, u := range users {
		if strings.EqualFold(u.EmailAddress, email) {
			return id(i), nil
		}
	}
	if len(users) == 1 && users[0].EmailAddress == "" {
		return id(0), nil
	}
	return "", nil
}

// Webhook checks X-Hub-Signature, "sha256=" and the hex HMAC-SHA256 of the
// body under secret, before reading the body; then reports the issue's
// state when a jira:issue_updated delivery changed its status. Every other
// event (issue_created, comments, a label changed) reports nothing.
//
// Jira Cloud signs so the admin webhooks that have a secret (the admin
// page, or /rest/webhooks/1.0/webhook), not the dynamic webhooks of apps,
// which carry a JWT instead; Jira Data Center signs so every webhook with
// a secret (Atlassian's "Managing webhooks" page, Data Center 10).
func (t *Tracker) Webhook(h http.Header, body []byte, secret []byte) ([]tickets.Change, error) {
	sig, ok := strings.CutPrefix(h.Get("X-Hub-Signature"), "sha256=")
	got, err := hex.DecodeString(sig)
	if len(secret) == 0 || !ok || err != nil {
		return nil, fmt.Errorf("jira webhook: %w", tickets.ErrBadSignature)
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	if !hmac.Equal(got, m.Sum(nil)) {
		return nil, fmt.Errorf("jira webhook: %w", tickets.ErrBadSignature)
	}
	// Only the fields read are declared: a field Ooda does not read (a
	// description in Atlassian Document Format, a custom field) may take
	// any shape without failing the delivery, which Jira would retry and
	// then give up on.
	var ev struct {
		WebhookEvent string     `json:"webhookEvent"`
		Issue        issueState `json:"issue"`
		Changelog    *struct {
			Items []struct {
				Field string `json:"field"`
			} `json:"items"`
		} `json:"changelog"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("jira webhook: read event: %w", err)
	}
	if ev.WebhookEvent != "jira:issue_updated" || ev.Issue.Key == "" {
		return nil, nil
	}
	if ev.Changelog != nil {
		status := false
		for _, it := range ev.Changelog.Items {
			status = status || it.Field == "status"
		}
		if !status {
			return nil, nil
		}
	}
	tk := t.state(ev.Issue)
	return []tickets.Change{{Project: ev.Issue.Fields.Project.Key, ID: tk.ID, URL: tk.URL, State: tk.State}}, nil
}

// issueState is the part of Jira's issue JSON that says its state: what
// States, Close and the webhook read.
type issueState struct {
	Key    string      `json:"key"`
	Fields stateFields `json:"fields"`
}

type stateFields struct {
	Project struct {
		Key string `json:"key"`
	} `json:"project"`
	Status struct {
		StatusCategory struct {
			Key string `json:"key"`
		} `json:"statusCategory"`
	} `json:"status"`
}

// issue is an issue as a search returns it for Find: its description and
// creation time besides its state.
type issue struct {
	Key    string      `json:"key"`
	Fields issueFields `json:"fields"`
}

type issueFields struct {
	stateFields
	Description string `json:"description"`
	Created     string `json:"created"`
}

func (is issue) state() issueState { return issueState{Key: is.Key, Fields: is.Fields.stateFields} }

func (t *Tracker) ticket(is issue) tickets.Ticket {
	tk := t.state(is.state())
	if c, err := time.Parse(created, is.Fields.Created); err == nil {
		tk.Created = c
	}
	return tk
}

// state is the ticket is names, its creation time unknown.
func (t *Tracker) state(is issueState) tickets.Ticket {
	tk := tickets.Ticket{ID: is.Key, URL: t.browse(is.Key), State: tickets.StateOpen}
	if is.Fields.Status.StatusCategory.Key == "done" {
		tk.State = tickets.StateClosed
	}
	return tk
}

func (t *Tracker) browse(key string) string { return t.base.String() + "/browse/" + key }

// search runs jql on the flavour's search endpoint: Cloud's /search/jql
// (its /search is gone), Data Center's /search.
func (t *Tracker) search(ctx context.Context, jql string, max int, what string) ([]issue, error) {
	path := "/rest/api/2/search"
	if t.cloud {
		path = "/rest/api/2/search/jql"
	}
	req := map[string]any{
		"jql":        jql,
		"fields":     []string{"status", "created", "description", "project"},
		"maxResults": max,
	}
	if !t.cloud {
		// A key that no longer exists should drop out with a warning, not
		// fail the query. Data Center's validateQuery is a boolean; the
		// "strict"/"warn"/"none" of Cloud's old search would be a 400.
		req["validateQuery"] = false
	}
	var out struct {
		Issues []issue `json:"issues"`
	}
	if err := t.call(ctx, http.MethodPost, path, req, &out, what); err != nil {
		return nil, err
	}
	return out.Issues, nil
}

// call sends one request and decodes a 2xx answer into out (when not nil).
func (t *Tracker) call(ctx context.Context, method, path string, in, out any, what string) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("jira: %s: %w", what, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, t.base.String()+path, body)
	if err != nil {
		return resilience.Permanent(fmt.Errorf("jira: %s: %w", what, err))
	}
	req.Header.Set("Authorization", t.auth)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.client.Do(req)
	if err != nil {
		return fmt.Errorf("jira: %s: %w", what, err)
	}
	defer resp.Body.Close()
	if status := resilience.StatusError(resp); status != nil {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return mapError(status, resp.StatusCode, what, errorMessage(msg))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("jira: %s: read answer: %w", what, err)
	}
	return nil
}

// mapError marks the answers asking again cannot help as Permanent, with a
// sentence. The token never appears: it travels in a header, and Jira's
// messages do not echo it.
func mapError(status error, code int, what, msg string) error {
	if msg != "" {
		msg = ": " + msg
	}
	var why string
	switch code {
	case http.StatusUnauthorized:
		why = "the credentials are not valid (on Cloud an account email and API token, on Data Center a personal access token)"
	case http.StatusForbidden:
		why = "the account may not " + what + msg
	case http.StatusNotFound:
		why = "it does not exist, or the account cannot see it (to " + what + ")" + msg
	case http.StatusGone:
		why = "the API is gone (to " + what + ")" + msg
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		why = "it did not accept the request to " + what + msg
	default:
		return fmt.Errorf("jira: %s: %w", what, status)
	}
	return resilience.Permanent(fmt.Errorf("Jira refused: %s (%d): %w", why, code, status))
}

// errorMessage joins Jira's errorMessages and errors, sorted by field.
func errorMessage(body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	parts := append([]string(nil), e.ErrorMessages...)
	fields := make([]string, 0, len(e.Errors))
	for f := range e.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		parts = append(parts, f+": "+e.Errors[f])
	}
	return strings.Join(parts, "; ")
}

// issueKey is a Jira issue key; checking it keeps JQL and paths well formed.
var issueKey = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[0-9]+$`)

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// hasMarkerLine reports whether a line of description is marker, so that
// INC-3/1 does not match INC-3/12.
func hasMarkerLine(description, marker string) bool {
	for line := range strings.Lines(description) {
		if strings.TrimSpace(line) == marker {
			return true
		}
	}
	return false
}
