package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
)

// noticeIDPattern is a notice id: 16 hex digits.
var noticeIDPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// notifyRoutes adds the routes of NotifyService (docs/notifications.md).
func (s *Server) notifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/notices", s.notices)
	mux.HandleFunc("POST /v1/notices/{id}/read", s.noticeAction(NotifyService.ReadNotice))
	mux.HandleFunc("POST /v1/notices/{id}/dismiss", s.noticeAction(NotifyService.DismissNotice))
	mux.HandleFunc("GET /v1/smtp", s.smtpSettings)
	mux.HandleFunc("PUT /v1/smtp", s.setSMTP)
	mux.HandleFunc("POST /v1/smtp/test", s.testSMTP)
}

func (s *Server) notices(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.svc.Notices(r.Context())
	s.answer(w, r, http.StatusOK, nonNil(list), err)
}

// noticeAction serves a route that changes one notice.
func (s *Server) noticeAction(fn func(NotifyService, context.Context, string) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		err := decode(w, r, &struct{}{}, true)
		if err == nil && !noticeIDPattern.MatchString(id) {
			err = fmt.Errorf("notice id %q: must be 16 of 0-9 and a-f: %w", id, ErrInvalid)
		}
		if err == nil {
			err = fn(s.svc, r.Context(), id)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) smtpSettings(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SMTPSettings(r.Context())
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) setSMTP(w http.ResponseWriter, r *http.Request) {
	var req SetSMTPRequest
	if err := decode(w, r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SetSMTP(r.Context(), req)
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) testSMTP(w http.ResponseWriter, r *http.Request) {
	err := decode(w, r, &struct{}{}, true)
	if err == nil {
		err = s.svc.TestSMTP(r.Context())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
