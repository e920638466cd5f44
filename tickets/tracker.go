package tickets

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// The kinds of tracker Ooda speaks to.
const (
	KindGitHub = "github"
	KindGitLab = "gitlab"
	KindJira   = "jira"
)

// The states of a ticket in its tracker, as Ooda reads them.
const (
	StateOpen   = "open"
	StateClosed = "closed"
)

// The ways a ticket is closed from Ooda: the action item was done, or
// will not be done.
const (
	CloseDone   = "done"
	CloseWontDo = "wontdo"
)

// NewTicket is what Create opens.
type NewTicket struct {
	// Key is the outbox effect's key (INC-3/12/create_ticket). The ticket
	// carries it where the tracker can find it again (a hidden marker in
	// the body, a label), so a retry after an ambiguous failure finds the
	// ticket instead of opening a second one. See Marker.
	Key   string
	Title string
	// Body is Markdown (GitHub, GitLab) or Jira wiki text. It names the
	// incident, links its channel and post-mortem, and names an owner who
	// maps to no account. Create adds the key's marker.
	Body   string
	Labels []string
	// Assignee is the owner's account in the tracker (a GitHub login, a
	// GitLab user id, a Jira accountId on Cloud or user name on Data
	// Center); "" assigns nobody.
	Assignee string
}

// Ticket is a ticket as its tracker has it.
type Ticket struct {
	// ID names it within its project: "42" on GitHub and GitLab (the
	// issue's number, iid), "OPS-12" on Jira.
	ID    string
	URL   string // the page people open
	State string // StateOpen or StateClosed
	// Created is when the tracker says it was created (zero when it did
	// not say).
	Created time.Time
}

// Change is a ticket's state as a webhook delivery or a poll reports it.
type Change struct {
	Project string // as the route names it: owner/repo, a GitLab path or id, a Jira project key
	ID      string
	URL     string
	State   string // StateOpen or StateClosed
}

// Tracker is one tracker's REST API: GitHub, GitLab or Jira. Every method
// makes the calls it names and no others, and none retries: the caller
// calls through the tracker's resilience guard, which owns timeouts,
// retries, the breaker and the bulkhead. Errors carry the HTTP status
// (resilience.HTTPStatusError) and a rate limit's wait
// (resilience.RateLimitError, GitHub's secondary limits included), so the
// guard classifies them; an error that will fail the same way again
// (401, 403 without a rate limit, 404, 410, 422) is marked
// resilience.Permanent with a sentence a person can act on.
type Tracker interface {
	// Kind is KindGitHub, KindGitLab or KindJira.
	Kind() string
	// Create opens a ticket in project. It is not idempotent by itself:
	// callers Find first.
	Create(ctx context.Context, project string, t NewTicket) (Ticket, error)
	// Find looks in project for the ticket carrying key, among those
	// created at or after since (an hour before the effect was queued);
	// ok is false when there is none, and an error when it cannot tell.
	// Reads are consistent with writes (lists, not an eventually
	// consistent search index) where the tracker allows: GitHub searches
	// only for tickets older than its listing reaches, which the index
	// has long caught up with; Jira Cloud's search lags, which the
	// caller's settle time covers.
	Find(ctx context.Context, project, key string, since time.Time) (t Ticket, ok bool, err error)
	// States reports the state of each of ids in project with one request
	// (a page of 100 at most: callers batch, except for a ChangeLister,
	// which pages itself), and leaves out ids the tracker no longer has.
	// since is the earliest time any of them changed state in Ooda's
	// knowledge; trackers that cannot ask for a list of ids (GitHub) list
	// what changed since then instead.
	States(ctx context.Context, project string, ids []string, since time.Time) (map[string]Ticket, error)
	// Comment adds comment to ticket id.
	Comment(ctx context.Context, project, id, comment string) error
	// Close closes ticket id as done or as won't do (CloseDone,
	// CloseWontDo), where the tracker tells the two apart. Closing a
	// closed ticket succeeds.
	Close(ctx context.Context, project, id, how string) error
	// Webhook verifies a delivery against secret before reading it, then
	// returns the ticket changes it reports: none for an event Ooda does
	// not follow (a comment, a label). It returns ErrBadSignature, wrapped,
	// when the delivery is not signed with secret or not signed at all.
	Webhook(h http.Header, body []byte, secret []byte) ([]Change, error)
}

// Accounts is what a tracker that can look a person up by email does
// (GitLab, Jira); GitHub cannot, and maps owners only through the
// accounts file.
type Accounts interface {
	// AccountByEmail returns the account to assign a ticket to, "" when
	// nobody has that email.
	AccountByEmail(ctx context.Context, email string) (string, error)
}

// ChangeLister is a tracker whose States lists what changed since a time
// rather than asking for ids (GitHub). It takes every id of a project in
// one call, however many, and pages through the listing once, where
// batches of 100 would each page through the same listing.
type ChangeLister interface {
	ListsChanges()
}

// TruncatedError is what a ChangeLister's States returns, with the states
// it did read, when it stopped listing before the end: it listed changes
// oldest first up to Through and read no further. The caller keeps what
// it got and asks from Through next time, so a busy tracker is read a
// poll at a time, never skipped.
type TruncatedError struct {
	Through time.Time
}

func (e *TruncatedError) Error() string {
	return "listing truncated: changes up to " + e.Through.UTC().Format(time.RFC3339) + " read, later ones next time"
}

// ErrBadSignature is a webhook delivery that is not signed with the
// configured secret, or not signed.
var ErrBadSignature = errors.New("webhook signature missing or invalid")

// MarkerPrefix starts the marker a ticket's body carries: the effect key
// that created it, hidden from readers where the tracker allows
// (an HTML comment in Markdown).
const MarkerPrefix = "ooda-key:"

// Marker is the text a body carries so that Find can match key: in an
// HTML comment for Markdown trackers, as plain text in Jira's.
func Marker(key string) string { return MarkerPrefix + " " + key }
