// Package slacktest is a fake Slack Web API for tests, `make demo` and benchmarks.
//
// It speaks the wire format the real slack-go client expects (form bodies for most
// methods, JSON bodies for views.*, the three-step external file upload), keeps the
// workspace it builds in memory so tests can inspect what the bot did, records every
// call, and injects the failures the bot must survive: 5xx, 429 with and without
// Retry-After, hangs, lost responses, connection resets and ok:false errors.
//
// Point a client at it with slack.OptionAPIURL(s.URL()) or SLACK_API_URL=s.URL().
package slacktest

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

// maxBodyBytes bounds a request body. Slack's own limits are lower for most methods;
// the bound only stops a runaway test from exhausting memory.
const maxBodyBytes = 32 << 20

// Server is a fake Slack Web API served over HTTP on a loopback port. All of its
// methods are safe for concurrent use.
type Server struct {
	cfg    config
	srv    *httptest.Server
	closed chan struct{} // closed by Close, so that hanging calls give up
	once   sync.Once

	mu         sync.Mutex
	calls      []Call
	faults     map[string][]*queuedFault
	down       bool
	seq        uint64 // shared by every generated id, so ids never collide
	lastTS     int64  // unix microseconds of the last message ts handed out
	channels   []*channel
	users      map[string]*user
	ims        map[string]*channel // by member id: the bot's direct messages (ims.go)
	ephemerals []Message
	views      []*view
	files      []*file
}

// Call is one request the server received, recorded when it arrived.
type Call struct {
	// Method is the Web API method ("chat.postMessage"), or UploadMethod for a POST
	// to an upload URL.
	Method string
	// Args holds the form values, or for a JSON body its top-level fields: strings
	// as they are, other values as raw JSON text. The token is left out so that a
	// test printing calls never prints a credential.
	Args map[string]string
	// At is the server clock when the call arrived.
	At time.Time
	// Status is the HTTP status sent; 0 when no response was sent (a hang, a reset,
	// a lost response, or a call still in progress).
	Status int
	// Err is the ok:false error code Slack would return, or the name of the fault
	// that shaped the answer (see FaultKind.String).
	Err string
}

// Option configures a Server.
type Option func(*config)

type config struct {
	token     string
	botUserID string
	botID     string
	appID     string
	teamID    string
	teamName  string
	clock     func() time.Time
}

func defaultConfig() config {
	return config{
		token:     "xoxb-test-token",
		botUserID: "U0BOT000001",
		botID:     "B0BOT000001",
		appID:     "A0APP000001",
		teamID:    "T0TEAM00001",
		teamName:  "Ooda Test",
		clock:     time.Now,
	}
}

// WithToken sets the only bot token the server accepts (default
// "xoxb-test-token"). Any other answers invalid_auth and none answers
// not_authed, as Slack does. The token may come as a bearer header or as the
// "token" form field, which is how slack-go sends it for form methods.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithBotUserID sets the bot's user id (default "U0BOT000001"), returned by
// auth.test and used as the author of everything the bot posts.
func WithBotUserID(id string) Option { return func(c *config) { c.botUserID = id } }

// WithTeam sets the workspace id and name (default "T0TEAM00001", "Ooda Test")
// returned by auth.test and stamped on channels, users and messages. The name
// also gives the workspace's slack.com subdomain used in permalinks.
func WithTeam(id, name string) Option {
	return func(c *config) { c.teamID, c.teamName = id, name }
}

// WithClock replaces time.Now, so that message timestamps, call times and
// creation dates follow a test's fake clock. Message ts stay strictly increasing
// even when the clock stands still.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// New starts a fake Slack on a loopback port. The caller must Close it.
func New(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:    cfg,
		closed: make(chan struct{}),
		faults: make(map[string][]*queuedFault),
		users:  make(map[string]*user),
	}
	s.users[cfg.botUserID] = &user{id: cfg.botUserID, name: "ooda", isBot: true}

	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc(uploadPath, s.serveUpload)
	// Assign before starting, so handlers that read s.srv.URL are ordered after
	// the write (the race detector sees no ordering through the socket).
	s.srv = httptest.NewUnstartedServer(mux)
	s.srv.Start()
	return s
}

// URL is the API base URL, ending in "/api/" as slack.OptionAPIURL expects.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close makes every hanging or delayed call give up (its client sees the
// connection drop), then shuts the server down and waits for its handlers.
// Calling it again does nothing.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// Calls returns every call received so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Args = maps.Clone(c.Args)
		out[i] = c
	}
	return out
}

// CallsTo returns the calls to one method, in arrival order.
func (s *Server) CallsTo(method string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// serveAPI answers /api/<method>. Faults are applied before anything else,
// because they stand for the network and Slack's front end, which fail before
// authentication or method lookup happen.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	req := readRequest(w, r)

	idx, f, faulted := s.arrive(method, req.args)
	if faulted && !s.applyFault(w, r, idx, f, func() { s.perform(method, req) }) {
		return
	}
	s.writeReply(w, idx, s.perform(method, req))
}

// request is an API call's arguments, however they were encoded.
type request struct {
	args  map[string]string
	token string
	// bad is the error Slack gives for a body it cannot read, or "".
	bad string
}

// readRequest reads the whole body before anything else happens: net/http only
// notices a client hanging up once the body is consumed, and hangs rely on that.
func readRequest(w http.ResponseWriter, r *http.Request) request {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	req := request{args: make(map[string]string)}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		req.token = strings.TrimPrefix(h, "Bearer ")
	}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "application/json":
		body, err := io.ReadAll(r.Body)
		fields := map[string]json.RawMessage{}
		if err != nil || json.Unmarshal(body, &fields) != nil {
			req.bad = "invalid_json"
			break
		}
		for k, raw := range fields {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				req.args[k] = str
			} else {
				req.args[k] = string(raw)
			}
		}
		addValues(req.args, r.URL.Query())
	case "multipart/form-data":
		if err := r.ParseMultipartForm(maxBodyBytes); err != nil {
			req.bad = "invalid_form_data"
			break
		}
		addValues(req.args, r.Form)
	default:
		if err := r.ParseForm(); err != nil {
			req.bad = "invalid_form_data"
			break
		}
		addValues(req.args, r.Form)
	}
	_, _ = io.Copy(io.Discard, r.Body)
	if t, ok := req.args["token"]; ok {
		if req.token == "" {
			req.token = t
		}
		delete(req.args, "token")
	}
	return req
}

func addValues(dst map[string]string, v url.Values) {
	for k := range v {
		if _, ok := dst[k]; !ok {
			dst[k] = v.Get(k)
		}
	}
}

// arrive records a call and picks the fault, if any, that shapes its answer.
func (s *Server) arrive(method string, args map[string]string) (int, Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: method, Args: maps.Clone(args), At: s.cfg.clock()})
	f, ok := s.takeFault(method)
	return len(s.calls) - 1, f, ok
}

// finish records how a call was answered.
func (s *Server) finish(idx, status int, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[idx].Status = status
	s.calls[idx].Err = errCode
}

// reply is a Web API answer: ok:true with fields, or ok:false with err (and
// sometimes fields too, such as conversations.invite's per-user errors).
type reply struct {
	err    string
	fields map[string]any
}

func ok(fields map[string]any) reply { return reply{fields: fields} }

func fail(code string) reply { return reply{err: code} }

// handler performs one Web API method. It runs with s.mu held, so it sees and
// changes the workspace atomically.
type handler func(s *Server, args map[string]string) reply

// handlerFor maps method names to handlers. A switch rather than a package-level
// map keeps the package free of mutable globals.
func handlerFor(method string) handler {
	switch method {
	case "auth.test":
		return (*Server).authTest
	case "users.info":
		return (*Server).usersInfo
	case "users.list":
		return (*Server).usersList
	case "conversations.create":
		return (*Server).conversationsCreate
	case "conversations.invite":
		return (*Server).conversationsInvite
	case "conversations.setTopic":
		return (*Server).conversationsSetTopic
	case "conversations.info":
		return (*Server).conversationsInfo
	case "conversations.list":
		return (*Server).conversationsList
	case "conversations.members":
		return (*Server).conversationsMembers
	case "conversations.history":
		return (*Server).conversationsHistory
	case "conversations.replies":
		return (*Server).conversationsReplies
	case "chat.postMessage":
		return (*Server).chatPostMessage
	case "chat.update":
		return (*Server).chatUpdate
	case "chat.postEphemeral":
		return (*Server).chatPostEphemeral
	case "chat.getPermalink":
		return (*Server).chatGetPermalink
	case "pins.add":
		return (*Server).pinsAdd
	case "bookmarks.add":
		return (*Server).bookmarksAdd
	case "reactions.add":
		return (*Server).reactionsAdd
	case "views.open":
		return (*Server).viewsOpen
	case "views.update":
		return (*Server).viewsUpdate
	case "views.publish":
		return (*Server).viewsPublish
	case "files.getUploadURLExternal":
		return (*Server).filesGetUploadURLExternal
	case "files.completeUploadExternal":
		return (*Server).filesCompleteUploadExternal
	}
	return nil
}

// perform runs a call the way Slack does: method lookup, then authentication,
// then the method itself.
func (s *Server) perform(method string, req request) reply {
	h := handlerFor(method)
	if h == nil {
		return reply{err: "unknown_method", fields: map[string]any{"req_method": method}}
	}
	switch {
	case req.token == "":
		return fail("not_authed")
	case req.token != s.cfg.token:
		return fail("invalid_auth")
	case req.bad != "":
		return fail(req.bad)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return h(s, req.args)
}

// writeReply sends a Web API answer. Slack answers HTTP 200 even for ok:false.
func (s *Server) writeReply(w http.ResponseWriter, idx int, rep reply) {
	body := make(map[string]any, len(rep.fields)+2)
	maps.Copy(body, rep.fields)
	body["ok"] = rep.err == ""
	if rep.err != "" {
		body["error"] = rep.err
	}
	s.finish(idx, http.StatusOK, rep.err)
	writeJSON(w, http.StatusOK, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		// Every body is built here from plain maps and slices; failing to encode
		// one is a bug in this package, not a condition to simulate.
		panic(fmt.Sprintf("slacktest: encode response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newID returns a fresh Slack-looking id such as C000000000A. Ids are sequential
// so that a test run is reproducible.
func (s *Server) newID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%010X", prefix, s.seq)
}

// now reads the configured clock.
func (s *Server) now() time.Time { return s.cfg.clock() }

// nextTS hands out a message ts: the clock's time in microseconds, bumped past
// the previous ts so that every ts is unique and later posts sort later, as
// Slack guarantees within a channel.
func (s *Server) nextTS() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return formatTS(us)
}
