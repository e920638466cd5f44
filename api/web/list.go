package web

import "net/http"

func (s *Site) listPage(w http.ResponseWriter, r *http.Request, v *Viewer) {
	s.fail(w, r, v, http.StatusNotImplemented, "not built yet", "")
}
