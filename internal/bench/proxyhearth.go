package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"github.com/hearthbox/hearth/internal/accesslog"
	"github.com/hearthbox/hearth/proxy"
)

// hearthRouteID is the benchmark's one route.
const hearthRouteID = "bench"

// hearthProxy is Hearth's proxy, running in this process: its HTTPS port on
// 127.0.0.1, one route for benchHost to the backend, the test certificate
// served through a Certs of the benchmark's own.
type hearthProxy struct {
	runningProxy
	cancel context.CancelFunc
	// done is closed when Run has returned, with its error in runErr.
	done   chan struct{}
	runErr error
	alog   *accesslog.Sink
}

// startHearth starts Hearth's proxy, applies the benchmark's route and
// waits until it proxies to the backend.
func startHearth(ctx context.Context, env peerEnv, logger *slog.Logger) (*hearthProxy, error) {
	h := &hearthProxy{done: make(chan struct{})}
	h.Name = proxyHearth
	h.Version = hearthVersion()
	h.Setup = "proxy.New + Run + Apply in the benchmark's process: one Route for " + benchHost +
		" to the backend, Certs serving the test certificate, access log " + onOff(env.accessLog) +
		", GOMAXPROCS=" + strconv.Itoa(env.workers)
	cfg := proxy.Config{
		HTTPAddr:  "127.0.0.1:0",
		HTTPSAddr: "127.0.0.1:0",
		Certs:     benchCerts{leaf: &env.pki.Leaf},
		Logger:    logger,
	}
	if env.accessLog {
		// hearthd's own sink, as cmd/hearthd sets it up: one line written
		// per request, as nginx and Caddy write theirs.
		dir := filepath.Join(env.dir, proxyHearth)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("hearth proxy: %w", err)
		}
		h.alog = accesslog.New(dir, 10<<20, 3, logger)
		cfg.AccessLog = h.alog.Write
	}
	p, err := proxy.New(cfg)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("hearth proxy: %w", err), h.closeLog())
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.runErr = p.Run(runCtx)
	}()
	h.stop = h.shutdown
	// The benchmark's own goroutines only wait while wrk runs.
	h.pids = func() ([]int, error) { return []int{os.Getpid()}, nil }

	route := proxy.Route{
		ID:       hearthRouteID,
		Title:    "Proxy benchmark backend",
		Hosts:    []string{benchHost},
		Upstream: "http://" + env.backend,
		State:    proxy.StateRunning,
	}
	if err := p.Apply(ctx, []proxy.Route{route}); err != nil {
		return nil, errors.Join(fmt.Errorf("hearth proxy: %w", err), h.shutdown(context.WithoutCancel(ctx)))
	}
	_, httpsAddr := p.Addrs()
	_, port, err := net.SplitHostPort(httpsAddr)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("hearth proxy: address %q: %w", httpsAddr, err), h.shutdown(context.WithoutCancel(ctx)))
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("hearth proxy: address %q: %w", httpsAddr, err), h.shutdown(context.WithoutCancel(ctx)))
	}
	h.URL, h.port = proxyURL(n), n
	if err := waitProxying(ctx, env.pki.client(), h.URL, h.done); err != nil {
		if errors.Is(err, errPeerExited) {
			err = fmt.Errorf("its Run returned: %v", h.runErr)
		}
		return nil, errors.Join(fmt.Errorf("hearth proxy: %w", err), h.shutdown(context.WithoutCancel(ctx)))
	}
	return h, nil
}

// shutdown ends Run (which lets requests finish, then closes everything)
// and waits for it.
func (h *hearthProxy) shutdown(ctx context.Context) error {
	h.cancel()
	var err error
	select {
	case <-h.done:
		err = h.runErr
	case <-ctx.Done():
		err = ctx.Err()
	}
	if err != nil {
		err = fmt.Errorf("hearth proxy: %w", err)
	}
	return errors.Join(err, h.closeLog())
}

func (h *hearthProxy) closeLog() error {
	if h.alog == nil {
		return nil
	}
	return h.alog.Close()
}

// hearthVersion describes the Hearth build under test.
func hearthVersion() string {
	v := "hearth proxy (this tree)"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v = "hearth proxy " + s.Value[:12]
		}
	}
	return v + ", " + bi.GoVersion
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}
