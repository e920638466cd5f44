package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/ooda-sre/ooda/people"
	"github.com/ooda-sre/ooda/storage"
)

// Admit signs user of team in on the browser w answers, without asking
// Slack: it stores a session and sets its cookie, as Sign in with Slack's
// callback does. Only `ooda demo --serve` calls it, from a route of its
// own, so a person can look at the demo's incident with nothing
// configured; `ooda serve` has no route that reaches it.
func (s *Site) Admit(ctx context.Context, w http.ResponseWriter, user, team, name string) error {
	if !people.IsMemberID(user) || team == "" {
		return errors.New("web: admit needs a Slack member ID and a team")
	}
	now := s.cfg.Now().UTC()
	secret := newSecret()
	sess := storage.Session{ID: sessionID(secret), User: user, Team: team, Name: name, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.cfg.Store.SaveSession(ctx, sess); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: secret, Path: "/", MaxAge: int(s.cfg.SessionTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	return nil
}
