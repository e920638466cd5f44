// Package github opens and follows tickets in GitHub issues, through
// go-github: it implements tickets.Tracker for GitHub.com and GitHub
// Enterprise Server. It knows nothing of incidents or of the outbox; it
// must not import the bot, storage or app packages.
package github

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"

	"github.com/ooda-sre/ooda/resilience"
	"github.com/ooda-sre/ooda/tickets"
)

// Label is the label every ticket Ooda opens carries, added if the caller's
// labels lack it, so that States can list Ooda's tickets alone (Find does
// not rely on it: see Create).
const Label = "incident"

// findPages bounds how far Find pages back through the listing: the 1,000
// issues created last. Past them it asks the search API.
const findPages = 10

// Config says which GitHub to reach and how.
type Config struct {
	// BaseURL is a GitHub Enterprise Server's URL
	// (https://ghe.example.com/ or …/api/v3/); empty means GitHub.com.
	BaseURL string
	// Token is a token that may create issues in the routes'
	// repositories.
	Token string
	// HTTPClient carries the calls: pass the tracker's
	// resilience.Guard.HTTPClient.
	HTTPClient *http.Client
}

// Tracker is GitHub issues as a tickets.Tracker.
type Tracker struct {
	client *gh.Client
}

var _ tickets.Tracker = (*Tracker)(nil)

// New validates cfg and builds its Tracker.
func New(cfg Config) (*Tracker, error) {
	if cfg.Token == "" {
		return nil, errors.New("github tracker: token is empty")
	}
	if cfg.HTTPClient == nil {
		return nil, errors.New("github tracker: http client is nil")
	}
	opts := []gh.ClientOptionsFunc{
		gh.WithHTTPClient(&http.Client{Transport: errorBodies{cfg.HTTPClient}}),
		gh.WithAuthToken(cfg.Token),
		// The guard and the outbox wait out rate limits; the client's
		// memory of one would answer for GitHub with a made-up 403.
		gh.WithDisableRateLimitCheck(),
	}
	if base := strings.TrimSpace(cfg.BaseURL); base != "" && !isDotCom(base) {
		opts = append(opts, gh.WithEnterpriseURLs(base, base))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github tracker: %w", err)
	}
	return &Tracker{client: c}, nil
}

// maxErrorBody bounds what is kept of an error answer's body: go-github
// reads 2 MB of it at most, and a message is a few hundred bytes.
const maxErrorBody = 1 << 20

// errorBodies carries go-github's calls through the guard's client and
// closes every error answer's body itself. go-github reads an error body,
// then puts a copy in its place without closing the original; since Go
// 1.23 only a Close ends the client's timeout watcher, so each failed
// call would leave a goroutine (and its connection) behind until the
// client's Timeout. go-github gets a copy, already read; the client
// sees its body closed.
type errorBodies struct{ c *http.Client }

func (e errorBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := e.c.Do(r)
	if err != nil || resp.StatusCode < http.StatusMultipleChoices {
		return resp, err
	}
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	cerr := resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	if cerr != nil {
		return nil, cerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}

func isDotCom(base string) bool {
	base = strings.TrimSuffix(base, "/")
	return base == "https://api.github.com" || base == "https://github.com"
}

// Kind returns tickets.KindGitHub.
func (t *Tracker) Kind() string { return tickets.KindGitHub }

// Create opens an issue in project ("owner/repo") whose body ends with the
// key's marker in an HTML comment. GitHub keeps the labels and assignee
// only when the token's user may triage the repository, and drops them
// without an error otherwise: the issue is opened all the same, and Find,
// which does not list by label, still finds it.
func (t *Tracker) Create(ctx context.Context, project string, nt tickets.NewTicket) (tickets.Ticket, error) {
	owner, repo, err := split(project)
	if err != nil {
		return tickets.Ticket{}, err
	}
	// The key twice: in a comment, which Find's listing matches exactly,
	// and as text, because GitHub's search does not index comments and
	// Find searches past its listing's cap.
	body := nt.Body + "\n\n" + marker(nt.Key) + "\n<sub>Ooda key: " + nt.Key + "</sub>"
	labels := nt.Labels
	if !containsFold(labels, Label) {
		labels = append(append([]string(nil), labels...), Label)
	}
	req := &gh.IssueRequest{Title: &nt.Title, Body: &body, Labels: &labels}
	if nt.Assignee != "" {
		req.Assignees = &[]string{nt.Assignee}
	}
	issue, _, err := t.client.Issues.Create(ctx, owner, repo, req)
	if err != nil {
		return tickets.Ticket{}, mapError(err, "create an issue in "+project, "create issues in "+project)
	}
	return ticket(issue), nil
}

// Find pages through the repository's issues, newest created first, for
// one whose body carries key's marker, and stops at the first created
// before since. It does not filter by Label: GitHub drops an issue's
// labels without an error when the token's user may not triage the
// repository, and people remove labels, and a Find that missed the
// ticket would let a retry open a second one. It reads the listing, which
// is consistent with writes, where the search API's index lags behind
// them; only when findPages pages of issues and pull requests created
// since since leave the listing unfinished (since weeks back, in a busy
// repository) does it ask the search API, which a lag of a minute cannot
// fool about an issue older than a thousand others.
func (t *Tracker) Find(ctx context.Context, project, key string, since time.Time) (tickets.Ticket, bool, error) {
	owner, repo, err := split(project)
	if err != nil {
		return tickets.Ticket{}, false, err
	}
	want := marker(key)
	// since filters on the update time, never earlier than the creation
	// time, so it only trims what the creation order would skip anyway.
	opts := &gh.IssueListByRepoOptions{State: "all", Sort: "created", Direction: "desc", Since: since}
	opts.ListOptions.PerPage = 100
	for page := 1; page <= findPages; page++ {
		opts.ListOptions.Page = page
		issues, resp, err := t.client.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return tickets.Ticket{}, false, mapError(err, "list the issues of "+project, "read issues in "+project)
		}
		for _, issue := range issues {
			if issue.GetCreatedAt().Before(since) {
				return tickets.Ticket{}, false, nil
			}
			if !issue.IsPullRequest() && strings.Contains(issue.GetBody(), want) {
				return ticket(issue), true, nil
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return tickets.Ticket{}, false, nil
		}
	}
	return t.search(ctx, project, key)
}

// search asks GitHub's search API for the issue of project whose body
// carries key's marker: Find's way past the listing's cap. It reads one
// page of hits, best match first, and confirms the marker in each (the
// search matches words, and a body may quote the key). An incomplete
// answer (GitHub's search timed out) that holds no match is an error, not
// an absence: an absence lets the caller open a second ticket.
func (t *Tracker) search(ctx context.Context, project, key string) (tickets.Ticket, bool, error) {
	q := fmt.Sprintf(`"%s" repo:%s in:body is:issue`, key, project)
	opts := &gh.SearchOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	res, _, err := t.client.Search.Issues(ctx, q, opts)
	if err != nil {
		return tickets.Ticket{}, false, mapError(err, "search the issues of "+project+" for "+key, "read issues in "+project)
	}
	want := marker(key)
	for _, issue := range res.Issues {
		if !issue.IsPullRequest() && strings.Contains(issue.GetBody(), want) {
			return ticket(issue), true, nil
		}
	}
	if res.GetIncompleteResults() {
		return tickets.Ticket{}, false, fmt.Errorf("github: search the issues of %s for %s: GitHub's search timed out with incomplete results", project, key)
	}
	return tickets.Ticket{}, false, nil
}

// statesMaxPages bounds one States beyond a page per 100 tickets asked
// about: a thousand other issues changed since the last poll is a
// repository far busier than its incidents, read a poll at a time (see
// tickets.TruncatedError).
const statesMaxPages = 10

// ListsChanges says that States lists what changed (GitHub cannot ask
// for a list of numbers): the poller asks about every ticket of a
// project in one call, which pages through the listing once.
func (t *Tracker) ListsChanges() {}

var _ tickets.ChangeLister = (*Tracker)(nil)

// States lists the issues labelled Label updated since since, least
// recently updated first, and reports those among ids: GitHub cannot ask
// for a list of numbers. It reads the listing to its end (one request when
// at most 100 issues changed, the common case), since a later change to an
// id already seen may follow, and keeps an id's last state listed. At
// statesMaxPages more than a page per 100 ids, with pages left, it stops
// and returns what it read with a *tickets.TruncatedError through the
// update time of the last issue listed: the caller asks from there next
// time, so no change is skipped. An id not in the answer did not change
// since since, or is gone, and is left out. An issue without the label
// (GitHub dropped it at creation because the token's user may not triage
// the repository, or someone removed it) is never in the answer: only its
// webhook keeps it in step.
func (t *Tracker) States(ctx context.Context, project string, ids []string, since time.Time) (map[string]tickets.Ticket, error) {
	owner, repo, err := split(project)
	if err != nil {
		return nil, err
	}
	want := make(map[int]bool, len(ids))
	for _, id := range ids {
		n, err := strconv.Atoi(id)
		if err != nil {
			return nil, resilience.Permanent(fmt.Errorf("github: %q is not an issue number", id))
		}
		want[n] = true
	}
	opts := &gh.IssueListByRepoOptions{State: "all", Labels: []string{Label}, Since: since, Sort: "updated", Direction: "asc"}
	opts.ListOptions.PerPage = 100
	out := make(map[string]tickets.Ticket, len(ids))
	through := since
	for page := 1; ; page++ {
		issues, resp, err := t.client.Issues.ListByRepo(ctx, owner, repo, opts)
		if err != nil {
			return nil, mapError(err, "list the issues of "+project, "read issues in "+project)
		}
		for _, issue := range issues {
			through = issue.GetUpdatedAt().Time
			if !issue.IsPullRequest() && want[issue.GetNumber()] {
				tk := ticket(issue)
				out[tk.ID] = tk
			}
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		if page == statesMaxPages+len(ids)/100 {
			return out, &tickets.TruncatedError{Through: through}
		}
		opts.ListOptions.Page = resp.NextPage
	}
}

// Comment adds a comment to issue id.
func (t *Tracker) Comment(ctx context.Context, project, id, comment string) error {
	owner, repo, n, err := splitIssue(project, id)
	if err != nil {
		return err
	}
	_, _, err = t.client.Issues.CreateComment(ctx, owner, repo, n, &gh.IssueComment{Body: &comment})
	return mapError(err, "comment on "+project+"#"+id, "comment on issues in "+project)
}

// Close closes issue id as completed or not planned.
func (t *Tracker) Close(ctx context.Context, project, id, how string) error {
	owner, repo, n, err := splitIssue(project, id)
	if err != nil {
		return err
	}
	reason := "completed"
	if how == tickets.CloseWontDo {
		reason = "not_planned"
	}
	state := "closed"
	_, _, err = t.client.Issues.Edit(ctx, owner, repo, n, &gh.IssueRequest{State: &state, StateReason: &reason})
	return mapError(err, "close "+project+"#"+id, "close issues in "+project)
}

// Webhook checks X-Hub-Signature-256 (an HMAC-SHA256 of the body under
// secret) before reading the body, then reports the issues closed or
// reopened: "issues" deliveries with those actions. Every other delivery
// (ping, comments, labels) reports nothing.
func (t *Tracker) Webhook(h http.Header, body []byte, secret []byte) ([]tickets.Change, error) {
	sig := h.Get("X-Hub-Signature-256")
	// An empty secret would let anyone sign: HMAC has no key to hide.
	if len(secret) == 0 || !strings.HasPrefix(sig, "sha256=") {
		return nil, fmt.Errorf("github webhook: %w", tickets.ErrBadSignature)
	}
	if err := gh.ValidateSignature(sig, body, secret); err != nil {
		return nil, fmt.Errorf("github webhook: %w", tickets.ErrBadSignature)
	}
	if h.Get("X-GitHub-Event") != "issues" {
		return nil, nil
	}
	var ev gh.IssuesEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("github webhook: read issues event: %w", err)
	}
	var state string
	switch ev.GetAction() {
	case "closed":
		state = tickets.StateClosed
	case "reopened":
		state = tickets.StateOpen
	default:
		return nil, nil
	}
	issue := ev.GetIssue()
	return []tickets.Change{{
		Project: ev.GetRepo().GetFullName(),
		ID:      strconv.Itoa(issue.GetNumber()),
		URL:     issue.GetHTMLURL(),
		State:   state,
	}}, nil
}

// marker is the key's marker as the body carries it, closing comment
// included, so that INC-3/1 does not match INC-3/12.
func marker(key string) string { return "<!-- " + tickets.Marker(key) + " -->" }

func ticket(issue *gh.Issue) tickets.Ticket {
	state := tickets.StateOpen
	if issue.GetState() == "closed" {
		state = tickets.StateClosed
	}
	return tickets.Ticket{
		ID:      strconv.Itoa(issue.GetNumber()),
		URL:     issue.GetHTMLURL(),
		State:   state,
		Created: issue.GetCreatedAt().Time,
	}
}

func split(project string) (owner, repo string, err error) {
	owner, repo, ok := strings.Cut(project, "/")
	if !ok || owner == "" || repo == "" || strings.Contains(repo, "/") {
		return "", "", resilience.Permanent(fmt.Errorf("github: project %q is not owner/repo", project))
	}
	return owner, repo, nil
}

func splitIssue(project, id string) (owner, repo string, n int, err error) {
	if owner, repo, err = split(project); err != nil {
		return "", "", 0, err
	}
	if n, err = strconv.Atoi(id); err != nil || n <= 0 {
		return "", "", 0, resilience.Permanent(fmt.Errorf("github: %q is not an issue number", id))
	}
	return owner, repo, n, nil
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// mapError turns go-github's errors into the resilience package's: rate
// limits (primary and secondary) into RateLimitError with GitHub's wait (a
// minute when the answer does not say, as GitHub asks),
// other answers into HTTPStatusError, marked Permanent with a sentence when
// asking again cannot help. what says what failed ("create an issue in
// acme/ops"), may what the token may be missing ("create issues in
// acme/ops"). The token never appears: go-github's errors carry the URL,
// and the token travels in a header.
func mapError(err error, what, may string) error {
	if err == nil {
		return nil
	}
	if e, ok := errors.AsType[*gh.RateLimitError](err); ok {
		return fmt.Errorf("github: %s: %w", what, &resilience.RateLimitError{RetryAfter: primaryWait(e.Response, e.Rate.Reset.Time)})
	}
	if e, ok := errors.AsType[*gh.AbuseRateLimitError](err); ok {
		// go-github reads Retry-After, else x-ratelimit-reset.
		wait := secondaryWait
		if e.RetryAfter != nil && *e.RetryAfter > 0 {
			wait = *e.RetryAfter
		}
		return fmt.Errorf("github: %s: secondary rate limit: %w", what, &resilience.RateLimitError{RetryAfter: wait})
	}
	e, ok := errors.AsType[*gh.ErrorResponse](err)
	if !ok || e.Response == nil {
		return fmt.Errorf("github: %s: %w", what, err)
	}
	status := resilience.StatusError(e.Response)
	if status == nil {
		return fmt.Errorf("github: %s: %w", what, err)
	}
	code := e.Response.StatusCode
	if (code == http.StatusForbidden || code == http.StatusTooManyRequests) && isRateLimit(e) {
		// go-github knows a secondary limit by its documentation URL;
		// GitHub's message and Retry-After say the same when the URL
		// changes, and a wait must not become a permanent refusal.
		// go-github took a primary limit (x-ratelimit-remaining 0) for
		// one already, so this is a secondary limit.
		wait := retryAfter(e.Response)
		if wait == 0 {
			wait = secondaryWait
		}
		return fmt.Errorf("github: %s: %s: %w", what, e.Message, &resilience.RateLimitError{RetryAfter: wait})
	}
	var why string
	switch code {
	case http.StatusUnauthorized:
		why = "the token is not valid or has expired"
	case http.StatusForbidden:
		why = "the token may not " + may
	case http.StatusNotFound:
		why = "the repository or issue does not exist, or the token cannot see it (to " + may + ")"
	case http.StatusGone:
		why = "issues are turned off in the repository (to " + may + ")"
	case http.StatusUnprocessableEntity:
		why = "it did not accept the request to " + what + ": " + e.Message + details(e)
	default:
		return fmt.Errorf("github: %s: %w", what, status)
	}
	return resilience.Permanent(fmt.Errorf("GitHub refused: %s (%d): %w", why, code, status))
}

func isRateLimit(e *gh.ErrorResponse) bool {
	return e.Response.Header.Get("Retry-After") != "" ||
		strings.Contains(strings.ToLower(e.Message), "rate limit")
}

// details lists the fields a 422 names (an unknown assignee, a label too
// long).
func details(e *gh.ErrorResponse) string {
	var parts []string
	for _, d := range e.Errors {
		switch {
		case d.Message != "":
			parts = append(parts, d.Message)
		case d.Field != "":
			parts = append(parts, d.Field+" "+d.Code)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// secondaryWait is how long GitHub asks a client to wait after a secondary
// rate limit that says neither Retry-After nor x-ratelimit-reset: "at least
// one minute".
const secondaryWait = time.Minute

// primaryWait is the wait of a primary rate limit: until reset, when
// x-ratelimit-remaining is 0 (asking earlier fails again), or Retry-After if
// it says longer; a minute when the answer says neither.
func primaryWait(resp *http.Response, reset time.Time) time.Duration {
	var wait time.Duration
	if !reset.IsZero() {
		wait = max(time.Until(reset), 0)
	}
	wait = max(wait, retryAfter(resp))
	if wait == 0 {
		return secondaryWait
	}
	return wait
}

// retryAfter reads the wait of a rate-limited answer as the resilience
// package does.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil || resp.Header.Get("Retry-After") == "" {
		return 0
	}
	r := *resp
	r.StatusCode = http.StatusTooManyRequests
	if rl, ok := errors.AsType[*resilience.RateLimitError](resilience.StatusError(&r)); ok {
		return rl.RetryAfter
	}
	return 0
}
