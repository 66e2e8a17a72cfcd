package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strconv"
	"time"
)

// Apply makes routes the proxy's whole routing table. It is idempotent and
// atomic: the route set is validated first (an error wrapping
// ErrInvalidRoute names the field, as "routes[2].hosts[0]"), new route ports
// are opened and Certs.Manage is given every name that needs a certificate;
// only when all of that succeeded is the new table swapped in, and ports no
// longer used are closed. If anything fails nothing changes. Connections in
// flight are not dropped: they finish on the route they started with.
// Applying the set already in place does nothing.
func (p *Proxy) Apply(ctx context.Context, routes []Route) error {
	if err := validateRoutes(routes, p.reserved); err != nil {
		return err
	}
	p.applyMu.Lock()
	defer p.applyMu.Unlock()
	if p.stopped() {
		return fmt.Errorf("apply routes: %w", ErrClosed)
	}
	if p.managedOnce && reflect.DeepEqual(routes, p.applied) {
		return nil // the agent re-applies on every pass; nothing to do
	}

	next := buildTable(routes, p.setUpstream)
	opened, err := p.openPorts(routes)
	if err != nil {
		return err
	}
	undo := func() {
		for _, l := range opened {
			_ = l.Close()
		}
	}
	names := next.certNames(time.Now())
	if !p.managedOnce || !slices.Equal(names, p.managed) {
		if err := p.cfg.Certs.Manage(ctx, names); err != nil {
			undo()
			return fmt.Errorf("manage certificates: %w", err)
		}
		p.managed, p.managedOnce = names, true
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stateStopped {
		undo()
		return fmt.Errorf("apply routes: %w", ErrClosed)
	}
	p.table.Store(next)
	p.applied = cloneRoutes(routes)
	// Requests still on the old table put their connections back into a
	// closed pool, which closes them.
	p.upstreams.retain(next.upstreamAddrs())
	for port, l := range opened {
		p.ports[port] = l
		if p.state == stateRunning {
			p.serveLocked(p.portSrv, l, true, nil)
		}
	}
	for port, l := range p.ports {
		if _, keep := next.ports[port]; !keep {
			// Connections already accepted on it stay with the server.
			if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				p.log.Warn("close route port", "port", port, "err", err)
			}
			delete(p.ports, port)
		}
	}
	p.log.Info("routes applied", "routes", len(routes), "ports", len(p.ports), "names", len(names))
	return nil
}

func (p *Proxy) stopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == stateStopped
}

// cloneRoutes copies routes deeply enough that the caller may change its
// slices afterwards.
func cloneRoutes(routes []Route) []Route {
	out := slices.Clone(routes)
	for i := range out {
		out[i].Hosts = slices.Clone(out[i].Hosts)
		out[i].OldHosts = slices.Clone(out[i].OldHosts)
	}
	return out
}

// openPorts binds the route ports that are not open yet. On error it closes
// what it opened and names the route's port field.
func (p *Proxy) openPorts(routes []Route) (map[int]net.Listener, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state == stateStopped {
		return nil, fmt.Errorf("apply routes: %w", ErrClosed)
	}
	opened := map[int]net.Listener{}
	for i, r := range routes {
		if r.Port == 0 {
			continue
		}
		if _, open := p.ports[r.Port]; open {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(p.cfg.PortBind, strconv.Itoa(r.Port)))
		if err != nil {
			for _, o := range opened {
				_ = o.Close()
			}
			return nil, fmt.Errorf("routes[%d].port: %w", i, err)
		}
		opened[r.Port] = l
	}
	return opened, nil
}
