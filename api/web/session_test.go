package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ooda-sre/ooda/api/web/webtest"
	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage/storagetest"
)

// TestSessionEnds: a session lets its person in until it expires or is
// revoked, or its workspace stops being the bot's; then the page sends
// them to sign in again, back to where they were, and forgets the cookie.
func TestSessionEnds(t *testing.T) {
	for _, tt := range []struct {
		name string
		end  func(t *testing.T, f *signinFixture)
	}{
		{"expired after twelve hours", func(_ *testing.T, f *signinFixture) { f.clock.advance(12 * time.Hour) }},
		{"expired long ago", func(_ *testing.T, f *signinFixture) { f.clock.advance(30 * 24 * time.Hour) }},
		{"revoked", func(t *testing.T, f *signinFixture) {
			sess, ok := f.session(t)
			require.True(t, ok)
			require.NoError(t, f.db.DeleteSession(t.Context(), sess.ID))
		}},
		{"every session of the person revoked", func(t *testing.T, f *signinFixture) {
			n, err := f.db.DeleteSessions(t.Context(), webtest.DefaultUserID)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}},
		{"the bot moved to another workspace", func(_ *testing.T, f *signinFixture) { f.workspace.set("T0NEW000001", nil) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSigninFixture(t)
			f.signIn(t)
			f.clock.advance(12*time.Hour - time.Second)
			resp, body := get(t, f.noFollow(), f, whoamiPath)
			require.Equal(t, http.StatusOK, resp.StatusCode, "a second before it expires the session still works: %s", body)
			f.clock.advance(-(12*time.Hour - time.Second))

			tt.end(t, f)
			resp, _ = get(t, f.noFollow(), f, whoamiPath+"?a=b")
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			require.Equal(t, "/signin?next="+url.QueryEscape(whoamiPath+"?a=b"), resp.Header.Get("Location"))
			require.Contains(t, cookieLines(resp, sessionCookie)[0], "Max-Age=0", "the refused cookie is cleared")
			require.Empty(t, f.cookie(sessionCookie))
		})
	}
}

// TestSessionWorkspaceUnknown: while the bot's workspace cannot be told,
// a session lets no one in, and the page says why rather than sending
// them round to sign in.
func TestSessionWorkspaceUnknown(t *testing.T) {
	f := newSigninFixture(t)
	f.signIn(t)
	f.workspace.set("", errors.New("auth.test: timeout"))
	resp, body := get(t, f.noFollow(), f, whoamiPath)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Contains(t, body, "Ooda cannot check your workspace right now")
	require.NotContains(t, body, webtest.DefaultUserID)
	_, ok := f.session(t)
	require.True(t, ok, "the session is kept for when the workspace is known again")

	f.workspace.set(webtest.DefaultTeamID, nil)
	resp, _ = get(t, f.noFollow(), f, whoamiPath)
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestSessionStream: a live stream, which a script opens, answers 401
// rather than a redirect when the session is gone, and 503 while the
// workspace cannot be told.
func TestSessionStream(t *testing.T) {
	const live = "/incidents/1/live"
	f := newSigninFixture(t)
	resp, body := get(t, f.noFollow(), f, live)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	require.Empty(t, cookieLines(resp, sessionCookie), "no cookie, none to clear")

	f.signIn(t)
	f.workspace.set("", errors.New("auth.test: timeout"))
	resp, _ = get(t, f.noFollow(), f, live)
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	f.workspace.set(webtest.DefaultTeamID, nil)

	f.clock.advance(12 * time.Hour)
	resp, _ = get(t, f.noFollow(), f, live)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Contains(t, cookieLines(resp, sessionCookie)[0], "Max-Age=0", "the expired cookie is cleared")
}

// TestSignOut: signing out deletes the stored session, so a copy of the
// cookie is worthless, forgets the cookie, and lands on a page that says
// so without signing in again.
func TestSignOut(t *testing.T) {
	f := newSigninFixture(t)
	f.signIn(t)
	secret := f.cookie(sessionCookie)

	c := f.noFollow()
	resp, _ := do(t, c, f, http.MethodPost, "/signout", "Sec-Fetch-Site", "same-origin", "Origin", f.srv.URL)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Equal(t, signedOutPath, resp.Header.Get("Location"))
	require.Contains(t, cookieLines(resp, sessionCookie)[0], "Max-Age=0")
	require.Empty(t, f.cookie(sessionCookie))
	_, ok, err := f.db.Session(t.Context(), sessionID(secret))
	require.NoError(t, err)
	require.False(t, ok, "the session is deleted from the store")
	require.Contains(t, f.log.String(), `msg="web sign-out" user=`+webtest.DefaultUserID)

	resp, body := get(t, c, f, signedOutPath)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "<h1 id=\"signin-title\">You signed out</h1>")
	require.Contains(t, body, `<a class="button" href="/signin">Sign in with Slack</a>`)
	require.Len(t, f.idp.Authorizations(), 1, "the signed-out page does not sign in again")

	// The old cookie, replayed, lets no one in.
	stolen := f.newBrowser(t)
	stolen.Jar.SetCookies(f.url, []*http.Cookie{{Name: sessionCookie, Value: secret, Path: "/", Secure: true}})
	stolen.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, _ = get(t, stolen, f, whoamiPath)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)

	// Signing out again, or without a session, is harmless.
	resp, _ = do(t, c, f, http.MethodPost, "/signout")
	require.Equal(t, http.StatusSeeOther, resp.StatusCode)
	require.Zero(t, f.sessions(t))
}

// TestSignOutCrossSite: a cross-site POST cannot sign anyone out.
func TestSignOutCrossSite(t *testing.T) {
	for _, tt := range []struct {
		name string
		hdr  []string
	}{
		{"Sec-Fetch-Site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"Sec-Fetch-Site same-site", []string{"Sec-Fetch-Site", "same-site"}},
		{"foreign Origin", []string{"Origin", "https://evil.example"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newSigninFixture(t)
			f.signIn(t)
			resp, _ := do(t, f.noFollow(), f, http.MethodPost, "/signout", tt.hdr...)
			require.Equal(t, http.StatusForbidden, resp.StatusCode)
			require.Empty(t, cookieLines(resp, sessionCookie), "the cookie is left alone")
			_, ok := f.session(t)
			require.True(t, ok, "the session still exists")
			resp, _ = get(t, f.noFollow(), f, whoamiPath)
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

// TestSignInNext: after signing in, a person lands on a page of the
// site, whatever next says.
func TestSignInNext(t *testing.T) {
	for _, tt := range []struct{ next, want string }{
		{"/incidents/7", "/incidents/7"},
		{"/test/whoami?x=1&y=2", "/test/whoami?x=1&y=2"},
		{"", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"///evil.example/", "/"},
		{`/\evil.example/`, "/"},
		{"/\t/evil.example/", "/"},
		{"/\n/evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
		{"http:/evil.example", "/"},
	} {
		t.Run(tt.next, func(t *testing.T) {
			f := newSigninFixture(t)
			resp, _ := get(t, f.browser, f, "/signin?next="+url.QueryEscape(tt.next))
			require.Equal(t, f.url.Host, resp.Request.URL.Host)
			require.Equal(t, tt.want, resp.Request.URL.RequestURI())
			require.NotEmpty(t, f.cookie(sessionCookie), "signed in")
		})
	}
}

// TestSignInNextSameOrigin: a signed-in person sent to /signin with a
// next that a browser, or http.Redirect's cleaning, would turn into
// another host is sent to a path of the site instead: the Location
// header names no other origin however it is read.
func TestSignInNextSameOrigin(t *testing.T) {
	f := newSigninFixture(t)
	f.signIn(t)
	for _, raw := range []string{
		"/./%5Cevil.com", "/%2e/%5Cevil.com", "/x/..%2F%5Cevil.com", "/%5c%5cevil", "/.%2F/evil",
		"/%2F%2Fevil", "/%2F%5Cevil", "/./%2F/evil", "/%09/evil", "/%0A/evil", "/%5C/evil",
		"/%EF%BC%8Fevil", "/%EF%BC%8F%EF%BC%8Fevil", "/%E2%88%95evil", "/.%2F.%2F%2Fevil",
		"%2F%2Fevil", "https://evil.example", "/x/..%2F..%2F%2Fevil",
	} {
		t.Run(raw, func(t *testing.T) {
			resp, _ := get(t, f.noFollow(), f, "/signin?next="+raw)
			require.Equal(t, http.StatusSeeOther, resp.StatusCode)
			loc := resp.Header.Get("Location")
			requireSameOrigin(t, loc)
		})
	}
	// A path of the site still goes through, cleaned.
	resp, _ := get(t, f.noFollow(), f, "/signin?next="+url.QueryEscape("/incidents/../incidents/7?x=1"))
	require.Equal(t, "/incidents/7?x=1", resp.Header.Get("Location"))
}

// requireSameOrigin fails unless loc, as a browser reads it (backslashes
// as slashes, tabs and newlines dropped, escapes decoded), is a path of
// the site it came from.
func requireSameOrigin(t *testing.T, loc string) {
	t.Helper()
	require.True(t, strings.HasPrefix(loc, "/"), "Location %q is a path", loc)
	read := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(loc)
	decoded, err := url.PathUnescape(read)
	require.NoError(t, err)
	for _, p := range []string{read, decoded, strings.ReplaceAll(decoded, "\\", "/"), strings.ReplaceAll(decoded, "\uff0f", "/")} {
		require.False(t, strings.HasPrefix(p, "//"), "Location %q reads as another host (%q)", loc, p)
	}
	u, err := url.Parse(read)
	require.NoError(t, err)
	require.Empty(t, u.Host, "Location %q", loc)
	require.Empty(t, u.Scheme, "Location %q", loc)
}

func TestLocalPath(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"/", "/"},
		{"/incidents/7/postmortem", "/incidents/7/postmortem"},
		{"/?status=open&page=2", "/?status=open&page=2"},
		{"/a\\b", "/"},
		{"/a%5Cb", "/"},
		{"/./%5Cevil.com", "/"},
		{"/%2e/%5Cevil.com", "/"},
		{"/x/..%2F%5Cevil.com", "/"},
		{"/%5c%5cevil", "/"},
		{"/.%2F/evil", "/evil"},
		{"/%2F%2Fevil", "/"},
		{"/./.%2F/evil", "/evil"},
		{"/\t/evil", "/"},
		{"/%09/evil", "/"},
		{"/%0a/evil", "/"},
		{"/\u00a0x\u0085", "/"},
		{"/\uff0fevil", "/"},
		{"/%EF%BC%8Fevil", "/"},
		{"/\u2215evil", "/"},
		{"/x/../incidents/7", "/incidents/7"},
		{"/incidents/7/", "/incidents/7/"},
		{"/incidents/7?next=//evil#frag", "/incidents/7?next=//evil"},
		{"/a%20b", "/a%20b"},
		{"", "/"},
		{"//evil.example", "/"},
		{`/\evil.example`, "/"},
		{"/\x00", "/"},
		{"/\x7f", "/"},
		{"https://evil.example", "/"},
		{"incidents", "/"},
		{"/%zz", "/"},
		{"/" + strings.Repeat("a", maxNext), "/"},
	} {
		require.Equal(t, tt.want, localPath(tt.in), "localPath(%q)", tt.in)
	}
}

// TestSignInOff: without sign-in configured, every sign-in route and
// every page says how to turn it on, and no provider is asked.
func TestSignInOff(t *testing.T) {
	s, err := New(Config{Store: storagetest.Open(t), Issuer: "http://127.0.0.1:1"})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	mux := http.NewServeMux()
	s.Register(mux)
	for _, path := range []string{"/signin", "/signin?next=/x", "/signin/callback?state=a&code=b", "/"} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
		require.Equal(t, http.StatusOK, w.Code, path)
		require.Contains(t, w.Body.String(), "Turn on Sign in with Slack", path)
	}
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/signout", nil))
	require.Equal(t, http.StatusSeeOther, w.Code)
	require.Equal(t, "/", w.Header().Get("Location"))
}

// TestSignInPageMarkup: the sign-in page has one h1, its language, and a
// link, not a script, to sign in.
func TestSignInPageMarkup(t *testing.T) {
	f := newSigninFixture(t)
	resp, body := get(t, f.browser, f, signedOutPath)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, `<html lang="en">`)
	require.Equal(t, 1, strings.Count(body, "<h1"))
	require.NotContains(t, body, "<script")
	require.Equal(t, ContentSecurityPolicy, resp.Header.Get("Content-Security-Policy"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
}

// directoryOf is a People that knows whether members are active.
type directoryOf map[string]people.Person

func (d directoryOf) Name(id string) string                     { return d[id].RealName }
func (d directoryOf) Names(context.Context) func(string) string { return d.Name }
func (d directoryOf) Person(id string) (people.Person, bool)    { p, ok := d[id]; return p, ok }

// TestSessionEndsWhenSlackDeactivatesTheMember: someone signed in and
// then deactivated in Slack (they left the company) is out of the web
// UI at their next request, and their session is gone from the store.
func TestSessionEndsWhenSlackDeactivatesTheMember(t *testing.T) {
	dir := directoryOf{webtest.DefaultUserID: {ID: webtest.DefaultUserID, RealName: "Alice Chen"}}
	f := newSigninFixture(t, func(c *Config) { c.People = dir })
	f.signIn(t)
	resp, body := get(t, f.noFollow(), f, whoamiPath)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	sess, ok := f.session(t)
	require.True(t, ok)

	dir[webtest.DefaultUserID] = people.Person{ID: webtest.DefaultUserID, RealName: "Alice Chen", Deleted: true}
	resp, _ = get(t, f.noFollow(), f, whoamiPath)
	require.Equal(t, http.StatusSeeOther, resp.StatusCode, "sent to sign in, which Slack will refuse")
	_, ok, err := f.db.Session(t.Context(), sess.ID)
	require.NoError(t, err)
	require.False(t, ok, "the session record is deleted, not just refused")
}
