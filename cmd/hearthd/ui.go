package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hearthbox/hearth/proxy"
	"github.com/hearthbox/hearth/proxy/lanca"
	"github.com/hearthbox/hearth/web"
)

// uiHosts are the names the web UI answers to (besides IP literals): the
// box's configured name and its current host name under .local (the wizard
// renames the box through hostnamed), and localhost for development.
func uiHosts(boxName string) func() []string {
	return func() []string {
		hosts := []string{boxName + ".local", "localhost"}
		if h, err := os.Hostname(); err == nil && h != "" {
			h = strings.ToLower(h)
			hosts = append(hosts, h+".local", h)
		}
		return hosts
	}
}

// ownHost reports whether a request's host (already lower case, without
// port) names the box itself: the proxy's port 80 then serves the UI.
func ownHost(hosts func() []string) func(string) bool {
	return func(host string) bool {
		if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			return true
		}
		for _, h := range hosts() {
			if strings.EqualFold(h, host) {
				return true
			}
		}
		return false
	}
}

// lateHandler lets the proxy, made before the agent, serve the UI that is
// made after it; until then it answers 503.
type lateHandler struct {
	h atomic.Pointer[http.Handler]
}

func (l *lateHandler) set(h http.Handler) { l.h.Store(&h) }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := l.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	w.Header().Set("Retry-After", "2")
	http.Error(w, "Hearth is starting.", http.StatusServiceUnavailable)
}

// lateSessions lets the proxy, made before the UI, check Hearth sessions
// through the UI (web.UI is the proxy.Sessions); until the UI is made, every
// ticket and session is refused.
type lateSessions struct {
	s atomic.Pointer[web.UI]
}

var _ proxy.Sessions = (*web.UI)(nil)

func (l *lateSessions) set(u *web.UI) { l.s.Store(u) }

// RedeemTicket is the UI's, or a refusal before the UI is made.
func (l *lateSessions) RedeemTicket(ctx context.Context, app, ticket string) (string, bool) {
	if u := l.s.Load(); u != nil {
		return u.RedeemTicket(ctx, app, ticket)
	}
	return "", false
}

// SessionValid is the UI's, or false before the UI is made.
func (l *lateSessions) SessionValid(ctx context.Context, session string) bool {
	u := l.s.Load()
	return u != nil && u.SessionValid(ctx, session)
}

// appLoginURL is the UI's handoff for protected apps: on the box's own
// name, served by the proxy's HTTP port (httpAddr, ":80" by default).
func appLoginURL(boxName, httpAddr string) string {
	host := boxName + ".local"
	if _, port, err := net.SplitHostPort(httpAddr); err == nil && port != "80" && port != "" {
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + "/auth/app"
}

// newUI makes the web UI over the backend.
func newUI(cfg config, backend web.Backend, ca *lanca.CA, log *slog.Logger) (*web.UI, error) {
	wc := web.Config{Backend: backend, AllowedHosts: uiHosts(cfg.boxName), BoxName: func() string { return cfg.boxName }, Logger: log}
	if ca != nil {
		wc.RootCA, wc.RootCAFingerprint = ca.RootPEM(), ca.Fingerprint()
	}
	return web.New(wc)
}

// uiListener binds --ui ("" = none: the UI is then on the proxy's port 80
// only).
func uiListener(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--ui: %w", err)
	}
	return ln, nil
}

// serveUI serves the UI on its own listener until ctx ends. There is no
// write timeout: live progress and logs are long responses.
func serveUI(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	if ln == nil {
		return nil
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug), BaseContext: func(net.Listener) context.Context { return ctx }}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("web ui: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		_ = srv.Close()
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("web ui: %w", err)
	}
	return nil
}
