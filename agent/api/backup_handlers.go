package api

import (
	"fmt"
	"net/http"
)

// backupRoutes adds the routes of BackupService (docs/backup.md).
func (s *Server) backupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/backup", s.backupSettings)
	mux.HandleFunc("PUT /v1/backup", s.setBackupSettings)
	mux.HandleFunc("PUT /v1/backup/apps/{id}", s.setAppBackup)
	mux.HandleFunc("POST /v1/backup/apps/{id}", s.backupNow)
	mux.HandleFunc("GET /v1/backup/snapshots", s.snapshots)
	mux.HandleFunc("POST /v1/backup/restore", s.restore)
	mux.HandleFunc("POST /v1/backup/restore-box", s.restoreBox)
}

func (s *Server) backupSettings(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.BackupSettings(r.Context())
	st.Apps = nonNil(st.Apps)
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) setBackupSettings(w http.ResponseWriter, r *http.Request) {
	var req BoxBackupSettings
	if err := decode(w, r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SetBackupSettings(r.Context(), req)
	st.Apps = nonNil(st.Apps)
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) setAppBackup(w http.ResponseWriter, r *http.Request) {
	var req AppBackupSettings
	id, err := appID(r)
	if err == nil {
		err = decode(w, r, &req, false)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SetAppBackup(r.Context(), id, req)
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) backupNow(w http.ResponseWriter, r *http.Request) {
	id, err := appID(r)
	if err == nil {
		err = decode(w, r, &struct{}{}, true)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	op, err := s.svc.BackupNow(r.Context(), id)
	s.answer(w, r, http.StatusAccepted, op, err)
}

func (s *Server) snapshots(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "app")
	if err == nil && q.Get("app") != "" {
		err = checkApp("query parameter \"app\"", q.Get("app"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	snaps, err := s.svc.Snapshots(r.Context(), q.Get("app"))
	s.answer(w, r, http.StatusOK, nonNil(snaps), err)
}

func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	var req RestoreRequest
	err := decode(w, r, &req, false)
	if err == nil {
		err = checkApp("app", req.App)
	}
	if err == nil && req.As != "" {
		err = checkApp("as", req.As)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	op, err := s.svc.Restore(r.Context(), req)
	s.answer(w, r, http.StatusAccepted, op, err)
}

func (s *Server) restoreBox(w http.ResponseWriter, r *http.Request) {
	var req RestoreBoxRequest
	err := decode(w, r, &req, false)
	for _, a := range req.Apps {
		if err == nil {
			err = checkApp("apps", a)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ops, err := s.svc.RestoreBox(r.Context(), req)
	s.answer(w, r, http.StatusAccepted, nonNil(ops), err)
}

// checkApp checks an app id that is not in the path; field names it.
func checkApp(field, v string) error {
	if !appIDPattern.MatchString(v) {
		return fmt.Errorf("%s %q: must be 2 to 32 of a-z, 0-9 and '-', starting with a letter: %w", field, v, ErrInvalid)
	}
	return nil
}
