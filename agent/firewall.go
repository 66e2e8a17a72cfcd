package agent

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/hearthbox/hearth/agent/state"
)

// Firewall is what the agent needs of the host firewall: on every
// reconcile pass it is handed the ports the apps may be reached on, and it
// writes only what changed.
type Firewall interface {
	Apply(ctx context.Context, rules FirewallRules) error
}

// FirewallRules are the ports the owner granted to the installed apps.
type FirewallRules struct {
	Ports []FirewallPort
}

// FirewallPort is one granted port.
type FirewallPort struct {
	Port     int
	Protocol string // "tcp" or "udp"
	// LANOnly: reachable from the LAN only (an app's own port on the box's
	// LAN name, served by the proxy).
	LANOnly bool
	// App is the app the port is for.
	App string
}

// firewallRules gives, sorted: the ports an app's manifest publishes
// (which the owner granted with the "ports" permission at install), open to
// everyone unless the app is stopped; and, with a proxy, every web app's own
// port on the box's name, LAN only.
func (a *Agent) firewallRules(apps []state.App) FirewallRules {
	var r FirewallRules
	for _, app := range apps {
		m, err := parseManifest(app.Manifest)
		if err != nil {
			continue
		}
		if _, _, ok := m.HTTPService(); ok && a.cfg.Proxy != nil && app.Port > 0 {
			r.Ports = append(r.Ports, FirewallPort{Port: app.Port, Protocol: "tcp", LANOnly: true, App: app.ID})
		}
		if app.Wanted == state.WantStopped {
			continue
		}
		for _, svc := range m.Services {
			for _, p := range svc.Ports {
				r.Ports = append(r.Ports, FirewallPort{Port: p.Port, Protocol: p.Protocol, App: app.ID})
			}
		}
	}
	slices.SortFunc(r.Ports, func(x, y FirewallPort) int {
		return cmp.Or(cmp.Compare(x.Port, y.Port), cmp.Compare(x.Protocol, y.Protocol), cmp.Compare(x.App, y.App))
	})
	return r
}

// applyFirewall hands the firewall the apps' ports, on every pass: the
// firewall compares them (and the box's subnets) with what it wrote.
func (a *Agent) applyFirewall(ctx context.Context, apps []state.App) error {
	if a.cfg.Firewall == nil {
		return nil
	}
	if err := a.cfg.Firewall.Apply(ctx, a.firewallRules(apps)); err != nil {
		return fmt.Errorf("firewall: %w", err)
	}
	return nil
}
