package agent

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
	rt "github.com/hearthbox/hearth/runtime"
)

// Proxy is what the agent needs of the reverse proxy.
type Proxy interface {
	Apply(ctx context.Context, routes []proxy.Route) error
}

var _ Proxy = (*proxy.Proxy)(nil)

// lanHost is a name on the LAN.
func (a *Agent) lanHost(name string) string { return name + "." + a.cfg.BoxName + ".local" }

// hostName is the label an app answers at: its id, unless moved.
func hostName(app state.App) string {
	if app.Name != "" {
		return app.Name
	}
	return app.ID
}

// boxHost is the box's own LAN name.
func (a *Agent) boxHost() string { return a.cfg.BoxName + ".local" }

// appURLs are the addresses an app answers at through the proxy: none for
// an app without a web entry (a headless worker).
func (a *Agent) appURLs(app state.App) []string {
	if a.cfg.Proxy == nil {
		return nil
	}
	if m, err := parseManifest(app.Manifest); err != nil {
		return nil
	} else if _, _, ok := m.HTTPService(); !ok {
		return nil
	}
	urls := []string{"https://" + a.lanHost(hostName(app)) + "/"}
	if app.Port > 0 {
		urls = append(urls, fmt.Sprintf("https://%s:%d/", a.boxHost(), app.Port))
	}
	if a.cfg.Domain != "" {
		urls = append(urls, "https://"+hostName(app)+"."+a.cfg.Domain+"/")
	}
	return urls
}

// routes gives the proxy one route per app with a web entry (and one more
// for its public name when the box has a domain).
func (a *Agent) routes(apps []state.App, observed []rt.ContainerInfo, now time.Time) []proxy.Route {
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
		r := proxy.Route{ID: app.ID, Title: m.Title, Hosts: []string{a.lanHost(hostName(app))}, Port: app.Port, PortHost: a.boxHost(), State: proxy.StateStopped}
		if m.Protected {
			// Every route of the app shares one sign-in: tickets and
			// cookies are bound to the app id.
			r.Protected, r.AuthScope = true, app.ID
		}
		var public []proxy.Redirect
		for _, old := range app.OldNames {
			if old.Until.After(now) {
				r.OldHosts = append(r.OldHosts, proxy.Redirect{Host: a.lanHost(old.Name), Until: old.Until})
				public = append(public, proxy.Redirect{Host: old.Name + "." + a.cfg.Domain, Until: old.Until})
			}
		}
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
			pub.ID, pub.Hosts, pub.Port, pub.PortHost, pub.HSTS = app.ID+"-public", []string{hostName(app) + "." + a.cfg.Domain}, 0, "", true
			pub.OldHosts = public
			out = append(out, pub)
		}
	}
	return out
}

// applyRoutes opens the apps' ports in the firewall and hands the proxy
// the routes.
func (a *Agent) applyRoutes(ctx context.Context, apps []state.App) error {
	return errors.Join(a.applyFirewall(ctx, apps), a.applyProxy(ctx, apps))
}

// applyProxy hands the proxy the routes, when they changed.
func (a *Agent) applyProxy(ctx context.Context, apps []state.App) error {
	if a.cfg.Proxy == nil {
		return nil
	}
	observed, err := a.rt.List(ctx, "")
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	routes := a.routes(apps, observed, a.cfg.Now())
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

// oldNameGrace is how long an app's old name redirects to its new one.
const oldNameGrace = 30 * 24 * time.Hour

// Move gives an app another name; the old one redirects for 30 days.
func (a *Agent) Move(ctx context.Context, id, name string) (api.App, error) {
	if !appIDPattern.MatchString(name) {
		return api.App{}, fmt.Errorf("name: %q must be 2-32 of a-z, 0-9 and '-', starting with a letter: %w", name, api.ErrInvalid)
	}
	app, err := a.store.App(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.App{}, notFound("app %s is not installed", id)
	}
	if err != nil {
		return api.App{}, err
	}
	if hostName(app) == name {
		return a.App(ctx, id)
	}
	apps, err := a.store.Apps()
	if err != nil {
		return api.App{}, err
	}
	now := a.cfg.Now()
	for _, other := range apps {
		if other.ID == id {
			continue
		}
		taken := hostName(other) == name
		for _, old := range other.OldNames {
			taken = taken || (old.Name == name && old.Until.After(now))
		}
		if taken {
			return api.App{}, fmt.Errorf("name: %q is taken by app %s: %w", name, other.ID, api.ErrInvalid)
		}
	}
	var kept []state.OldName
	for _, old := range app.OldNames {
		if old.Name != name && old.Until.After(now) {
			kept = append(kept, old)
		}
	}
	app.OldNames = append(kept, state.OldName{Name: hostName(app), Until: now.Add(oldNameGrace)})
	app.Name = name
	if name == app.ID {
		app.Name = ""
	}
	if err := a.store.PutApp(app); err != nil {
		return api.App{}, err
	}
	a.activity(api.ActorFrom(ctx), id, "move", "done", name)
	a.poke()
	return a.App(ctx, id)
}
