package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/ddns/firewall"
	"github.com/hearthbox/hearth/ddns/portmap"
)

// firewallAdapter gives the agent the firewall in the agent's own terms.
type firewallAdapter struct{ fw *firewall.Firewall }

var _ agent.Firewall = firewallAdapter{}

// Apply turns the agent's granted ports into the firewall's rules.
func (f firewallAdapter) Apply(ctx context.Context, r agent.FirewallRules) error {
	var rules firewall.Rules
	for i, p := range r.Ports {
		if p.Port < 1 || p.Port > 65535 {
			return fmt.Errorf("ports[%d]: app %s: port %d out of range: %w", i, p.App, p.Port, firewall.ErrInvalid)
		}
		rules.Ports = append(rules.Ports, firewall.Port{Port: uint16(p.Port), Protocol: p.Protocol, LANOnly: p.LANOnly})
	}
	return f.fw.Apply(ctx, rules)
}

// publicPorts are the ports of the proxy's addresses that listen beyond
// loopback (none with --dev's defaults).
func publicPorts(addrs ...string) ([]uint16, error) {
	var out []uint16
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, fmt.Errorf("address %q: %w", a, err)
		}
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() || host == "localhost" {
			continue
		}
		n, err := strconv.ParseUint(port, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("address %q: port must be 1-65535", a)
		}
		out = append(out, uint16(n))
	}
	return out, nil
}

// newFirewall is the host firewall when --firewall is on, else nil: 80 and
// 443 (the proxy's ports) open, the admin ports (--admin-ports, and the
// UI's own address) LAN only, the app bridges left to the runtime's chains.
func newFirewall(cfg config, log *slog.Logger) (agent.Firewall, error) {
	if !cfg.firewall {
		return nil, nil
	}
	web, err := publicPorts(cfg.httpAddr, cfg.httpsAddr)
	if err != nil {
		return nil, fmt.Errorf("firewall: %w", err)
	}
	admin := []uint16{}
	for _, s := range splitList(cfg.adminPorts) {
		n, err := strconv.ParseUint(s, 10, 16)
		if err != nil || n == 0 {
			return nil, fmt.Errorf("--admin-ports: %q must be a port number 1-65535", s)
		}
		admin = append(admin, uint16(n))
	}
	if cfg.ui != "" {
		ui, err := publicPorts(cfg.ui)
		if err != nil {
			return nil, fmt.Errorf("--ui: %w", err)
		}
		admin = append(admin, ui...)
	}
	fw, err := firewall.New(firewall.Config{WebPorts: web, AdminPorts: admin, AppInterfaces: []string{cfg.netPrefix},
		UPnP: cfg.upnp, Logger: log})
	if err != nil {
		return nil, err
	}
	return firewallAdapter{fw: fw}, nil
}

// newPortMapper keeps the proxy's public ports mapped on the router when
// --upnp is on, else nil.
func newPortMapper(cfg config, log *slog.Logger) (*portmap.Mapper, error) {
	if !cfg.upnp {
		return nil, nil
	}
	web, err := publicPorts(cfg.httpAddr, cfg.httpsAddr)
	if err != nil {
		return nil, fmt.Errorf("upnp: %w", err)
	}
	ports := []portmap.Port{}
	for _, p := range web {
		ports = append(ports, portmap.Port{Port: p, Protocol: portmap.TCP})
	}
	return portmap.New(portmap.Config{Ports: ports, Logger: log})
}
