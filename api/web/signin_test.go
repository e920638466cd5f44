package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/storage"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// signinStart is the fake clock's time when a sign-in fixture starts.
var signinStart = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// fakeClock is a clock a test moves by hand; the site and the fake
// provider share it, so ID tokens are fresh on the site's clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer is a log the site's handlers write while the test reads
// it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// workspaceFunc is the bot's workspace as a test sets it: a team, or an
// error.
type workspaceFunc struct {
	mu   sync.Mutex
	team string
	err  error
}

func (w *workspaceFunc) set(team string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.team, w.err = team, err
}

func (w *workspaceFunc) get(context.Context) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.team, w.err
}

// signinFixture is the site over HTTPS (its cookies are Secure, and a
// cookie jar keeps Secure cookies for HTTPS only, as a browser does),
// signing in at a fake provider.
type signinFixture struct {
	site      *Site
	srv       *httptest.Server
	url       *url.URL
	idp       *webtest.Provider
	db        *storage.DB
	clock     *fakeClock
	workspace *workspaceFunc
	log       *lockedBuffer
	// browser follows redirects and keeps cookies; it starts with none.
	browser *http.Client
}

// whoamiPath is a test-only page for a signed-in person: it answers who
// they are, proving a session got through.
const whoamiPath = "/test/whoami"

// newSigninFixture starts the fixture. edit may change the site's
// configuration before the site is built.
func newSigninFixture(t *testing.T, edit ...func(*Config)) *signinFixture {
	t.Helper()
	f := &signinFixture{
		clock:     &fakeClock{t: signinStart},
		workspace: &workspaceFunc{team: webtest.DefaultTeamID},
		log:       &lockedBuffer{},
		db:        storagetest.Open(t),
	}
	f.idp = webtest.NewProvider(webtest.WithClock(f.clock.now))
	t.Cleanup(f.idp.Close)
	mux := http.NewServeMux()
	f.srv = httptest.NewTLSServer(mux)
	t.Cleanup(f.srv.Close)
	f.url, _ = url.Parse(f.srv.URL)
	cfg := Config{
		Store: f.db, Now: f.clock.now,
		Logger:    slog.New(slog.NewTextHandler(f.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PublicURL: f.srv.URL, ClientID: f.idp.ClientID(), ClientSecret: f.idp.ClientSecret(),
		Issuer: f.idp.URL(), Workspace: f.workspace.get,
	}
	for _, e := range edit {
		e(&cfg)
	}
	site, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(site.Close)
	f.site = site
	site.Register(mux)
	mux.Handle("GET "+whoamiPath, site.signedIn(func(w http.ResponseWriter, _ *http.Request, v *Viewer) {
		fmt.Fprintf(w, "%s %s %s", v.User, v.Team, v.Name)
	}))
	f.browser = f.newBrowser(t)
	return f
}

// newBrowser is a client with a cookie jar of its own that follows
// redirects, trusting the site's certificate.
func (f *signinFixture) newBrowser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := f.srv.Client()
	c.Jar = jar
	return c
}

// noFollow is the browser, its cookies included, stopping at every
// redirect.
func (f *signinFixture) noFollow() *http.Client {
	c := *f.browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// get asks c for path (on the site unless absolute) and returns the
// final response with its body read.
func get(t *testing.T, c *http.Client, f *signinFixture, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	return do(t, c, f, http.MethodGet, path, hdr...)
}

func do(t *testing.T, c *http.Client, f *signinFixture, method, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	u := path
	if strings.HasPrefix(path, "/") {
		u = f.srv.URL + path
	}
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

// cookie is the browser's cookie name for the site, "" when it has none.
func (f *signinFixture) cookie(name string) string {
	for _, c := range f.browser.Jar.Cookies(f.url) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// session is the stored session the browser's cookie names.
func (f *signinFixture) session(t *testing.T) (storage.Session, bool) {
	t.Helper()
	secret := f.cookie(sessionCookie)
	if secret == "" {
		return storage.Session{}, false
	}
	s, ok, err := f.db.Session(t.Context(), sessionID(secret))
	require.NoError(t, err)
	return s, ok
}

// sessions counts the stored sessions, by expiring them all: call it
// last.
func (f *signinFixture) sessions(t *testing.T) int {
	t.Helper()
	n, err := f.db.ExpireSessions(t.Context(), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	return n
}

// signIn signs the browser in through the fake provider and checks it
// landed on the test page as the provider's current user.
func (f *signinFixture) signIn(t *testing.T) {
	t.Helper()
	resp, body := get(t, f.browser, f, whoamiPath)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, whoamiPath, resp.Request.URL.Path)
	require.NotEmpty(t, f.cookie(sessionCookie))
}

// TestSignIn: someone without a session opens a page, signs in with
// Slack and lands on it, signed in for twelve hours.
func TestSignIn(t *testing.T) {
	f := newSigninFixture(t)
	resp, body := get(t, f.browser, f, whoamiPath+"?x=1")
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	require.Equal(t, f.srv.URL+whoamiPath+"?x=1", resp.Request.URL.String(), "back where they started")
	require.Equal(t, webtest.DefaultUserID+" "+webtest.DefaultTeamID+" "+webtest.DefaultUserName, body)

	sess, ok := f.session(t)
	require.True(t, ok, "the cookie names a stored session")
	require.Equal(t, storage.Session{
		ID: sessionID(f.cookie(sessionCookie)), User: webtest.DefaultUserID, Team: webtest.DefaultTeamID, Name: webtest.DefaultUserName,
		CreatedAt: signinStart, ExpiresAt: signinStart.Add(12 * time.Hour),
	}, sess)
	require.Empty(t, f.cookie(signinCookie), "the sign-in cookie is spent")

	asked := f.idp.Authorizations()
	require.Len(t, asked, 1)
	q := asked[0]
	require.Equal(t, "openid profile email", q.Get("scope"))
	require.Equal(t, "code", q.Get("response_type"))
	require.Equal(t, f.srv.URL+"/signin/callback", q.Get("redirect_uri"))
	require.Equal(t, "S256", q.Get("code_challenge_method"))
	require.NotEmpty(t, q.Get("code_challenge"))
	require.NotEmpty(t, q.Get("nonce"))
	require.NotEqual(t, q.Get("nonce"), q.Get("state"))
	require.Equal(t, webtest.DefaultTeamID, q.Get("team"), "Slack is asked to open the bot's workspace")

	logs := f.log.String()
	require.Contains(t, logs, `msg="web sign-in" user=`+webtest.DefaultUserID)
	require.NotContains(t, logs, f.cookie(sessionCookie), "the cookie never reaches the log")
	require.NotContains(t, logs, "eyJ", "no token reaches the log")

	// Signed in, /signin goes straight to next, and the provider is not
	// asked again.
	resp, _ = get(t, f.browser, f, "/signin?next=%2Ftest%2Fwhoami")
	require.Equal(t, whoamiPath, resp.Request.URL.Path)
	require.Len(t, f.idp.Authorizations(), 1)
	require.Equal(t, 1, f.sessions(t))
}

// TestSignInCookies: both cookies are __Host- cookies: Secure, HttpOnly,
// SameSite=Lax, Path=/, no Domain; the sign-in cookie lasts ten minutes,
// the session twelve hours.
func TestSignInCookies(t *testing.T) {
	f := newSigninFixture(t)
	c := f.noFollow()
	resp, _ := get(t, c, f, "/signin?next=%2Ftest%2Fwhoami")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	requireHostCookie(t, resp, signinCookie, 600)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(loc.String(), f.idp.URL()+"/authorize?"), loc.String())

	resp, _ = get(t, c, f, loc.String())
	require.Equal(t, http.StatusFound, resp.StatusCode)
	callback := resp.Header.Get("Location")
	require.True(t, strings.HasPrefix(callback, f.srv.URL+"/signin/callback?"), callback)

	resp, _ = get(t, c, f, callback)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, whoamiPath, resp.Header.Get("Location"))
	requireHostCookie(t, resp, sessionCookie, 12*60*60)
	require.Contains(t, cookieLines(resp, signinCookie)[0], "Max-Age=0", "the sign-in cookie is cleared")

	resp, body := get(t, c, f, whoamiPath)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
}

// cookieLines are the Set-Cookie lines of resp for name.
func cookieLines(resp *http.Response, name string) []string {
	var out []string
	for _, l := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(l, name+"=") {
			out = append(out, l)
		}
	}
	return out
}

func requireHostCookie(t *testing.T, resp *http.Response, name string, maxAge int) {
	t.Helper()
	var c *http.Cookie
	for _, k := range resp.Cookies() {
		if k.Name == name {
			c = k
		}
	}
	require.NotNil(t, c, "%s is set", name)
	require.True(t, strings.HasPrefix(name, "__Host-"))
	require.NotEmpty(t, c.Value)
	require.True(t, c.Secure, "Secure")
	require.True(t, c.HttpOnly, "HttpOnly")
	require.Equal(t, http.SameSiteLaxMode, c.SameSite)
	require.Equal(t, "/", c.Path)
	require.Empty(t, c.Domain)
	require.Equal(t, maxAge, c.MaxAge)
	require.NotContains(t, strings.ToLower(cookieLines(resp, name)[0]), "domain=")
}

// TestSignInRefused: every way a sign-in can fail makes no session and
// answers a page saying what happened and offering to start again.
func TestSignInRefused(t *testing.T) {
	other := errors.New("auth.test: ratelimited")
	for _, tt := range []struct {
		name   string
		fault  webtest.Fault
		user   *webtest.User
		edit   func(*Config)
		before func(f *signinFixture)
		status int
		want   string
	}{
		{name: "token of another workspace", user: &webtest.User{ID: "U0EVE000001", Team: "T0ELSE00001", Name: "Eve"}, status: http.StatusForbidden,
			want: "You signed in to another Slack workspace (T0ELSE00001); Ooda here serves workspace T0TEAM00001."},
		{name: "other team fault", fault: webtest.OtherTeam, status: http.StatusForbidden,
			want: "You signed in to another Slack workspace (" + webtest.OtherTeamID + ")"},
		{name: "no team claim", fault: webtest.NoTeam, status: http.StatusForbidden,
			want: "You signed in to another Slack workspace (Slack did not say which)"},
		{name: "cancelled", fault: webtest.Denied, status: http.StatusForbidden, want: "Sign-in was cancelled"},
		{name: "token endpoint fails", fault: webtest.TokenError, status: http.StatusBadGateway, want: "Slack&#39;s sign-in did not complete"},
		{name: "wrong nonce", fault: webtest.WrongNonce, status: http.StatusBadGateway, want: "did not complete"},
		{name: "wrong audience", fault: webtest.WrongAudience, status: http.StatusBadGateway, want: "did not complete"},
		{name: "expired token", fault: webtest.Expired, status: http.StatusBadGateway, want: "did not complete"},
		{name: "forged signature", fault: webtest.ForeignKey, status: http.StatusBadGateway, want: "did not complete"},
		{name: "not a member ID", user: &webtest.User{ID: "bogus", Team: webtest.DefaultTeamID}, status: http.StatusBadGateway, want: "did not complete"},
		{name: "provider down", fault: webtest.Unavailable, status: http.StatusServiceUnavailable, want: "Slack&#39;s sign-in cannot be reached"},
		{name: "provider gone", before: func(f *signinFixture) { f.idp.Close() }, status: http.StatusServiceUnavailable, want: "Try again in a minute."},
		{name: "workspace unknown", before: func(f *signinFixture) { f.workspace.set("", other) }, status: http.StatusServiceUnavailable,
			want: "Ooda cannot check your workspace right now"},
		{name: "workspace empty", before: func(f *signinFixture) { f.workspace.set("", nil) }, status: http.StatusServiceUnavailable,
			want: "Ooda cannot check your workspace right now"},
		{name: "no workspace configured", edit: func(c *Config) { c.Workspace = nil }, status: http.StatusServiceUnavailable,
			want: "Ooda cannot check your workspace right now"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*Config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			f := newSigninFixture(t, edits...)
			if tt.fault != 0 {
				f.idp.Inject(tt.fault)
			}
			if tt.user != nil {
				f.idp.SetUser(*tt.user)
			}
			if tt.before != nil {
				tt.before(f)
			}
			resp, body := get(t, f.browser, f, whoamiPath)
			require.Equal(t, tt.status, resp.StatusCode, body)
			require.Equal(t, f.url.Host, resp.Request.URL.Host, "the refusal is the site's page")
			require.Contains(t, body, tt.want)
			require.Contains(t, body, `href="/signin?next=%2Ftest%2Fwhoami">Sign in with Slack</a>`, "a way to start again, back to the same page")
			require.NotContains(t, body, "eyJ", "no token on the page")
			require.Empty(t, f.cookie(sessionCookie))
			require.Zero(t, f.sessions(t), "no session is made")
		})
	}
}

// TestSignInDiscovery: New makes no call to the provider; the first
// sign-in discovers it, later ones use what it found, and a failed
// discovery is tried again.
func TestSignInDiscovery(t *testing.T) {
	const discovery = "/.well-known/openid-configuration"
	f := newSigninFixture(t)
	require.Zero(t, f.idp.Hits(discovery), "New makes no call")

	f.idp.Inject(webtest.Unavailable)
	resp, _ := get(t, f.browser, f, whoamiPath)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	f.signIn(t)
	require.Equal(t, 2, f.idp.Hits(discovery), "the failure was not kept")

	second := f.newBrowser(t)
	resp, _ = get(t, second, f, whoamiPath)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, 2, f.idp.Hits(discovery), "what was found was kept")
}

// TestSignInDiscoveryShared: people signing in at the same moment share
// one discovery.
func TestSignInDiscoveryShared(t *testing.T) {
	f := newSigninFixture(t)
	c := f.noFollow()
	const people = 8
	codes := make(chan int, people)
	var wg sync.WaitGroup
	for range people {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/signin", nil)
			resp, err := c.Do(req)
			if err != nil {
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		})
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		require.Equal(t, http.StatusSeeOther, code)
	}
	require.Equal(t, 1, f.idp.Hits("/.well-known/openid-configuration"))
}

// TestSignInStale: a callback whose state is not the browser's sign-in
// under way is refused, and so is a second use of one.
func TestSignInStale(t *testing.T) {
	for _, tt := range []struct {
		name string
		// callback returns the callback address to ask, given the one the
		// provider sent back.
		callback func(t *testing.T, f *signinFixture, c *http.Client, real string) string
	}{
		{"state mismatch", func(_ *testing.T, _ *signinFixture, _ *http.Client, real string) string {
			u, _ := url.Parse(real)
			q := u.Query()
			q.Set("state", "forged")
			u.RawQuery = q.Encode()
			return u.String()
		}},
		{"no state", func(_ *testing.T, _ *signinFixture, _ *http.Client, real string) string {
			u, _ := url.Parse(real)
			q := u.Query()
			q.Del("state")
			u.RawQuery = q.Encode()
			return u.String()
		}},
		{"no sign-in cookie", func(t *testing.T, f *signinFixture, _ *http.Client, real string) string {
			f.browser.Jar.SetCookies(f.url, []*http.Cookie{{Name: signinCookie, Value: "", Path: "/", MaxAge: -1}})
			require.Empty(t, f.cookie(signinCookie))
			return real
		}},
		{"garbled sign-in cookie", func(t *testing.T, f *signinFixture, _ *http.Client, real string) string {
			f.browser.Jar.SetCookies(f.url, []*http.Cookie{{Name: signinCookie, Value: "not-base64!", Path: "/", Secure: true}})
			return real
		}},
		{"sign-in took over ten minutes", func(_ *testing.T, f *signinFixture, _ *http.Client, real string) string {
			f.clock.advance(signinTTL)
			return real
		}},
		{"callback used twice", func(t *testing.T, f *signinFixture, c *http.Client, real string) string {
			resp, _ := get(t, c, f, real)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			n, err := f.db.DeleteSessions(t.Context(), webtest.DefaultUserID)
			require.NoError(t, err)
			require.Equal(t, 1, n, "the first use signed in")
			f.browser.Jar.SetCookies(f.url, []*http.Cookie{{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1}})
			require.Empty(t, f.cookie(sessionCookie))
			return real
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSigninFixture(t)
			c := f.noFollow()
			resp, _ := get(t, c, f, "/signin?next=%2Fincidents%2F7")
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			resp, _ = get(t, c, f, resp.Header.Get("Location"))
			require.Equal(t, http.StatusFound, resp.StatusCode)
			callback := tt.callback(t, f, c, resp.Header.Get("Location"))

			resp, body := get(t, c, f, callback)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, body)
			require.Contains(t, body, "This sign-in link is stale")
			require.Contains(t, body, "Start again.")
			require.Contains(t, body, `href="/signin`)
			require.Empty(t, f.cookie(sessionCookie))
			require.Zero(t, f.sessions(t))
		})
	}
}
