package web

import "net/http"

func (s *Site) signIn(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, nil, http.StatusNotImplemented, "not built yet", "")
}

func (s *Site) signInCallback(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, nil, http.StatusNotImplemented, "not built yet", "")
}

func (s *Site) signOut(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, nil, http.StatusNotImplemented, "not built yet", "")
}
