package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

const (
	// maxBody is the largest request body the server reads.
	maxBody = 1 << 20
	// shutdownGrace is how long Serve waits for requests when ctx ends.
	shutdownGrace = 5 * time.Second
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Logger receives the server's warnings; nil discards them.
	Logger *slog.Logger
	// ProcDir is where a peer's process name is read (<ProcDir>/<pid>/comm);
	// "" = /proc.
	ProcDir string
}

// Server serves a Service over HTTP on a unix socket. Only root peers are
// served (SO_PEERCRED), and each request's context carries its actor.
type Server struct {
	svc     Service
	log     *slog.Logger
	procDir string
	handler http.Handler
}

// NewServer returns a Server for svc.
func NewServer(svc Service, cfg ServerConfig) *Server {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{svc: svc, log: log.With("component", "api"), procDir: cfg.ProcDir}
	if s.procDir == "" {
		s.procDir = "/proc"
	}
	s.handler = s.guard(s.routes())
	return s
}

// Serve answers requests on ln until ctx ends, then stops: requests in
// flight (event streams included) see their context end and get a few
// seconds to finish. It closes ln, which removes a socket file made by
// Listen. It returns nil when ctx ended, else why it stopped.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ConnContext:       s.connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve api: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		hs.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve api: %w", err)
	}
	return nil
}

// routes is the API's route table; docs/api.md describes each route.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("GET /v1/catalogs", s.catalogs)
	mux.HandleFunc("POST /v1/catalogs", s.addCatalog)
	mux.HandleFunc("POST /v1/catalogs/refresh", s.refreshCatalogs)
	mux.HandleFunc("DELETE /v1/catalogs/{id}", s.removeCatalog)
	mux.HandleFunc("GET /v1/store", s.store)
	mux.HandleFunc("GET /v1/apps", s.apps)
	mux.HandleFunc("POST /v1/apps", s.install)
	mux.HandleFunc("GET /v1/apps/{id}", s.app)
	mux.HandleFunc("DELETE /v1/apps/{id}", s.uninstall)
	mux.HandleFunc("POST /v1/apps/{id}/start", s.appAction(Service.Start))
	mux.HandleFunc("POST /v1/apps/{id}/stop", s.appAction(Service.Stop))
	mux.HandleFunc("POST /v1/apps/{id}/restart", s.appAction(Service.Restart))
	mux.HandleFunc("POST /v1/apps/{id}/rollback", s.appAction(Service.Rollback))
	mux.HandleFunc("POST /v1/apps/{id}/update", s.update)
	mux.HandleFunc("POST /v1/apps/{id}/move", s.move)
	mux.HandleFunc("GET /v1/apps/{id}/logs", s.logs)
	mux.HandleFunc("GET /v1/operations/{id}", s.operation)
	mux.HandleFunc("GET /v1/operations/{id}/events", s.operationEvents)
	mux.HandleFunc("GET /v1/activity", s.activity)
	s.backupRoutes(mux)
	s.reachRoutes(mux)
	s.notifyRoutes(mux)
	s.accountRoutes(mux)
	mux.HandleFunc("/", s.noRoute)
	return mux
}
