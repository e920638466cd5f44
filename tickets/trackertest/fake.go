// Package trackertest holds fakes of the REST APIs of the trackers Ooda opens
// tickets in (GitHub, GitLab, Jira Cloud and Data Center), for tests and
// `make demo`.
//
// Each fake serves the endpoints the adapters call, with the request and
// response shapes the trackers document, keeps its tickets in memory,
// counts calls per endpoint, checks the token, and injects the failures the
// outbox must survive: 5xx, rate limits with Retry-After, hangs and
// responses lost after the ticket was made. It builds webhook deliveries as
// the tracker sends them, signed with a given secret.
//
// It imports tickets alone of the module, never an adapter (the adapters'
// tests import it), and not testing or testify, so that a demo process can
// run the fakes. The suite the adapters run against them is in
// trackertest/conformance.
package trackertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/tickets"
)

// The endpoints a fault or a call count names. Find and States both use the
// tracker's listing (GitHub, GitLab), search (Jira) or bulk fetch (Jira
// Cloud's States): EndpointList.
const (
	EndpointCreate  = "create"
	EndpointList    = "list"
	EndpointComment = "comment"
	// EndpointClose is the call that closes: GitHub's and GitLab's edit,
	// Jira's POST transitions.
	EndpointClose = "close"
	// EndpointTransitions is Jira's GET transitions.
	EndpointTransitions = "transitions"
	// EndpointIssue is Jira's GET of one issue.
	EndpointIssue = "issue"
	// EndpointUsers is the user search of GitLab and Jira.
	EndpointUsers = "users"
	// EndpointSearch is GitHub's issue search (GET /search/issues), which
	// Find asks when the listing runs past its cap.
	EndpointSearch = "search"
)

// maxBodyBytes bounds a request body; the trackers' own limits are lower.
const maxBodyBytes = 1 << 20

// Ticket is a ticket as a fake holds it.
type Ticket struct {
	Project   string
	ID        string // "42" on GitHub and GitLab, "OPS-12" on Jira
	URL       string
	Title     string
	Body      string
	Labels    []string
	Assignees []string
	Comments  []string
	State     string // tickets.StateOpen or tickets.StateClosed
	// Reason is GitHub's state_reason ("completed", "not_planned") or
	// Jira's status name ("To Do", "Done", "Won't Do").
	Reason  string
	Created time.Time
	Updated time.Time

	pull bool // a GitHub pull request, which the issues listing also returns
}

func (t *Ticket) clone() Ticket {
	c := *t
	c.Labels = slices.Clone(t.Labels)
	c.Assignees = slices.Clone(t.Assignees)
	c.Comments = slices.Clone(t.Comments)
	return c
}

// Fake is what every tracker's fake offers, so that one suite drives all
// three.
type Fake interface {
	// URL is the base URL to configure the adapter with.
	URL() string
	// Close stops the server, making hanging calls give up first.
	Close()
	// Token is the only token the fake accepts.
	Token() string
	// Fail answers status to the next n calls to endpoint.
	Fail(endpoint string, status, n int)
	// SetDown makes every call answer 503 until SetDown(false).
	SetDown(down bool)
	// RateLimit answers the next n calls to endpoint with the tracker's
	// rate limit (429) and Retry-After, in whole seconds rounded up.
	RateLimit(endpoint string, retryAfter time.Duration, n int)
	// Hang holds the next n calls to endpoint until the client gives up or
	// the fake closes; their effect does not happen.
	Hang(endpoint string, n int)
	// LoseResponse performs the next n calls to endpoint, then drops the
	// connection without an answer.
	LoseResponse(endpoint string, n int)
	// Calls counts the calls endpoint received, faulted ones included.
	Calls(endpoint string) int
	// Tickets returns a copy of the tickets, in creation order.
	Tickets() []Ticket
	// CloseTicket and ReopenTicket change a ticket as a person would in
	// the tracker's UI.
	CloseTicket(project, id string) error
	ReopenTicket(project, id string) error
	// SignedWebhook builds the delivery the tracker sends when a ticket
	// is closed or reopened, for the ticket's current state, signed with
	// secret; a nil secret leaves the delivery unsigned.
	SignedWebhook(project, id string, secret []byte) (http.Header, []byte, error)
}

type faultKind int

const (
	faultStatus faultKind = iota + 1
	faultRateLimit
	faultSecondaryRateLimit
	faultHang
	faultLostResponse
)

type fault struct {
	kind       faultKind
	status     int
	retryAfter time.Duration
	left       int
}

// reply is a handler's answer.
type reply struct {
	status int
	body   any // marshalled as JSON; nil sends no body
	header http.Header
}

// flavour is what differs between the trackers' fronts.
type flavour struct {
	// authorized reports whether r carries the fake's credentials.
	authorized func(r *http.Request) bool
	// errorBody is the tracker's JSON error body.
	errorBody func(status int, msg string) any
	// rateLimited fills in a rate-limit answer's headers and body.
	rateLimited func(h http.Header, retryAfter time.Duration) reply
	// secondary is GitHub's secondary rate limit; nil elsewhere.
	secondary func(h http.Header, retryAfter time.Duration) reply
}

// server is the part the three fakes share: the HTTP server, the faults,
// the call counts and the tickets.
type server struct {
	fl     flavour
	srv    *httptest.Server
	closed chan struct{}
	once   sync.Once
	now    func() time.Time

	mu      sync.Mutex
	calls   map[string]int
	faults  map[string][]*fault
	tickets []*Ticket
	down    bool // every call answers 503 until SetDown(false)
}

// newServer builds the server of mux, unstarted: handlers are methods of
// the server, so they are registered after it exists.
func newServer(fl flavour, mux *http.ServeMux) *server {
	s := &server{
		fl:     fl,
		closed: make(chan struct{}),
		now:    time.Now,
		calls:  map[string]int{},
		faults: map[string][]*fault{},
	}
	// Started by the fake once its handlers are registered.
	s.srv = httptest.NewUnstartedServer(mux)
	return s
}

// Close makes hanging calls give up, then stops the server and waits for its
// handlers. Calling it again does nothing.
func (s *server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// Fail answers status to the next n calls to endpoint.
func (s *server) Fail(endpoint string, status, n int) {
	s.queue(endpoint, &fault{kind: faultStatus, status: status, left: n})
}

// RateLimit answers the next n calls to endpoint with a 429 and Retry-After.
func (s *server) RateLimit(endpoint string, retryAfter time.Duration, n int) {
	s.queue(endpoint, &fault{kind: faultRateLimit, retryAfter: retryAfter, left: n})
}

// Hang holds the next n calls to endpoint until the client gives up.
func (s *server) Hang(endpoint string, n int) {
	s.queue(endpoint, &fault{kind: faultHang, left: n})
}

// LoseResponse performs the next n calls to endpoint and drops their answers.
func (s *server) LoseResponse(endpoint string, n int) {
	s.queue(endpoint, &fault{kind: faultLostResponse, left: n})
}

// SetClock makes the fake read the time from now: the creation and update
// times of the tickets created or changed afterwards. Call it between
// requests, never during one.
func (s *server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetDown makes the tracker down (every call answers 503, and nothing
// happens) until SetDown(false): an outage of unknown length, which a
// count of faults cannot stand for.
func (s *server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

func (s *server) queue(endpoint string, f *fault) {
	if f.left <= 0 {
		f.left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[endpoint] = append(s.faults[endpoint], f)
}

// Calls counts the calls endpoint received.
func (s *server) Calls(endpoint string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[endpoint]
}

// Tickets returns a copy of the tickets, pull requests left out.
func (s *server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Ticket
	for _, t := range s.tickets {
		if !t.pull {
			out = append(out, t.clone())
		}
	}
	return out
}

// ticket finds a ticket; s.mu must be held.
func (s *server) ticket(project, id string) *Ticket {
	for _, t := range s.tickets {
		if t.Project == project && t.ID == id {
			return t
		}
	}
	return nil
}

// setState changes a ticket as a person would.
func (s *server) setState(project, id string, change func(t *Ticket)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.ticket(project, id)
	if t == nil {
		return fmt.Errorf("trackertest: no ticket %s in %s", id, project)
	}
	change(t)
	t.Updated = s.now()
	return nil
}

// handle wraps a handler with what every endpoint does first: count the
// call, apply a fault (faults stand for the network and the tracker's edge,
// so they come before authentication), check the token.
func (s *server) handle(endpoint string, h func(r *http.Request, body []byte) reply) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes))
		if err != nil {
			abort(w)
			return
		}
		s.mu.Lock()
		s.calls[endpoint]++
		f, down := s.takeFault(endpoint), s.down
		s.mu.Unlock()
		if down {
			write(w, reply{status: http.StatusServiceUnavailable, body: s.fl.errorBody(http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable))})
			return
		}
		perform := func() reply {
			if !s.fl.authorized(r) {
				return reply{status: http.StatusUnauthorized, body: s.fl.errorBody(http.StatusUnauthorized, "Bad credentials")}
			}
			return h(r, body)
		}
		if f == nil {
			write(w, perform())
			return
		}
		switch f.kind {
		case faultStatus:
			write(w, reply{status: f.status, body: s.fl.errorBody(f.status, http.StatusText(f.status))})
		case faultRateLimit:
			write(w, s.fl.rateLimited(w.Header(), f.retryAfter))
		case faultSecondaryRateLimit:
			write(w, s.fl.secondary(w.Header(), f.retryAfter))
		case faultHang:
			select {
			case <-r.Context().Done():
			case <-s.closed:
			}
			abort(w)
		case faultLostResponse:
			perform()
			abort(w)
		}
	}
}

// takeFault consumes the fault for one call to endpoint; s.mu must be held.
func (s *server) takeFault(endpoint string) *fault {
	q := s.faults[endpoint]
	if len(q) == 0 {
		return nil
	}
	head := q[0]
	head.left--
	if head.left == 0 {
		s.faults[endpoint] = q[1:]
	}
	return head
}

func write(w http.ResponseWriter, r reply) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	if r.body == nil {
		w.WriteHeader(r.status)
		return
	}
	b, err := json.Marshal(r.body)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(r.status)
	_, _ = w.Write(b)
}

// retryAfterSeconds is d in whole seconds, rounded up, as Retry-After says it.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// abort drops the connection without a response, with lingering off so the
// client sees a reset, as when a load balancer gives up.
func abort(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// closed reports whether t is closed.
func closed(t *Ticket) bool { return t.State == tickets.StateClosed }
