package discover

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used; the
	// message names it.
	ErrInvalidConfig = errors.New("invalid discover config")
	// ErrUnsupported reports a source that cannot look up that family (the
	// router has no IPv6 external address, an echo service has no IPv6 URL).
	ErrUnsupported = errors.New("family not supported by this source")
	// ErrBadAnswer reports a source whose answer is not a usable address.
	ErrBadAnswer = errors.New("bad answer")
	// ErrNoMajority reports sources that answered but did not agree.
	ErrNoMajority = errors.New("sources disagree")
	// ErrNoAnswer reports a family no source could answer for.
	ErrNoAnswer = errors.New("no source answered")
)

// Family is an IP address family.
type Family int

// The families.
const (
	IPv4 Family = 4
	IPv6 Family = 6
)

// String returns "IPv4" or "IPv6".
func (f Family) String() string {
	switch f {
	case IPv4:
		return "IPv4"
	case IPv6:
		return "IPv6"
	}
	return fmt.Sprintf("Family(%d)", int(f))
}

// network returns the Go network name suffix ("4" or "6").
func (f Family) network(base string) string {
	if f == IPv6 {
		return base + "6"
	}
	return base + "4"
}

// Source is one way to learn the box's public address.
type Source interface {
	// Name identifies the source in results and logs ("stun:host:port").
	Name() string
	// Lookup returns the public address of the given family as this
	// source sees it, or an error (ErrUnsupported when it cannot tell).
	Lookup(ctx context.Context, family Family) (netip.Addr, error)
}

// Router is the part of a port-mapping client (ddns/portmap) that reports
// the router's external (WAN) address over UPnP IGD or NAT-PMP.
type Router interface {
	ExternalAddr(ctx context.Context) (netip.Addr, error)
}

// RouterSource is the Source over a Router. It answers IPv4 only: IGD and
// NAT-PMP report the router's IPv4 WAN address.
type RouterSource struct {
	router Router
}

var _ Source = (*RouterSource)(nil)

// NewRouterSource returns the Source over r.
func NewRouterSource(r Router) *RouterSource { return &RouterSource{router: r} }

// Name returns "router".
func (s *RouterSource) Name() string { return "router" }

// Lookup returns the router's external address.
func (s *RouterSource) Lookup(ctx context.Context, family Family) (netip.Addr, error) {
	if family != IPv4 {
		return netip.Addr{}, ErrUnsupported
	}
	a, err := s.router.ExternalAddr(ctx)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("router external address: %w", err)
	}
	a = a.Unmap()
	if !a.Is4() {
		return netip.Addr{}, fmt.Errorf("router external address %s: not IPv4: %w", a, ErrBadAnswer)
	}
	return a, nil
}
