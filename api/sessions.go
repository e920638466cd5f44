package api

import (
	"context"
	"net/http"
	"strings"
)

// SessionRevoker ends web UI sessions; every storage.Store is one.
type SessionRevoker interface {
	// DeleteSessions ends every session of a Slack member and says how
	// many there were.
	DeleteSessions(ctx context.Context, user string) (int, error)
}

// Revoked is the answer of DELETE /api/v1/sessions.
type Revoked struct {
	User    string `json:"user"`
	Name    string `json:"name,omitempty"`
	Revoked int    `json:"revoked"`
}

// revokeSessions answers DELETE /api/v1/sessions?user=U…|@name: it signs
// a person out of the web UI everywhere (a lost laptop, a stolen cookie,
// someone who left before Slack deactivated them). Every replica reads
// sessions from the store, so it takes effect at their next request.
func (s *Server) revokeSessions(w http.ResponseWriter, r *http.Request) {
	v := strings.TrimSpace(r.URL.Query().Get("user"))
	if v == "" {
		writeError(w, http.StatusBadRequest, "name the person whose web sessions to end: user=U0123ABCD or user=@alice")
		return
	}
	id, refusal := s.owner(v)
	if refusal != nil {
		refusal.Error = strings.ReplaceAll(refusal.Error, "owner=", "user=")
		refusal.Error = strings.ReplaceAll(refusal.Error, "the owner", "the person")
		writeJSON(w, http.StatusBadRequest, refusal)
		return
	}
	n, err := s.cfg.Sessions.DeleteSessions(r.Context(), id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "web sessions revoked", "user", id, "sessions", n, "by", "api:"+tokenOf(r.Context()).Name)
	out := Revoked{User: id, Revoked: n}
	if s.cfg.People != nil {
		out.Name = s.cfg.People.Name(id)
	}
	writeJSON(w, http.StatusOK, out)
}
