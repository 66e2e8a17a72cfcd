package api

import "net/http"

// reachRoutes adds the routes of ReachService (docs/api.md, docs/reachability.md).
func (s *Server) reachRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/ddns", s.ddnsStatus)
	mux.HandleFunc("PUT /v1/ddns", s.setDDNS)
}

func (s *Server) ddnsStatus(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.DDNSStatus(r.Context())
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) setDDNS(w http.ResponseWriter, r *http.Request) {
	var req SetDDNSRequest
	if err := decode(w, r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SetDDNS(r.Context(), req)
	s.answer(w, r, http.StatusOK, st, err)
}
