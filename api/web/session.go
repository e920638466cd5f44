package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/ooda-sre/ooda/storage"
)

// Viewer is the person a request comes from: the Slack user signed in
// with the session its cookie names. The access rule is applied to User.
type Viewer struct {
	User    string
	Team    string
	Name    string
	Session string // the session's ID in the store
}

// sessionCookie names the session cookie. The __Host- prefix makes the
// browser refuse it unless it is Secure, for the whole site and for this
// host only, so a sibling domain cannot plant or read one.
const sessionCookie = "__Host-ooda_session"

// sessionID is the store's name for a cookie's secret: its SHA-256, so a
// copy of the store holds no cookie that works.
func sessionID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newSecret is a cookie's secret: 32 random bytes.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// viewer is the person signed in with r's session cookie, or nil when
// there is none, it is unknown to the store (revoked) or it has expired.
func (s *Site) viewer(r *http.Request) (*Viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	sess, ok, err := s.cfg.Store.Session(r.Context(), sessionID(c.Value))
	if err != nil || !ok {
		return nil, err
	}
	if !s.cfg.Now().Before(sess.ExpiresAt) {
		return nil, nil
	}
	return viewerOf(sess), nil
}

func viewerOf(sess storage.Session) *Viewer {
	return &Viewer{User: sess.User, Team: sess.Team, Name: sess.Name, Session: sess.ID}
}

// page is a handler of a page for a signed-in person.
type page func(w http.ResponseWriter, r *http.Request, v *Viewer)

// signedIn serves h to a signed-in person. Anyone else is sent to sign
// in and brought back to the page they asked for; without sign-in
// configured, the home page says how to configure it.
func (s *Site) signedIn(h page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.SignInEnabled() {
			s.render(w, r, http.StatusOK, "setup", layout{Title: "Turn on Sign in with Slack"})
			return
		}
		v, err := s.viewer(r)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if v == nil {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r, v)
	})
}

// signedInStream is signedIn for a live stream, which a script opens:
// without a session it answers 401 instead of a redirect to sign in.
func (s *Site) signedInStream(h page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewer(r)
		switch {
		case err != nil:
			s.internal(w, r, err)
		case v == nil || !s.SignInEnabled():
			http.Error(w, "sign in again: this page's session ended", http.StatusUnauthorized)
		default:
			h(w, r, v)
		}
	})
}
