// Package gitlab opens and follows tickets in GitLab issues, through
// GitLab's client-go: it implements tickets.Tracker and tickets.Accounts for
// GitLab.com and self-managed GitLab. It knows nothing of incidents or of
// the outbox; it must not import the bot, storage or app packages.
package gitlab

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

// DefaultBaseURL is GitLab.com.
const DefaultBaseURL = "https://gitlab.com"

// Config says which GitLab to reach and how.
type Config struct {
	// BaseURL is the instance's URL (https://gitlab.example.com); empty
	// means GitLab.com. The API is under /api/v4/.
	BaseURL string
	// Token is a personal, group or project access token with the api
	// scope, sent as PRIVATE-TOKEN.
	Token string
	// HTTPClient carries the calls: pass the tracker's
	// resilience.Guard.HTTPClient.
	HTTPClient *http.Client
}

// Tracker is GitLab issues as a tickets.Tracker. A project is named by its
// numeric id or its path ("acme/ops"); webhook changes name it by path, so
// routes should too.
type Tracker struct {
	client *gl.Client
}

var (
	_ tickets.Tracker  = (*Tracker)(nil)
	_ tickets.Accounts = (*Tracker)(nil)
)

// New validates cfg and builds its Tracker.
func New(cfg Config) (*Tracker, error) {
	if cfg.Token == "" {
		return nil, errors.New("gitlab tracker: token is empty")
	}
	if cfg.HTTPClient == nil {
		return nil, errors.New("gitlab tracker: http client is nil")
	}
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		base = DefaultBaseURL
	}
	c, err := gl.NewClient(cfg.Token,
		gl.WithBaseURL(base),
		gl.WithHTTPClient(cfg.HTTPClient),
		// client-go retries through go-retryablehttp by default, POSTs
		// included; the guard owns retries, and a create retried
		// underneath it would open a second ticket.
		gl.WithoutRetries(),
		gl.WithCustomRetryMax(0),
		// Nor should the client pace calls itself from RateLimit-*
		// headers: a wait there eats the attempt's timeout.
		gl.WithCustomLimiter(unlimited{}),
	)
	if err != nil {
		return nil, fmt.Errorf("gitlab tracker: %w", err)
	}
	return &Tracker{client: c}, nil
}

type unlimited struct{}

func (unlimited) Wait(context.Context) error { return nil }

// Kind returns tickets.KindGitLab.
func (t *Tracker) Kind() string { return tickets.KindGitLab }

// Create opens an issue whose description ends with the key's marker in an
// HTML comment. The assignee is a user id.
func (t *Tracker) Create(ctx context.Context, project string, nt tickets.NewTicket) (tickets.Ticket, error) {
	desc := nt.Body + "\n\n" + marker(nt.Key)
	opts := &gl.CreateIssueOptions{Title: &nt.Title, Description: &desc}
	if len(nt.Labels) > 0 {
		labels := gl.LabelOptions(nt.Labels)
		opts.Labels = &labels
	}
	if nt.Assignee != "" {
		id, err := strconv.ParseInt(nt.Assignee, 10, 64)
		if err != nil {
			return tickets.Ticket{}, resilience.Permanent(fmt.Errorf("gitlab: assignee %q is not a user id", nt.Assignee))
		}
		opts.AssigneeIDs = &[]int64{id}
	}
	issue, resp, err := t.client.Issues.CreateIssue(project, opts, gl.WithContext(ctx))
	if err != nil {
		return tickets.Ticket{}, mapError(err, resp, "create an issue in "+project)
	}
	return ticket(issue), nil
}

// Find searches project's issues created since since for key in their
// descriptions (GitLab's issue search reads the database, not a lagging
// index), and confirms the marker: a search for INC-3/1 also matches
// INC-3/12.
func (t *Tracker) Find(ctx context.Context, project, key string, since time.Time) (tickets.Ticket, bool, error) {
	in := "description"
	opts := &gl.ListProjectIssuesOptions{Search: &key, In: &in}
	opts.PerPage = 100
	if !since.IsZero() {
		opts.CreatedAfter = &since
	}
	issues, resp, err := t.client.Issues.ListProjectIssues(project, opts, gl.WithContext(ctx))
	if err != nil {
		return tickets.Ticket{}, false, mapError(err, resp, "search the issues of "+project)
	}
	want := marker(key)
	for _, issue := range issues {
		if strings.Contains(issue.Description, want) {
			return ticket(issue), true, nil
		}
	}
	return tickets.Ticket{}, false, nil
}

// States asks for ids (iids) in one request of at most 100.
func (t *Tracker) States(ctx context.Context, project string, ids []string, _ time.Time) (map[string]tickets.Ticket, error) {
	iids := make([]int64, 0, len(ids))
	for _, id := range ids {
		n, err := iid(id)
		if err != nil {
			return nil, err
		}
		iids = append(iids, n)
	}
	opts := &gl.ListProjectIssuesOptions{IIDs: &iids}
	opts.PerPage = 100
	issues, resp, err := t.client.Issues.ListProjectIssues(project, opts, gl.WithContext(ctx))
	if err != nil {
		return nil, mapError(err, resp, "list the issues of "+project)
	}
	out := make(map[string]tickets.Ticket, len(issues))
	for _, issue := range issues {
		tk := ticket(issue)
		out[tk.ID] = tk
	}
	return out, nil
}

// Comment adds a note to issue id.
func (t *Tracker) Comment(ctx context.Context, project, id, comment string) error {
	n, err := iid(id)
	if err != nil {
		return err
	}
	_, resp, err := t.client.Notes.CreateIssueNote(project, n, &gl.CreateIssueNoteOptions{Body: &comment}, gl.WithContext(ctx))
	return mapError(err, resp, "comment on "+project+"#"+id)
}

// Close closes issue id. GitLab does not tell done from won't do, so how
// changes nothing.
func (t *Tracker) Close(ctx context.Context, project, id, _ string) error {
	n, err := iid(id)
	if err != nil {
		return err
	}
	event := "close"
	_, resp, err := t.client.Issues.UpdateIssue(project, n, &gl.UpdateIssueOptions{StateEvent: &event}, gl.WithContext(ctx))
	return mapError(err, resp, "close "+project+"#"+id)
}

// AccountByEmail returns the id of the user whose public email is email:
// GitLab's user search finds a user by email only by the public one, unless
// the token is an administrator's, when the private one counts too.
func (t *Tracker) AccountByEmail(ctx context.Context, email string) (string, error) {
	users, resp, err := t.client.Users.ListUsers(&gl.ListUsersOptions{Search: &email}, gl.WithContext(ctx))
	if err != nil {
		return "", mapError(err, resp, "look up a user by email")
	}
	for _, u := range users {
		if strings.EqualFold(u.PublicEmail, email) || strings.EqualFold(u.Email, email) {
			return strconv.FormatInt(u.ID, 10), nil
		}
	}
	return "", nil
}

// Webhook checks X-Gitlab-Token against secret (GitLab signs nothing: the
// token is the proof) before reading the body, then reports the issues
// closed or reopened. Every other event reports nothing and no error, its
// body unread: GitLab disables a webhook whose deliveries keep failing, so
// a note or a pipeline must not fail on a shape Ooda never expected. Of an
// issue event, only the fields Ooda reads are decoded, for the same
// reason.
func (t *Tracker) Webhook(h http.Header, body []byte, secret []byte) ([]tickets.Change, error) {
	if !tokenMatches(h.Get("X-Gitlab-Token"), secret) {
		return nil, fmt.Errorf("gitlab webhook: %w", tickets.ErrBadSignature)
	}
	switch h.Get("X-Gitlab-Event") {
	case "Issue Hook", "Confidential Issue Hook":
	default:
		return nil, nil
	}
	var ev struct {
		ObjectKind string `json:"object_kind"`
		Project    struct {
			PathWithNamespace string `json:"path_with_namespace"`
		} `json:"project"`
		ObjectAttributes struct {
			IID    int64  `json:"iid"`
			URL    string `json:"url"`
			Action string `json:"action"`
		} `json:"object_attributes"`
	}
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("gitlab webhook: read issue event: %w", err)
	}
	if ev.ObjectKind != "issue" {
		return nil, nil
	}
	var state string
	switch ev.ObjectAttributes.Action {
	case "close":
		state = tickets.StateClosed
	case "reopen":
		state = tickets.StateOpen
	default:
		return nil, nil
	}
	return []tickets.Change{{
		Project: ev.Project.PathWithNamespace,
		ID:      strconv.FormatInt(ev.ObjectAttributes.IID, 10),
		URL:     ev.ObjectAttributes.URL,
		State:   state,
	}}, nil
}

// tokenMatches compares digests, so that the comparison takes the same time
// whatever the token's length.
func tokenMatches(got string, secret []byte) bool {
	if len(secret) == 0 || got == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(got)), sha256.Sum256(secret)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// marker is the key's marker as the description carries it, closing
// comment included, so that INC-3/1 does not match INC-3/12.
func marker(key string) string { return "<!-- " + tickets.Marker(key) + " -->" }

func ticket(issue *gl.Issue) tickets.Ticket {
	state := tickets.StateOpen
	if issue.State == "closed" {
		state = tickets.StateClosed
	}
	tk := tickets.Ticket{ID: strconv.FormatInt(issue.IID, 10), URL: issue.WebURL, State: state}
	if issue.CreatedAt != nil {
		tk.Created = *issue.CreatedAt
	}
	return tk
}

func iid(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, resilience.Permanent(fmt.Errorf("gitlab: %q is not an issue iid", id))
	}
	return n, nil
}

// mapError turns client-go's errors into the resilience package's: the
// status of resp (a 429 with its Retry-After), marked Permanent with a
// sentence when asking again cannot help. The token never appears: it
// travels in a header, and client-go's errors carry the URL's path.
func mapError(err error, resp *gl.Response, what string) error {
	if err == nil {
		return nil
	}
	if resp == nil || resp.Response == nil {
		return fmt.Errorf("gitlab: %s: %w", what, err)
	}
	status := resilience.StatusError(resp.Response)
	if status == nil {
		return fmt.Errorf("gitlab: %s: %w", what, err)
	}
	var why string
	switch code := resp.StatusCode; code {
	case http.StatusUnauthorized:
		why = "the token is not valid, has expired or lacks the api scope"
	case http.StatusForbidden:
		why = "the token's user may not " + what
	case http.StatusNotFound:
		why = "the project or issue does not exist, or the token cannot see it (to " + what + ")"
	case http.StatusGone:
		why = "the project is gone (to " + what + ")"
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		msg := ""
		if e, ok := errors.AsType[*gl.ErrorResponse](err); ok && e.Message != "" {
			msg = ": " + e.Message
		}
		why = "it did not accept the request to " + what + msg
	default:
		return fmt.Errorf("gitlab: %s: %w", what, status)
	}
	return resilience.Permanent(fmt.Errorf("GitLab refused: %s (%d): %w", why, resp.StatusCode, status))
}
