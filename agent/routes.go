package agent

import (
	"context"
	"fmt"
	"net/netip"
	"reflect"

	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
	rt "github.com/hearthbox/hearth/runtime"
)

// Proxy is what the agent needs of the reverse proxy.
type Proxy interface {
	Apply(ctx context.Context, routes []proxy.Route) error
}

var _ Proxy = (*proxy.Proxy)(nil)

// lanHost is an app's name on the LAN.
func (a *Agent) lanHost(app string) string { return app + "." + a.cfg.BoxName + ".local" }

// boxHost is the box's own LAN name.
func (a *Agent) boxHost() string { return a.cfg.BoxName + ".local" }

// appURLs are the addresses an app answers at through the proxy.
func (a *Agent) appURLs(app state.App) []string {
	if a.cfg.Proxy == nil {
		return nil
	}
	urls := []string{"https://" + a.lanHost(app.ID) + "/"}
	if app.Port > 0 {
		urls = append(urls, fmt.Sprintf("https://%s:%d/", a.boxHost(), app.Port))
	}
	if a.cfg.Domain != "" {
		urls = append(urls, "https://"+app.ID+"."+a.cfg.Domain+"/")
	}
	return urls
}

// routes gives the proxy one route per app with a web entry (and one more
// for its public name when the box has a domain).
func (a *Agent) routes(apps []state.App, observed []rt.ContainerInfo) []proxy.Route {
	byID := map[string]rt.ContainerInfo{}
	for _, o := range observed {
		byID[o.ID] = o
	}
	var out []proxy.Route
	for _, app := range apps {
		m, err := parseManifest(app.Manifest)
		if err != nil {
			continue
		}
		svc, port, ok := m.HTTPService()
		if !ok {
			continue
		}
		r := proxy.Route{ID: app.ID, Title: m.Title, Hosts: []string{a.lanHost(app.ID)}, Port: app.Port, PortHost: a.boxHost(), State: proxy.StateStopped}
		info, exists := byID[containerID(app.ID, svc)]
		switch {
		case app.Wanted == state.WantPending:
			r.State = proxy.StateStarting
		case app.Wanted == state.WantStopped:
		case exists && info.State == rt.StateRunning && info.IP.IsValid():
			r.State = proxy.StateRunning
			r.Upstream = "http://" + netip.AddrPortFrom(info.IP, uint16(port)).String()
		case app.Wanted == state.WantRunning:
			r.State = proxy.StateStarting
		}
		out = append(out, r)
		if a.cfg.Domain != "" {
			pub := r
			pub.ID, pub.Hosts, pub.Port, pub.PortHost, pub.HSTS = app.ID+"-public", []string{app.ID + "." + a.cfg.Domain}, 0, "", true
			out = append(out, pub)
		}
	}
	return out
}

// applyRoutes hands the proxy the routes, when they changed.
func (a *Agent) applyRoutes(ctx context.Context, apps []state.App) error {
	if a.cfg.Proxy == nil {
		return nil
	}
	observed, err := a.rt.List(ctx, "")
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	routes := a.routes(apps, observed)
	a.mu.Lock()
	same := reflect.DeepEqual(routes, a.lastRoutes)
	a.mu.Unlock()
	if same {
		return nil
	}
	if err := a.cfg.Proxy.Apply(ctx, routes); err != nil {
		return fmt.Errorf("proxy routes: %w", err)
	}
	a.mu.Lock()
	a.lastRoutes = routes
	a.mu.Unlock()
	return nil
}
