package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/ooda-sre/ooda/people"
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

// errNoWorkspace is the bot's workspace not being known, which admits no
// one: not at sign-in, not with a session.
var errNoWorkspace = errors.New("web: the bot's Slack workspace is not known")

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

// setCookie sets one of the site's cookies, which are all __Host-:
// Secure, HttpOnly, for the whole site and never sent with a cross-site
// request other than a top-level navigation (Lax, so a link from Slack
// arrives signed in).
func setCookie(w http.ResponseWriter, name, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: int(ttl / time.Second),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// clearCookie tells the browser to forget one of the site's cookies. The
// attributes must be those it was set with, or a __Host- cookie is not
// replaced.
func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// startSession stores a new session of user in team and sets its cookie
// on w. A session r's cookie already names is ended first, so signing in
// again, perhaps as someone else, leaves nothing behind.
func (s *Site) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, user, team, name string) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := s.cfg.Store.DeleteSession(ctx, sessionID(c.Value)); err != nil {
			return fmt.Errorf("end the previous session: %w", err)
		}
	}
	now := s.cfg.Now().UTC()
	secret := newSecret()
	sess := storage.Session{
		ID: sessionID(secret), User: user, Team: team, Name: name,
		CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL),
	}
	if err := s.cfg.Store.SaveSession(ctx, sess); err != nil {
		return fmt.Errorf("save session: %w", err)
	}
	setCookie(w, sessionCookie, secret, s.cfg.SessionTTL)
	return nil
}

// viewer is the person signed in with r's session cookie, or nil when
// there is none or sessionViewer refuses its session.
func (s *Site) viewer(r *http.Request) (*Viewer, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil
	}
	return s.sessionViewer(r.Context(), sessionID(c.Value))
}

// sessionViewer is the person signed in with the session the store knows
// as id, or nil when it is unknown to the store (revoked), it has
// expired, its member was deactivated in Slack, or it belongs to a
// workspace other than the bot's (the bot was moved, or the session was
// made elsewhere). Without Config.Workspace no workspace is checked: no
// sign-in can have made the session, which only the demo (Admit) makes
// then. An error wrapping errNoWorkspace means the workspace could not be
// told, which admits no one. Pages and live streams both ask it, so a
// stream stands exactly as long as its page would.
func (s *Site) sessionViewer(ctx context.Context, id string) (*Viewer, error) {
	if id == "" {
		return nil, nil
	}
	sess, ok, err := s.cfg.Store.Session(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}
	if !ok || !s.cfg.Now().Before(sess.ExpiresAt) {
		return nil, nil
	}
	if s.cfg.Workspace != nil {
		team, err := s.workspace(ctx)
		if err != nil {
			return nil, err
		}
		if sess.Team != team {
			return nil, nil
		}
	}
	if s.deactivated(sess.User) {
		// Slack deactivated them since they signed in: the session ends
		// with their account, as their Slack sessions did.
		if err := s.cfg.Store.DeleteSession(ctx, sess.ID); err != nil {
			return nil, fmt.Errorf("end a deactivated member's session: %w", err)
		}
		s.cfg.Logger.InfoContext(ctx, "web session ended: the member was deactivated in Slack", "user", sess.User)
		return nil, nil
	}
	return viewerOf(sess), nil
}

// personLookup is a People that knows more than names: whether a member
// is still active. *directory.Directory is one.
type personLookup interface {
	Person(id string) (people.Person, bool)
}

// deactivated reports whether the directory knows user as deactivated.
// A member it does not know is not: names arrive later than sign-ins.
func (s *Site) deactivated(user string) bool {
	pl, ok := s.cfg.People.(personLookup)
	if !ok {
		return false
	}
	p, found := pl.Person(user)
	return found && p.Deleted
}

func viewerOf(sess storage.Session) *Viewer {
	return &Viewer{User: sess.User, Team: sess.Team, Name: sess.Name, Session: sess.ID}
}

// hasSessionCookie reports whether r carries a session cookie, which
// viewer refused when it found no one: the answer clears it.
func hasSessionCookie(r *http.Request) bool {
	c, err := r.Cookie(sessionCookie)
	return err == nil && c.Value != ""
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
		switch {
		case errors.Is(err, errNoWorkspace):
			s.cfg.Logger.WarnContext(r.Context(), "web session refused: the bot's workspace is not known", "err", err)
			s.fail(w, r, nil, http.StatusServiceUnavailable, "Ooda cannot check your workspace right now",
				"Ooda shows incidents only to people of the Slack workspace it is installed in, and it cannot tell which one that is yet. Try again in a minute.")
		case err != nil:
			s.internal(w, r, err)
		case v == nil:
			if hasSessionCookie(r) {
				clearCookie(w, sessionCookie)
			}
			http.Redirect(w, r, startURL(r.URL.RequestURI()), http.StatusSeeOther)
		default:
			h(w, r, v)
		}
	})
}

// signedInStream is signedIn for a live stream, which a script opens:
// without a session it answers 401 instead of a redirect to sign in.
func (s *Site) signedInStream(h page) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := s.viewer(r)
		switch {
		case errors.Is(err, errNoWorkspace):
			s.cfg.Logger.WarnContext(r.Context(), "web session refused: the bot's workspace is not known", "err", err)
			http.Error(w, "Ooda cannot check your workspace right now; try again in a minute", http.StatusServiceUnavailable)
		case err != nil:
			s.internal(w, r, err)
		case v == nil || !s.SignInEnabled():
			if hasSessionCookie(r) {
				clearCookie(w, sessionCookie)
			}
			http.Error(w, "sign in again: this page's session ended", http.StatusUnauthorized)
		default:
			h(w, r, v)
		}
	})
}
