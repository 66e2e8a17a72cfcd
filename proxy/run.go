package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
)

// Run serves until ctx ends, then shuts down: listeners close at once,
// requests in flight get Timeouts.Shutdown to finish, and whatever is left
// (and every WebSocket) is then cut. It returns nil after a shutdown asked for
// by ctx, or the error of a listener that failed. Run may be called once.
func (p *Proxy) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.state != stateNew {
		p.mu.Unlock()
		return fmt.Errorf("run proxy: %w", ErrClosed)
	}
	p.state = stateRunning
	// Requests outlive ctx for the grace period, then cancelBase ends them.
	p.base, p.cancelBase = context.WithCancel(context.WithoutCancel(ctx))
	fatal := make(chan error, 2)
	p.serveLocked(p.httpSrv, p.httpLn, false, fatal)
	p.serveLocked(p.httpsSrv, p.httpsLn, true, fatal)
	for _, l := range p.ports {
		p.serveLocked(p.portSrv, l, true, nil)
	}
	p.mu.Unlock()
	httpAddr, httpsAddr := p.Addrs()
	p.log.Info("serving", "http", httpAddr, "https", httpsAddr)

	var err error
	select {
	case <-ctx.Done():
	case err = <-fatal:
	}
	p.shutdown()
	p.log.Info("stopped")
	return err
}

// serveLocked starts serving l on srv. Errors of the main listeners go to
// fatal; those of route ports are logged unless Apply closed the port.
// p.mu must be held and the proxy running.
func (p *Proxy) serveLocked(srv *http.Server, l net.Listener, useTLS bool, fatal chan<- error) {
	p.serving.Add(1)
	go func() {
		defer p.serving.Done()
		var err error
		if useTLS {
			err = srv.ServeTLS(l, "", "")
		} else {
			err = srv.Serve(l)
		}
		if err == nil || errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
			return
		}
		if fatal != nil {
			fatal <- fmt.Errorf("serve %s: %w", l.Addr(), err)
			return
		}
		p.log.Warn("route port stopped", "addr", l.Addr().String(), "err", err)
	}()
}

// shutdown stops all servers, first gracefully, and waits for every handler
// and Serve goroutine.
func (p *Proxy) shutdown() {
	p.mu.Lock()
	p.state = stateStopped
	p.closePortsLocked()
	p.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), p.timeouts.Shutdown)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range []*http.Server{p.httpSrv, p.httpsSrv, p.portSrv} {
		wg.Go(func() {
			if err := srv.Shutdown(ctx); err != nil {
				p.log.Warn("requests cut at shutdown", "err", err)
				_ = srv.Close()
			}
		})
	}
	wg.Wait()
	// Hijacked connections (WebSockets) are not covered by Shutdown: ending
	// their requests' context makes the reverse proxy close them.
	p.cancelBase()
	p.inflight.closeAndWait()
	p.serving.Wait()
	p.transport.CloseIdleConnections()
	p.upstreams.retain(nil)
}

// inflight counts running handlers so that shutdown can wait for them.
type inflight struct {
	mu     sync.Mutex // guards closed and orders wg.Add before wg.Wait
	closed bool
	wg     sync.WaitGroup
}

func (f *inflight) add() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.wg.Add(1)
	return true
}

func (f *inflight) closeAndWait() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.wg.Wait()
}

// tracked counts h's calls in p.inflight; after shutdown it refuses requests.
func (p *Proxy) tracked(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.inflight.add() {
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		defer p.inflight.wg.Done()
		h.ServeHTTP(w, r)
	})
}
