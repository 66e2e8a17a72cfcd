package api

import (
	"net/http"
	"strconv"
)

// accountRoutes adds the routes of AccountService, SetupService and
// SetupCodeService (docs/api.md, docs/accounts.md, docs/firstboot.md).
func (s *Server) accountRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/login", s.login)
	mux.HandleFunc("POST /v1/logout", s.logout)
	mux.HandleFunc("POST /v1/sessions/authenticate", s.authenticate)
	mux.HandleFunc("GET /v1/sessions", s.sessions)
	mux.HandleFunc("DELETE /v1/sessions/{id}", s.revokeSession)
	mux.HandleFunc("GET /v1/users", s.users)
	mux.HandleFunc("POST /v1/users", s.addUser)
	mux.HandleFunc("DELETE /v1/users/{name}", s.removeUser)
	mux.HandleFunc("POST /v1/users/{name}/password", s.changePassword)
	mux.HandleFunc("POST /v1/users/{name}/totp", s.enrollTOTP)
	mux.HandleFunc("POST /v1/users/{name}/totp/confirm", s.confirmTOTP)
	mux.HandleFunc("POST /v1/users/{name}/totp/disable", s.disableTOTP)

	mux.HandleFunc("POST /v1/setup/state", s.setupState)
	mux.HandleFunc("POST /v1/setup/unlock", s.unlockSetup)
	mux.HandleFunc("POST /v1/setup/owner", s.setupOwner)
	mux.HandleFunc("POST /v1/setup/box", s.setupBox)
	mux.HandleFunc("POST /v1/setup/access", s.setupAccess)
	mux.HandleFunc("POST /v1/setup/apps", s.setupApps)
	mux.HandleFunc("POST /v1/setup/finish", s.finishSetup)
	mux.HandleFunc("POST /v1/setup/factory-reset", s.factoryReset)
	mux.HandleFunc("GET /v1/setup/code", s.setupCode)
}

// body decodes a required JSON body into a new T, or answers the error.
func body[T any](s *Server, w http.ResponseWriter, r *http.Request) (T, bool) {
	var v T
	if err := decode(w, r, &v, false); err != nil {
		s.fail(w, r, err)
		return v, false
	}
	return v, true
}

// userName returns the {name} path value, checked.
func (s *Server) userName(w http.ResponseWriter, r *http.Request) (string, bool) {
	name := r.PathValue("name")
	if err := checkName("user name", name); err != nil {
		s.fail(w, r, err)
		return "", false
	}
	return name, true
}

// done answers 204 or err.
func (s *Server) done(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	req, ok := body[LoginRequest](s, w, r)
	if !ok {
		return
	}
	res, err := s.svc.Login(r.Context(), req)
	s.answer(w, r, http.StatusOK, res, err)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	req, ok := body[TokenRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.Logout(r.Context(), req.Token))
}

func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) {
	req, ok := body[TokenRequest](s, w, r)
	if !ok {
		return
	}
	sess, err := s.svc.Authenticate(r.Context(), req.Token)
	s.answer(w, r, http.StatusOK, sess, err)
}

func (s *Server) sessions(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "user")
	if err == nil && q.Get("user") != "" {
		err = checkName("query parameter \"user\"", q.Get("user"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.svc.Sessions(r.Context(), q.Get("user"))
	s.answer(w, r, http.StatusOK, nonNil(list), err)
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	q, err := query(r, "user")
	if err == nil {
		err = checkName("session id", id)
	}
	if err == nil && q.Get("user") != "" {
		err = checkName("query parameter \"user\"", q.Get("user"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, s.svc.RevokeSession(r.Context(), q.Get("user"), id))
}

func (s *Server) users(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.svc.Users(r.Context())
	s.answer(w, r, http.StatusOK, nonNil(list), err)
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	req, ok := body[AddUserRequest](s, w, r)
	if !ok {
		return
	}
	u, err := s.svc.AddUser(r.Context(), req)
	s.answer(w, r, http.StatusCreated, u, err)
}

func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	name, ok := s.userName(w, r)
	if !ok {
		return
	}
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, s.svc.RemoveUser(r.Context(), name))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	name, ok := s.userName(w, r)
	if !ok {
		return
	}
	req, ok := body[PasswordChangeRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.ChangePassword(r.Context(), name, req.Old, req.New))
}

func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request) {
	name, ok := s.userName(w, r)
	if !ok {
		return
	}
	if err := decode(w, r, &struct{}{}, true); err != nil {
		s.fail(w, r, err)
		return
	}
	en, err := s.svc.EnrollTOTP(r.Context(), name)
	s.answer(w, r, http.StatusCreated, en, err)
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	name, ok := s.userName(w, r)
	if !ok {
		return
	}
	req, ok := body[CodeRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.ConfirmTOTP(r.Context(), name, req.Code))
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) {
	name, ok := s.userName(w, r)
	if !ok {
		return
	}
	req, ok := body[PasswordRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.DisableTOTP(r.Context(), name, req.Password))
}

func (s *Server) setupState(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if err := decode(w, r, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.SetupState(r.Context(), req.Token)
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) unlockSetup(w http.ResponseWriter, r *http.Request) {
	req, ok := body[CodeRequest](s, w, r)
	if !ok {
		return
	}
	token, err := s.svc.UnlockSetup(r.Context(), req.Code)
	s.answer(w, r, http.StatusOK, SetupTokenResponse{Token: token}, err)
}

func (s *Server) setupOwner(w http.ResponseWriter, r *http.Request) {
	req, ok := body[SetupOwnerRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.SetupOwner(r.Context(), req.Token, req.Name, req.Password))
}

func (s *Server) setupBox(w http.ResponseWriter, r *http.Request) {
	req, ok := body[SetupBoxWire](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.SetupBox(r.Context(), req.Token, req.SetupBoxRequest))
}

func (s *Server) setupAccess(w http.ResponseWriter, r *http.Request) {
	req, ok := body[SetupAccessWire](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.SetupAccess(r.Context(), req.Token, req.SetupAccessRequest))
}

func (s *Server) setupApps(w http.ResponseWriter, r *http.Request) {
	req, ok := body[SetupAppsRequest](s, w, r)
	if !ok {
		return
	}
	s.done(w, r, s.svc.SetupApps(r.Context(), req.Token, req.Apps))
}

func (s *Server) finishSetup(w http.ResponseWriter, r *http.Request) {
	req, ok := body[FinishSetupRequest](s, w, r)
	if !ok {
		return
	}
	res, err := s.svc.FinishSetup(r.Context(), req.Token, req.UserAgent)
	s.answer(w, r, http.StatusOK, res, err)
}

func (s *Server) factoryReset(w http.ResponseWriter, r *http.Request) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		s.fail(w, r, err)
		return
	}
	s.done(w, r, s.svc.FactoryReset(r.Context()))
}

func (s *Server) setupCode(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	code, err := s.svc.SetupCode(r.Context())
	s.answer(w, r, http.StatusOK, SetupCodeResponse{Code: code}, err)
}

// retryAfter is the Retry-After value of a delay: whole seconds, rounded up.
func retryAfter(e *RetryError) string {
	secs := int64((e.After + 999_999_999) / 1_000_000_000)
	return strconv.FormatInt(max(secs, 1), 10)
}
