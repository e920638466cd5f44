package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ooda-sre/ooda/incident"
	"github.com/ooda-sre/ooda/postmortem"
	"github.com/ooda-sre/ooda/storage"
)

// Store is what the web UI reads: incidents and their events, channel
// transcripts (for captured messages and their edits), the change feed
// that keeps pages live, and sessions. *storage.DB and the etcd store are
// both one.
type Store interface {
	incident.Store
	Transcript(ctx context.Context, n uint64) ([]storage.TranscriptMessage, error)
	WatchIncidents(ctx context.Context, changed func(n uint64)) error

	SaveSession(ctx context.Context, s storage.Session) error
	Session(ctx context.Context, id string) (storage.Session, bool, error)
	DeleteSession(ctx context.Context, id string) error
}

// People shows member IDs as names; *directory.Directory is one.
type People interface {
	// Name is how id is shown, "" when it is not known; it answers from
	// memory and never waits.
	Name(id string) string
	// Names is a name function for a draft written now, which may look
	// an unknown id up within ctx.
	Names(ctx context.Context) func(id string) string
}

// Config is what the web UI needs.
type Config struct {
	Store  Store
	People People // nil shows member IDs
	Logger *slog.Logger
	// Now is the clock of durations, overdue states and session expiry;
	// nil means time.Now.
	Now func() time.Time

	// PublicURL is the address people open (https://ooda.example.com):
	// sign-in's redirect URL is built on it. Sign in with Slack is on
	// when PublicURL, ClientID and ClientSecret are all set; without
	// them every page says how to turn it on.
	PublicURL    string
	ClientID     string
	ClientSecret string
	// Issuer is the OpenID Connect issuer; empty means Slack's,
	// https://slack.com. Tests point it at a fake provider.
	Issuer string
	// Workspace answers the Slack workspace (team) ID the bot is
	// installed in, from auth.test: an ID token of any other workspace
	// is refused, and channel links point into it. Nil, or an error,
	// refuses every sign-in (fail closed).
	Workspace func(ctx context.Context) (string, error)
	// SessionTTL is how long a session lasts; zero means 12 hours.
	SessionTTL time.Duration

	// PostmortemBudget puts the error budget an incident spent into its
	// post-mortem; nil leaves it unknown.
	PostmortemBudget postmortem.BudgetLookup
	// PostmortemChart puts a chart of the incident's window into its
	// post-mortem page and HTML download; nil leaves it out.
	PostmortemChart postmortem.ChartLookup
	// Zones decides when an action item is overdue: its owner's day.
	// Nil: UTC.
	Zones incident.Zones
	// SLOs are the SLO page's evaluations, freezes and charts; nil: the
	// page says how to configure SLOs.
	SLOs SLOSource
	// Commands runs what people type into an incident page's command box,
	// through the dispatcher Slack and the API share; nil shows no box.
	Commands Commands
}

// DefaultSessionTTL is how long a session lasts when Config.SessionTTL is
// zero: a working day and a long incident night, then sign in again.
const DefaultSessionTTL = 12 * time.Hour

// Site is the web UI. Build it with New, register it on the server's mux
// with Register, and Close it when the server shuts down, which ends the
// live streams (http.Server.Shutdown does not wait on them).
type Site struct {
	cfg   Config
	pages map[string]*template.Template
	// public is cfg.PublicURL parsed; nil while sign-in is off.
	public *url.URL
	// idp is Sign in with Slack's provider, found on first use.
	idp identityProvider
	// done ends every live stream when the site closes.
	done  chan struct{}
	close func()
	// hub fans the store's change feed out to the live streams (live.go).
	hub hub
	// index keeps every incident's snapshot for the list (index.go).
	index index
	// insights keeps the reports the insights page computed, for a
	// minute (insights.go).
	insights insightsCache
	// sloCharts keeps each SLO's charts for a minute (slos.go).
	sloCharts chartCache
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New checks cfg and parses the templates. It starts no goroutine.
func New(cfg Config) (*Site, error) {
	if cfg.Store == nil {
		return nil, errors.New("web: needs a store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	s := &Site{cfg: cfg, pages: map[string]*template.Template{}, done: make(chan struct{})}
	s.index.store = cfg.Store
	s.index.logger = func(msg string, args ...any) { cfg.Logger.Warn(msg, args...) }
	s.close = sync.OnceFunc(func() {
		close(s.done)
		s.index.stop()
	})
	if s.SignInEnabled() {
		u, err := url.Parse(strings.TrimRight(cfg.PublicURL, "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("web: OODA_PUBLIC_URL %q is not an address people can open; give one like https://ooda.example.com", cfg.PublicURL)
		}
		s.public = u
	}
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", p)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		s.pages[name] = t
	}
	return s, nil
}

// SignInEnabled reports whether Sign in with Slack is configured.
func (s *Site) SignInEnabled() bool {
	return s.cfg.PublicURL != "" && s.cfg.ClientID != "" && s.cfg.ClientSecret != ""
}

// Close ends the live streams and the list's watch of the change feed,
// and waits for the watch. It is safe to call more than once, and from
// http.Server's shutdown goroutine (RegisterOnShutdown).
func (s *Site) Close() { s.close() }

// Mux is where Register puts the site's routes; *http.ServeMux and
// *api.Server are both one.
type Mux interface {
	Handle(pattern string, h http.Handler)
}

// Register puts the site's routes on m. Cross-site POSTs are refused
// (http.CrossOriginProtection) and every answer carries the site's
// security headers.
func (s *Site) Register(m Mux) {
	cop := http.NewCrossOriginProtection()
	route := func(pattern string, h http.Handler) {
		m.Handle(pattern, cop.Handler(secure(h)))
	}
	route("GET /static/", http.StripPrefix("/static/", staticHandler()))
	for _, r := range s.routes() {
		route(r.pattern, r.handler)
	}
}

// route is one of the site's pages.
type route struct {
	pattern string
	handler http.Handler
}

// ContentSecurityPolicy is every page's policy: scripts, styles and
// images from the site itself only, no inline script, no framing, forms
// posted only back to the site.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure adds the headers every answer of the site carries.
func secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", ContentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded assets. They change only with the
// binary, which the version in their URLs would say; an hour's caching
// is the compromise without one.
func staticHandler() http.Handler {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive names the directory
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	})
}

// layout is what every page's frame shows around its content.
type layout struct {
	// Title is the page's <title> and first heading's text.
	Title string
	// Viewer is who is signed in; nil on the sign-in pages.
	Viewer *Viewer
	// Script loads the live-update script.
	Script bool
	// Page is the page's own data.
	Page any
}

// render writes page with data at status. A template that fails is a
// bug: the person gets a plain 500 and the log has the cause.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, page string, data layout) {
	t, ok := s.pages[page]
	if !ok {
		s.internal(w, r, fmt.Errorf("no template %q", page))
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", data); err != nil {
		s.internal(w, r, fmt.Errorf("render %s: %w", page, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String())) // the client went away; nothing to do
}

// problem is the data of the error page.
type problem struct {
	Status int
	Text   string
	// Next is a sentence saying what to do instead.
	Next string
}

// fail answers with the error page: a heading for status and what to do.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, v *Viewer, status int, text, next string) {
	s.render(w, r, status, "problem", layout{Title: http.StatusText(status), Viewer: v, Page: problem{Status: status, Text: text, Next: next}})
}

// internal answers 500 without the cause, which is logged once here.
func (s *Site) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.ErrorContext(r.Context(), "web request failed", "path", r.URL.Path, "err", err)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_, _ = w.Write([]byte("Something went wrong on Ooda's side; the server log has the cause. Try again in a moment.\n"))
}
