package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"sort"
	"sync"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
	rt "github.com/hearthbox/hearth/runtime"
)

// Status sums up the box.
func (a *Agent) Status(ctx context.Context) (api.Status, error) {
	apps, err := a.Apps(ctx)
	if err != nil {
		return api.Status{}, err
	}
	st := api.Status{Version: a.cfg.Version, Started: a.started, Apps: len(apps), Platform: a.cfg.Platform, DataRoot: a.cfg.DataRoot}
	for _, app := range apps {
		switch app.State {
		case "running", "healthy":
			st.Running++
		case "unhealthy", "failed":
			st.Unhealthy++
		}
	}
	select {
	case <-a.ready:
		st.Ready = true
	default:
	}
	return st, nil
}

// Apps lists the installed apps with their live state.
func (a *Agent) Apps(ctx context.Context) ([]api.App, error) {
	recs, err := a.store.Apps()
	if err != nil {
		return nil, err
	}
	sortApps(recs)
	infos, err := a.rt.List(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]api.App, 0, len(recs))
	for _, r := range recs {
		out = append(out, a.appView(r, infos))
	}
	return out, nil
}

// App shows one installed app.
func (a *Agent) App(ctx context.Context, id string) (api.App, error) {
	r, err := a.store.App(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.App{}, notFound("app %s is not installed", id)
	}
	if err != nil {
		return api.App{}, err
	}
	infos, err := a.rt.List(ctx, id)
	if err != nil {
		return api.App{}, fmt.Errorf("list containers: %w", err)
	}
	return a.appView(r, infos), nil
}

func (a *Agent) appView(r state.App, infos []rt.ContainerInfo) api.App {
	v := api.App{ID: r.ID, Name: hostName(r), Catalog: r.CatalogID, Version: r.Version, PreviousVersion: r.PreviousVersion,
		Wanted: r.Wanted, Installed: r.Installed, Updated: r.Updated}
	m, err := parseManifest(r.Manifest)
	if err == nil {
		v.Title, v.Notes = m.Title, m.PostInstallNotes
		for _, s := range m.Settings {
			kv := api.SettingKV{ID: s.ID, Label: s.Label, Value: r.Settings[s.ID], Secret: s.Type == manifest.TypeSecret || s.Type == manifest.TypePassword}
			if kv.Secret {
				kv.Value = ""
			}
			v.Settings = append(v.Settings, kv)
		}
	}
	byID := map[string]rt.ContainerInfo{}
	for _, i := range infos {
		if i.Group == r.ID {
			byID[i.ID] = i
		}
	}
	if err == nil {
		names := make([]string, 0, len(m.Services))
		for n := range m.Services {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			svc := api.AppService{Name: n, Container: containerID(r.ID, n), Image: r.Images[n], State: "absent"}
			if i, ok := byID[svc.Container]; ok {
				svc.State, svc.Health, svc.ExitCode, svc.OOMKilled = string(i.State), string(i.Health), i.ExitCode, i.OOMKilled
				if i.IP.IsValid() {
					svc.IP = i.IP.String()
					if port := m.Services[n].HTTPPort; port > 0 && i.State == rt.StateRunning && a.cfg.Proxy == nil {
						// Without the proxy, the app is reached on its bridge.
						v.URLs = append(v.URLs, "http://"+netip.AddrPortFrom(i.IP, uint16(port)).String()+"/")
					}
				}
			}
			v.Services = append(v.Services, svc)
		}
	}
	if ops, err := a.store.Ops(r.ID, 1); err == nil && len(ops) > 0 && ops[0].State == opRunning {
		op := toAPIOp(ops[0])
		v.Operation = &op
	}
	v.URLs = append(v.URLs, a.appURLs(r)...)
	v.State = summarize(v)
	return v
}

// summarize gives an app one word: what the owner sees on its icon.
func summarize(v api.App) string {
	if v.Operation != nil {
		switch v.Operation.Kind {
		case OpInstall:
			return "installing"
		case OpUpdate, OpRollback:
			return "updating"
		case OpUninstall:
			return "removing"
		}
	}
	if v.Wanted == "stopped" {
		return "stopped"
	}
	if v.Wanted == state.WantPending {
		return "installing"
	}
	state := "healthy"
	for _, s := range v.Services {
		switch {
		case s.State == "absent" || s.State == string(rt.StateCreated):
			return "starting"
		case s.State == string(rt.StateStopped):
			return "failed"
		case s.Health == string(rt.HealthUnhealthy):
			return "unhealthy"
		case s.Health == string(rt.HealthStarting):
			state = "starting"
		case s.Health == "" && state == "healthy":
			state = "running"
		}
	}
	return state
}

// Install installs an app from a catalog.
func (a *Agent) Install(ctx context.Context, req api.InstallRequest) (api.Operation, error) {
	if !appIDPattern.MatchString(req.App) {
		return api.Operation{}, fmt.Errorf("app: %q is not an app id: %w", req.App, api.ErrInvalid)
	}
	if _, err := a.store.App(req.App); err == nil {
		return api.Operation{}, fmt.Errorf("app %s is already installed: %w", req.App, api.ErrInvalid)
	}
	if len(req.Manifest) > 0 && (req.Catalog != "" || req.Version != "") {
		return api.Operation{}, fmt.Errorf("catalog, version: not with a manifest: %w", api.ErrInvalid)
	}
	rel, err := a.releaseFor(req.Catalog, req.App, req.Version, req.Manifest)
	if err != nil {
		return api.Operation{}, err
	}
	if _, err := imageRefs(rel.Manifest, a.cfg.Platform); err != nil {
		return api.Operation{}, err
	}
	if _, _, err := resolveSettings(rel.Manifest, req.Settings, nil, nil); err != nil {
		return api.Operation{}, err
	}
	if err := a.admit(rel); err != nil {
		return api.Operation{}, err
	}
	grants, err := parseGrants(req.Grants)
	if err != nil {
		return api.Operation{}, err
	}
	if err := a.admitHost(rel.Manifest, grants, grantHint); err != nil {
		return api.Operation{}, err
	}
	p := installParams{Catalog: rel.Catalog, Version: rel.Version, Settings: req.Settings, Manifest: req.Manifest, Grants: grants}
	if len(req.Manifest) > 0 {
		p.Catalog, p.Version = "", ""
	}
	return a.begin(ctx, req.App, OpInstall, p)
}

func (a *Agent) installed(id string) error {
	if _, err := a.store.App(id); errors.Is(err, state.ErrNotFound) {
		return notFound("app %s is not installed", id)
	} else if err != nil {
		return err
	}
	return nil
}

// Start starts an installed app.
func (a *Agent) Start(ctx context.Context, id string) (api.Operation, error) {
	if err := a.installed(id); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpStart, nil)
}

// Stop stops an installed app; it stays stopped across reboots.
func (a *Agent) Stop(ctx context.Context, id string) (api.Operation, error) {
	if err := a.installed(id); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpStop, nil)
}

// Restart stops and starts an app's containers.
func (a *Agent) Restart(ctx context.Context, id string) (api.Operation, error) {
	if err := a.installed(id); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpRestart, nil)
}

// Update moves an app to another catalog version ("" the latest); a
// version that does not become healthy is undone by itself.
func (a *Agent) Update(ctx context.Context, id, version string) (api.Operation, error) {
	app, err := a.store.App(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.Operation{}, notFound("app %s is not installed", id)
	} else if err != nil {
		return api.Operation{}, err
	}
	rel, err := a.release(app.CatalogID, id, version)
	if err != nil {
		return api.Operation{}, err
	}
	if rel.Version == app.Version {
		return api.Operation{}, fmt.Errorf("app %s is already at version %s: %w", id, app.Version, api.ErrInvalid)
	}
	if err := a.admitHostUpdate(app.Manifest, rel.Manifest); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpUpdate, updateParams{Version: rel.Version})
}

// UpdateManifest updates an app from no catalog to a manifest of its own.
func (a *Agent) UpdateManifest(ctx context.Context, id string, raw json.RawMessage) (api.Operation, error) {
	app, err := a.store.App(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.Operation{}, notFound("app %s is not installed", id)
	} else if err != nil {
		return api.Operation{}, err
	}
	if app.CatalogID != localCatalog {
		return api.Operation{}, fmt.Errorf("app %s comes from catalog %s: update it to a catalog version: %w", id, app.CatalogID, api.ErrInvalid)
	}
	rel, err := a.releaseFor("", id, "", raw)
	if err != nil {
		return api.Operation{}, err
	}
	if _, err := imageRefs(rel.Manifest, a.cfg.Platform); err != nil {
		return api.Operation{}, err
	}
	if err := a.admitHostUpdate(app.Manifest, rel.Manifest); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpUpdate, updateParams{Version: rel.Version, Manifest: raw})
}

// Rollback returns an app to its previous version.
func (a *Agent) Rollback(ctx context.Context, id string) (api.Operation, error) {
	app, err := a.store.App(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.Operation{}, notFound("app %s is not installed", id)
	} else if err != nil {
		return api.Operation{}, err
	}
	if app.PreviousVersion == "" {
		return api.Operation{}, fmt.Errorf("app %s has no previous version: %w", id, api.ErrInvalid)
	}
	return a.begin(ctx, id, OpRollback, updateParams{})
}

// Uninstall removes an app, and its data unless keepData.
func (a *Agent) Uninstall(ctx context.Context, id string, keepData bool) (api.Operation, error) {
	if err := a.installed(id); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, id, OpUninstall, uninstallParams{KeepData: keepData})
}

// Operation shows one operation.
func (a *Agent) Operation(_ context.Context, id string) (api.Operation, error) {
	op, err := a.store.Op(id)
	if errors.Is(err, state.ErrNotFound) {
		return api.Operation{}, notFound("operation %s", id)
	}
	if err != nil {
		return api.Operation{}, err
	}
	return toAPIOp(op), nil
}

// WatchOperation streams an operation's progress until it ends.
func (a *Agent) WatchOperation(ctx context.Context, id string) (<-chan api.Progress, error) {
	op, err := a.store.Op(id)
	if errors.Is(err, state.ErrNotFound) {
		return nil, notFound("operation %s", id)
	}
	if err != nil {
		return nil, err
	}
	ch := a.progress.watch(ctx, id)
	if op.State != opRunning {
		// Ended already (perhaps before a restart): say how.
		out := make(chan api.Progress, 1)
		out <- api.Progress{Operation: id, Done: true, State: op.State, Error: op.Error}
		close(out)
		return out, nil
	}
	return ch, nil
}

// Logs streams an app's output, all services or one.
func (a *Agent) Logs(ctx context.Context, app string, opts api.LogOptions, fn func(api.LogLine) error) error {
	r, err := a.store.App(app)
	if errors.Is(err, state.ErrNotFound) {
		return notFound("app %s is not installed", app)
	}
	if err != nil {
		return err
	}
	m, err := parseManifest(r.Manifest)
	if err != nil {
		return err
	}
	var services []string
	for n := range m.Services {
		if opts.Service == "" || opts.Service == n {
			services = append(services, n)
		}
	}
	if len(services) == 0 {
		return notFound("service %s of app %s", opts.Service, app)
	}
	sort.Strings(services)
	// Services are read one after the other, or side by side when
	// following; fn is never called concurrently.
	var mu sync.Mutex
	read := func(ctx context.Context, s string) error {
		err := a.rt.Logs(ctx, containerID(app, s), rt.LogOptions{Follow: opts.Follow, Tail: opts.Tail}, func(e rt.LogEntry) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(api.LogLine{Time: e.Time, Service: s, Stream: e.Stream, Line: e.Line})
		})
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	if !opts.Follow {
		for _, s := range services {
			if err := read(ctx, s); err != nil {
				return err
			}
		}
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(services))
	for _, s := range services {
		go func() {
			err := read(ctx, s)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	var all []error
	for range services {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// Activity lists the activity log after seq since.
func (a *Agent) Activity(_ context.Context, since uint64, limit int) ([]api.Activity, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	recs, err := a.store.Activity(since, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.Activity, 0, len(recs))
	for _, r := range recs {
		out = append(out, api.Activity{Seq: r.Seq, Time: r.Time, Actor: r.Actor, App: r.App, Action: r.Action, Outcome: r.Outcome, Detail: r.Detail})
	}
	return out, nil
}
