package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ooda-sre/ooda/bot/command"
	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/timeline"
)

// ServerConfig is what the HTTP server needs.
type ServerConfig struct {
	Store    incident.Store
	APIToken string // the admin bearer token for /api/v1, named "admin"
	// APITokens maps further tokens to their names and scopes; the name
	// is the actor the timeline records for commands sent with the token
	// ("api:<name>").
	APITokens map[string]Token
	// Dispatcher runs POST /api/v1/commands; nil disables it.
	Dispatcher *command.Dispatcher
	Logger     *slog.Logger
	Gatherer   prometheus.Gatherer
	// Ready reports whether the process can take work; nil means always.
	Ready func(ctx context.Context) error
	// Status feeds GET /api/v1/status.
	Status StatusSource
	// Backup writes a consistent hot copy of the database; nil disables
	// GET /api/v1/backup.
	Backup func(ctx context.Context, w io.Writer) (int64, error)
	// AckHistogram (NewAckHistogram) times POST /api/v1/commands with
	// transport "api"; nil times nothing. The caller registers it.
	AckHistogram *prometheus.HistogramVec
	// Freeze answers GET /api/v1/freeze (FreezeHandler); nil leaves
	// the route out. *prom.Monitor's Freeze is one.
	Freeze FreezeLookup
	// Alerts receives Alertmanager's webhook at POST /api/v1/alerts (an
	// *AlertReceiver); nil leaves the route out.
	Alerts http.Handler
	// PostmortemBudget puts the error budget an incident spent into its
	// post-mortem draft; nil leaves it unknown.
	PostmortemBudget postmortem.BudgetLookup
	// PostmortemChart puts a chart of the incident's window into its HTML
	// post-mortem draft; nil leaves it out.
	PostmortemChart postmortem.ChartLookup
	// People shows member IDs as names in post-mortems, incidents and
	// replies; nil shows the ids.
	People People
	// Sessions ends web UI sessions at DELETE /api/v1/sessions (admin
	// scope); nil leaves the route out.
	Sessions SessionRevoker
	// Zones and Now decide when an action item is overdue in GET
	// /api/v1/actions: its owner's day at Now. Nil: UTC, time.Now.
	Zones incident.Zones
	Now   func() time.Time
	// Search answers GET /api/v1/search (a *search.Index); nil leaves the
	// route out.
	Search Searcher
	// Webhooks takes trackers' deliveries at POST
	// /api/v1/webhooks/{tracker}; nil leaves the route out.
	Webhooks TicketWebhooks
}

// Server is Ooda's HTTP surface.
type Server struct {
	cfg ServerConfig
	mux *http.ServeMux
}

// NewServer checks cfg and builds the routes. Later transports register
// theirs on the same mux through Handle.
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("api server: needs a store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	if cfg.Gatherer != nil {
		s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}
	// Commands need read; those that change an incident need write too
	// (checked once the command is parsed).
	s.mux.Handle("POST /api/v1/commands", s.authed(ScopeRead, s.commands))
	s.mux.Handle("GET /api/v1/status", s.authed(ScopeRead, s.status))
	s.mux.Handle("GET /api/v1/incidents", s.authed(ScopeRead, s.listIncidents))
	s.mux.Handle("GET /api/v1/incidents/{n}", s.authed(ScopeRead, s.getIncident))
	s.mux.Handle("GET /api/v1/actions", s.authed(ScopeRead, s.listActions))
	s.mux.Handle("GET /api/v1/insights", s.authed(ScopeRead, s.insightsHandler))
	s.mux.Handle("GET /api/v1/incidents/{n}/postmortem", s.authed(ScopeRead, postmortemHandler(cfg.Store, nil, cfg.PostmortemBudget, cfg.People, cfg.PostmortemChart)))
	if cfg.Freeze != nil {
		s.mux.Handle("GET /api/v1/freeze", s.authed(ScopeRead, FreezeHandler(cfg.Freeze)))
	}
	if cfg.Search != nil {
		s.mux.Handle("GET /api/v1/search", s.authed(ScopeRead, s.search))
	}
	if cfg.Alerts != nil {
		s.mux.Handle("POST /api/v1/alerts", s.authed(ScopeWrite, cfg.Alerts.ServeHTTP))
	}
	if cfg.Backup != nil {
		s.mux.Handle("GET /api/v1/backup", s.authed(ScopeAdmin, s.backup))
	}
	if cfg.Sessions != nil {
		s.mux.Handle("DELETE /api/v1/sessions", s.authed(ScopeAdmin, s.revokeSessions))
	}
	if cfg.Webhooks != nil {
		s.mux.HandleFunc("POST /api/v1/webhooks/{tracker}", s.webhook)
	}
	return s, nil
}

// Handle registers another route on the server.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP makes Server an http.Handler. A request no route takes is
// answered in JSON like every other answer: 404 for a path Ooda does not
// serve, 405 (with Allow) for a method the path does not take.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		// Served by the mux itself, which sets the path's wildcards.
		s.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer tells 404 from 405 and sets Allow; its
	// plain-text body is replaced.
	rec := &statusOnly{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if allow := rec.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch rec.status {
	case http.StatusMethodNotAllowed:
		writeError(w, rec.status, fmt.Sprintf("%s does not take %s; use %s", r.URL.Path, r.Method, rec.header.Get("Allow")))
	case http.StatusNotFound, 0:
		writeError(w, http.StatusNotFound, fmt.Sprintf("nothing is served at %s; the web UI is at / and the API under /api/v1 (see the README)", r.URL.Path))
	default:
		// A redirect (a path that needs its trailing slash, or cleaning).
		if loc := rec.header.Get("Location"); loc != "" {
			w.Header().Set("Location", loc)
		}
		writeError(w, rec.status, http.StatusText(rec.status))
	}
}

// statusOnly records the status and headers a handler writes and drops
// its body.
type statusOnly struct {
	header http.Header
	status int
}

func (s *statusOnly) Header() http.Header { return s.header }
func (s *statusOnly) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
}
func (s *statusOnly) Write(b []byte) (int, error) {
	s.WriteHeader(http.StatusOK)
	return len(b), nil
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Ready != nil {
		if err := s.cfg.Ready(r.Context()); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// IncidentWithEvents is the JSON of one incident with its event log, as the
// API and `ooda export` serve it.
type IncidentWithEvents struct {
	incident.Incident
	Events []timeline.Event `json:"events"`
	// People names the member IDs the events hold: "U0123ABCD" → "Alice
	// Chen (@alice)". An id it leaves out has no known name and is shown
	// as the id.
	People map[string]string `json:"people,omitempty"`
}

// LoadIncident reads an incident's whole log in one read and its state as
// the fold of that log, so the two always agree.
func LoadIncident(ctx context.Context, store incident.Store, n uint64) (IncidentWithEvents, error) {
	events, err := store.Events(ctx, n, 1)
	if err != nil {
		return IncidentWithEvents{}, err
	}
	return IncidentWithEvents{Incident: incident.Replay(events), Events: events}, nil
}

func (s *Server) getIncident(w http.ResponseWriter, r *http.Request) {
	n, err := incident.ParseID(r.PathValue("n"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := LoadIncident(r.Context(), s.cfg.Store, n)
	if err == nil && !admits(r.Context(), out.Incident) {
		err = incident.NotFound(n)
	}
	if errors.Is(err, incident.ErrNotFound) {
		writeError(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out.People = PeopleOf(out.Events, namer(s.cfg.People))
	writeJSON(w, http.StatusOK, out)
}

// backup streams a hot copy of the database: the running server holds the
// file's lock, so this is how `ooda backup` copies it without stopping it.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	// The server's write timeout suits answers, not a database copy over
	// a slow link: give the copy its own, longer deadline.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(backupWriteTimeout))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="ooda.db"`)
	if _, err := s.cfg.Backup(r.Context(), w); err != nil {
		// The status line is gone once bytes are written; the client sees a
		// short body and the error is logged here.
		s.cfg.Logger.ErrorContext(r.Context(), "backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// backupWriteTimeout bounds GET /api/v1/backup.
const backupWriteTimeout = 30 * time.Minute

// internal answers 500 without leaking the cause, which is logged once here.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal error; the server log has the cause")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing to do
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"ok": false, "error": msg})
}
