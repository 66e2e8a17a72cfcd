package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
)

// maxTail and maxActivity bound the numbers a client may ask for.
const (
	maxTail     = 100_000
	maxActivity = 10_000
)

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.svc.Status(r.Context())
	s.answer(w, r, http.StatusOK, st, err)
}

func (s *Server) catalogs(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	cs, err := s.svc.Catalogs(r.Context())
	s.answer(w, r, http.StatusOK, nonNil(cs), err)
}

func (s *Server) addCatalog(w http.ResponseWriter, r *http.Request) {
	var req AddCatalogRequest
	if err := decode(w, r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.svc.AddCatalog(r.Context(), req)
	s.answer(w, r, http.StatusCreated, c, err)
}

func (s *Server) refreshCatalogs(w http.ResponseWriter, r *http.Request) {
	var req RefreshCatalogsRequest
	if err := decode(w, r, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.ID != "" {
		if err := checkName("id", req.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	cs, err := s.svc.RefreshCatalogs(r.Context(), req.ID)
	s.answer(w, r, http.StatusOK, nonNil(cs), err)
}

func (s *Server) removeCatalog(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := checkName("catalog id", id)
	if err == nil {
		_, err = query(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.svc.RemoveCatalog(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) store(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "catalog")
	if err == nil && q.Get("catalog") != "" {
		err = checkName("query parameter \"catalog\"", q.Get("catalog"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.svc.CatalogApps(r.Context(), q.Get("catalog"))
	s.answer(w, r, http.StatusOK, nonNil(apps), err)
}

func (s *Server) apps(w http.ResponseWriter, r *http.Request) {
	if _, err := query(r); err != nil {
		s.fail(w, r, err)
		return
	}
	apps, err := s.svc.Apps(r.Context())
	s.answer(w, r, http.StatusOK, nonNil(apps), err)
}

func (s *Server) app(w http.ResponseWriter, r *http.Request) {
	id, err := appID(r)
	if err == nil {
		_, err = query(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.svc.App(r.Context(), id)
	s.answer(w, r, http.StatusOK, a, err)
}

func (s *Server) install(w http.ResponseWriter, r *http.Request) {
	var req InstallRequest
	if err := decode(w, r, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	op, err := s.svc.Install(r.Context(), req)
	s.answer(w, r, http.StatusAccepted, op, err)
}

// appAction serves the operations that take nothing but the app's id.
func (s *Server) appAction(do func(Service, context.Context, string) (Operation, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := appID(r)
		if err == nil {
			err = decode(w, r, &struct{}{}, true)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		op, err := do(s.svc, r.Context(), id)
		s.answer(w, r, http.StatusAccepted, op, err)
	}
}

func (s *Server) update(w http.ResponseWriter, r *http.Request) {
	var req UpdateRequest
	id, err := appID(r)
	if err == nil {
		err = decode(w, r, &req, true)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var op Operation
	if len(req.Manifest) > 0 {
		if req.Version != "" {
			s.fail(w, r, fmt.Errorf("version: not with a manifest: %w", ErrInvalid))
			return
		}
		op, err = s.svc.UpdateManifest(r.Context(), id, req.Manifest)
	} else {
		op, err = s.svc.Update(r.Context(), id, req.Version)
	}
	s.answer(w, r, http.StatusAccepted, op, err)
}

func (s *Server) move(w http.ResponseWriter, r *http.Request) {
	var req MoveRequest
	id, err := appID(r)
	if err == nil {
		err = decode(w, r, &req, true)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	app, err := s.svc.Move(r.Context(), id, req.Name)
	s.answer(w, r, http.StatusOK, app, err)
}

func (s *Server) uninstall(w http.ResponseWriter, r *http.Request) {
	id, err := appID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q, err := query(r, "keepData")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	keep, err := queryBool(q, "keepData")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	op, err := s.svc.Uninstall(r.Context(), id, keep)
	s.answer(w, r, http.StatusAccepted, op, err)
}

func (s *Server) operation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := checkName("operation id", id)
	if err == nil {
		_, err = query(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	op, err := s.svc.Operation(r.Context(), id)
	s.answer(w, r, http.StatusOK, op, err)
}

func (s *Server) activity(w http.ResponseWriter, r *http.Request) {
	q, err := query(r, "since", "limit")
	var since, limit uint64
	if err == nil {
		since, err = queryInt(q, "since", math.MaxUint64)
	}
	if err == nil {
		limit, err = queryInt(q, "limit", maxActivity)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acts, err := s.svc.Activity(r.Context(), since, int(limit))
	s.answer(w, r, http.StatusOK, nonNil(acts), err)
}

// answer replies v with status, or err.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.reply(w, status, v)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
