package portmap

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"time"
)

// router is one protocol's client for the router found.
type router interface {
	protocol() string
	address() string
	externalAddr(ctx context.Context) (netip.Addr, error)
	add(ctx context.Context, p Port, lease time.Duration, description string) (Mapping, error)
	remove(ctx context.Context, m Mapping) error
}

// Mapper keeps ports mapped on the router: Run maps them, renews them at
// half their lease and removes them when its context ends; SetPorts changes
// the set; Close removes them all and turns the Mapper off.
type Mapper struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
	done chan struct{}

	// talk serializes conversations with the router; it is held across
	// network round trips and taken before mu.
	talk sync.Mutex
	// router is the router found, nil until one answers; guarded by talk.
	router router

	// mu guards the fields below (never held across a round trip).
	mu       sync.Mutex
	wanted   []Port
	mapped   map[Port]Mapping
	status   Status
	failures int
	closed   bool
}

// New checks cfg. Nothing is sent before Run or ExternalAddr.
func New(cfg Config) (*Mapper, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Mapper{cfg: cfg, log: cfg.Logger.With("component", "portmap"),
		wake: make(chan struct{}, 1), done: make(chan struct{}), mapped: map[Port]Mapping{}}
	m.wanted = slices.Clone(cfg.Ports)
	m.status.Enabled = len(m.wanted) > 0
	return m, nil
}

// Run keeps the ports mapped until ctx ends or Close is called; on ctx's
// end it removes the mappings (within twice Timeout) before returning.
func (m *Mapper) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*m.cfg.Timeout)
			defer cancel()
			if err := m.removeAll(cctx); err != nil {
				m.log.Warn("remove port mappings", "err", err)
			}
			return nil
		case <-m.done:
			return nil
		case <-m.wake:
		case <-t.C:
		}
		next, _ := m.pass(ctx)
		t.Stop()
		t.Reset(max(next.Sub(m.cfg.Now()), 0))
	}
}

// SetPorts replaces the ports to keep mapped; nil or empty turns mapping
// off (Run removes what is mapped). Run is woken at once.
func (m *Mapper) SetPorts(ports []Port) error {
	for i, p := range ports {
		if err := p.validate(fmt.Sprintf("ports[%d]", i)); err != nil {
			return err
		}
	}
	m.mu.Lock()
	m.wanted = slices.Clone(ports)
	m.status.Enabled = len(ports) > 0 && !m.closed
	m.failures = 0
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
	return nil
}

// Close removes every mapping and stops Run; the Mapper maps nothing more.
func (m *Mapper) Close(ctx context.Context) error {
	m.mu.Lock()
	already := m.closed
	m.closed, m.wanted, m.status.Enabled = true, nil, false
	m.mu.Unlock()
	if !already {
		close(m.done)
	}
	return m.removeAll(ctx)
}

// Status is a copy of the Mapper's status.
func (m *Mapper) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.status
	s.Mapped = m.sortedMapped()
	return s
}

// ExternalAddr asks the router for its public address (finding the router
// first if need be). The address discovery uses it as one source.
func (m *Mapper) ExternalAddr(ctx context.Context) (netip.Addr, error) {
	m.talk.Lock()
	defer m.talk.Unlock()
	r, err := m.findRouter(ctx)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := r.externalAddr(ctx)
	if err != nil {
		m.forgetOnSilence(err)
		return netip.Addr{}, err
	}
	m.mu.Lock()
	m.status.External, m.status.Updated = a, m.cfg.Now()
	m.mu.Unlock()
	return a, nil
}

// sortedMapped lists the mappings by port; mu must be held.
func (m *Mapper) sortedMapped() []Mapping {
	out := make([]Mapping, 0, len(m.mapped))
	for _, v := range m.mapped {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Mapping) int {
		return cmp.Or(cmp.Compare(a.Port.Port, b.Port.Port), cmp.Compare(a.Protocol, b.Protocol))
	})
	return out
}

// Sync brings the router's mappings to the wanted set once, renewing those
// past half their lease, and returns what failed. Run calls it on its own.
func (m *Mapper) Sync(ctx context.Context) error {
	_, err := m.pass(ctx)
	return err
}

// pass is Sync that also says when to come back: the earliest renewal, or
// a backoff after a failure.
func (m *Mapper) pass(ctx context.Context) (time.Time, error) {
	m.talk.Lock()
	defer m.talk.Unlock()
	m.mu.Lock()
	wanted := slices.Clone(m.wanted)
	mapped := m.sortedMapped()
	m.mu.Unlock()

	now := m.cfg.Now()
	if len(wanted) == 0 && len(mapped) == 0 {
		return now.Add(m.cfg.RetryMax), nil // off: nothing to ask the router
	}
	var errs []error
	r, err := m.findRouter(ctx)
	if err != nil {
		errs = append(errs, err)
	}
	for _, old := range mapped {
		if r == nil || slices.Contains(wanted, old.Port) {
			continue
		}
		if err := r.remove(ctx, old); err != nil {
			errs = append(errs, err)
			continue
		}
		m.log.Info("port mapping removed", "port", old.Port.String(), "protocol", r.protocol())
		m.mu.Lock()
		delete(m.mapped, old.Port)
		m.mu.Unlock()
	}
	next := now.Add(m.cfg.Lease / 2)
	for _, p := range wanted {
		if r == nil {
			break
		}
		m.mu.Lock()
		cur, ok := m.mapped[p]
		m.mu.Unlock()
		if ok && cur.Renew.After(now) {
			next = minTime(next, cur.Renew)
			continue
		}
		got, err := r.add(ctx, p, m.cfg.Lease, m.cfg.Description)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		renew := got.Lease / 2
		if got.Lease == 0 {
			renew = m.cfg.Lease / 2 // permanent: look again now and then
		}
		got.Renew = now.Add(max(renew, time.Second))
		next = minTime(next, got.Renew)
		m.log.Info("port mapped", "port", p.String(), "external", got.External, "lease", got.Lease, "protocol", r.protocol(), "renewed", ok)
		m.mu.Lock()
		m.mapped[p] = got
		m.mu.Unlock()
	}
	if r != nil {
		if a, err := r.externalAddr(ctx); err == nil {
			m.mu.Lock()
			m.status.External = a
			m.mu.Unlock()
		}
	}
	err = errors.Join(errs...)
	for _, e := range errs {
		m.forgetOnSilence(e)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.status.Updated = now
	if err == nil {
		m.failures, m.status.LastError = 0, ""
		return next, nil
	}
	m.failures++
	m.status.LastError = err.Error()
	m.log.Warn("port mapping failed", "err", err, "failures", m.failures)
	wait := m.cfg.RetryMin << min(m.failures-1, 20)
	if wait > m.cfg.RetryMax || wait <= 0 {
		wait = m.cfg.RetryMax
	}
	return minTime(next, now.Add(wait)), err
}

// removeAll deletes every mapping from the router.
func (m *Mapper) removeAll(ctx context.Context) error {
	m.talk.Lock()
	defer m.talk.Unlock()
	m.mu.Lock()
	mapped := m.sortedMapped()
	m.mu.Unlock()
	if len(mapped) == 0 || m.router == nil {
		return nil
	}
	var errs []error
	for _, old := range mapped {
		if err := m.router.remove(ctx, old); err != nil {
			errs = append(errs, err)
			continue
		}
		m.log.Info("port mapping removed", "port", old.Port.String(), "protocol", m.router.protocol())
		m.mu.Lock()
		delete(m.mapped, old.Port)
		m.mu.Unlock()
	}
	err := errors.Join(errs...)
	m.mu.Lock()
	if err != nil {
		m.status.LastError = err.Error()
	}
	m.mu.Unlock()
	return err
}

// forgetOnSilence drops the router when it stopped answering, so that the
// next pass looks for it again (it may have been replaced).
func (m *Mapper) forgetOnSilence(err error) {
	if !isNoAnswer(err) || m.router == nil {
		return
	}
	m.router = nil
	m.mu.Lock()
	m.mapped = map[Port]Mapping{}
	m.status.Protocol, m.status.Router = "", ""
	m.mu.Unlock()
}

// findRouter returns the router found before, or tries the protocols in
// order; talk must be held.
func (m *Mapper) findRouter(ctx context.Context) (router, error) {
	if m.router != nil {
		return m.router, nil
	}
	var errs []error
	gw := m.cfg.Gateway
	silent := false // the gateway ignored PCP: NAT-PMP would fare no better
	for _, p := range m.cfg.Protocols {
		var r router
		var err error
		switch p {
		case ProtoPCP, ProtoNATPMP:
			if silent {
				continue
			}
			if !gw.IsValid() {
				if gw, err = defaultGateway(); err != nil {
					silent = true
					break
				}
			}
			if p == ProtoPCP {
				c := newPCP(gw, m.cfg.Timeout)
				if err = c.probe(ctx); err == nil {
					r = c
				}
				silent = isNoAnswer(err)
			} else {
				c := &natpmp{gw: gw, timeout: m.cfg.Timeout}
				if _, err = c.externalAddr(ctx); err == nil {
					r = c
				}
			}
		case ProtoUPnP:
			err = ssdpSearch(ctx, m.cfg.SSDP, m.cfg.Timeout, func(ctx context.Context, loc *url.URL) error {
				u, err := discoverUPnP(ctx, m.cfg.HTTPClient, loc)
				if err == nil {
					r = u
				}
				return err
			})
		}
		if r != nil {
			m.router = r
			m.log.Info("router found", "protocol", r.protocol(), "router", r.address())
			m.mu.Lock()
			m.status.Protocol, m.status.Router = r.protocol(), r.address()
			m.mu.Unlock()
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: %w", ErrNoRouter, errors.Join(errs...))
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
