package agent

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
	rt "github.com/hearthbox/hearth/runtime"
)

// Manifest is the app model's manifest.
type Manifest = manifest.Manifest

var appIDPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// Labels the agent puts on its containers, beside the runtime's own.
const (
	labelApp     = "app.hearth.id"
	labelService = "app.hearth.service"
	labelVersion = "app.hearth.version"
)

func parseManifest(raw json.RawMessage) (*Manifest, error) {
	m, err := manifest.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return m, nil
}

// imageRefs gives each service's reference to pull for platform: pinned to
// the catalog's digest when it has one.
func imageRefs(m *Manifest, platform string) (map[string]string, error) {
	refs := map[string]string{}
	for name, svc := range m.Services {
		digest, ok := svc.Image.Platforms[platform]
		if !ok {
			return nil, fmt.Errorf("service %s does not run on %s (it supports %s): %w",
				name, platform, strings.Join(slices.Sorted(maps.Keys(svc.Image.Platforms)), ", "), api.ErrRefused)
		}
		ref := svc.Image.Ref
		if digest != "" {
			if i := strings.Index(ref, "@"); i >= 0 {
				ref = ref[:i]
			}
			ref += "@" + digest
		}
		refs[name] = ref
	}
	return refs, nil
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func containerID(app, service string) string { return app + "-" + service }

// desired derives what should run for an app from its record: nothing
// observed goes in, so the same record always gives the same specs.
func (a *Agent) desired(app state.App) (Desired, error) {
	m, err := parseManifest(app.Manifest)
	if err != nil {
		return Desired{}, fmt.Errorf("app %s: %w", app.ID, err)
	}
	d := Desired{
		App:     app.ID,
		Running: app.Wanted == "running",
		Network: a.appNetwork(app.ID, m),
	}
	order, err := m.StartOrder()
	if err != nil {
		return Desired{}, fmt.Errorf("app %s: %w", app.ID, err)
	}
	dataDir, err := a.dataDir(app.ID)
	if err != nil {
		return Desired{}, err
	}
	values := manifest.Values{}
	maps.Copy(values, app.Settings)
	maps.Copy(values, app.Secrets)
	// Until the reverse proxy gives apps their names, an app's name is the
	// one it will have on the LAN.
	domain := app.ID + ".hearth.local"
	ctx := manifest.AppContext{Domain: domain, URL: "http://" + domain, DataDir: dataDir}
	limits := m.MemoryLimits()
	addonEnv, err := a.addonEnv(app.ID, m)
	if err != nil {
		return Desired{}, err
	}
	for _, name := range order {
		svc := m.Services[name]
		image := app.Images[name]
		if image == "" {
			return Desired{}, fmt.Errorf("app %s: service %s has no pulled image", app.ID, name)
		}
		spec := rt.ContainerSpec{
			ID:         containerID(app.ID, name),
			Group:      app.ID,
			Image:      image,
			Network:    app.ID,
			Names:      []string{name, app.ID + "_" + name + "_1"},
			User:       svc.User,
			WorkingDir: svc.WorkingDir,
			DataDir:    dataDir,
			Resources: rt.Resources{
				MemoryBytes: int64(limits[name]),
				CPUWeight:   uint64(max(m.Resources.CPUWeight, 0)),
				ShmBytes:    int64(svc.ShmSize),
			},
			Sysctls:      maps.Clone(svc.Sysctls),
			Capabilities: svc.Capabilities,
			WritableRoot: svc.WritableRoot,
			Devices:      svc.Devices,
			Privileged:   svc.Privileged,
			HostNetwork:  svc.HostNetwork,
			HostPID:      svc.HostPID,
			Labels:       map[string]string{labelApp: app.ID, labelService: name, labelVersion: app.Version},
		}
		if svc.HostNetwork {
			spec.Network = ""
		}
		if spec.Entrypoint, err = expandAll(m, svc.Entrypoint, values, ctx); err != nil {
			return Desired{}, fmt.Errorf("app %s: service %s: entrypoint: %w", app.ID, name, err)
		}
		if spec.Command, err = expandAll(m, svc.Command, values, ctx); err != nil {
			return Desired{}, fmt.Errorf("app %s: service %s: command: %w", app.ID, name, err)
		}
		for _, k := range sortedKeys(svc.Environment) {
			v, err := m.Expand(svc.Environment[k], values, ctx)
			if err != nil {
				return Desired{}, fmt.Errorf("app %s: service %s: environment %s: %w", app.ID, name, k, err)
			}
			spec.Env = append(spec.Env, k+"="+v)
		}
		spec.Env = withAddonEnv(spec.Env, addonEnv)
		for _, v := range svc.Volumes {
			if v.Kind == manifest.VolumeHost {
				spec.HostMounts = append(spec.HostMounts, rt.HostMount{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
				continue
			}
			spec.Volumes = append(spec.Volumes, rt.Volume{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
		}
		for _, f := range svc.Files {
			content, err := m.Expand(f.Content, values, ctx)
			if err != nil {
				return Desired{}, fmt.Errorf("app %s: service %s: file %s: %w", app.ID, name, f.Target, err)
			}
			spec.Files = append(spec.Files, rt.File{Target: f.Target, Content: content})
		}
		for _, t := range svc.Tmpfs {
			spec.Tmpfs = append(spec.Tmpfs, rt.Tmpfs{Target: t})
		}
		if hc := svc.HealthCheck; hc != nil {
			h := &rt.HealthCheck{
				Command: hc.Command, Retries: hc.Retries,
				Interval: time.Duration(hc.Interval), Timeout: time.Duration(hc.Timeout), StartPeriod: time.Duration(hc.StartPeriod),
			}
			if hc.HTTP != nil {
				h.HTTPPath, h.HTTPPort = hc.HTTP.Path, hc.HTTP.Port
			}
			if hc.TCP != nil {
				h.TCPPort = hc.TCP.Port
			}
			spec.Health = h
		}
		for _, dep := range svc.DependsOn {
			if d.Deps == nil {
				d.Deps = map[string][]Dep{}
			}
			d.Deps[spec.ID] = append(d.Deps[spec.ID], Dep{Container: containerID(app.ID, dep.Service), Healthy: dep.Condition == manifest.ConditionHealthy})
		}
		d.Containers = append(d.Containers, spec)
	}
	return d, nil
}

func expandAll(m *Manifest, in []string, v manifest.Values, ctx manifest.AppContext) ([]string, error) {
	if in == nil {
		return nil, nil
	}
	out := make([]string, 0, len(in))
	for _, s := range in {
		e, err := m.Expand(s, v, ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// resolveSettings fills an app's settings from what the owner gave, the
// values it had (an update keeps them), defaults and generated secrets.
// Secrets (generated) are returned apart from the rest.
func resolveSettings(m *Manifest, given, had, hadSecrets map[string]string) (settings, secrets map[string]string, err error) {
	in := manifest.Values{}
	maps.Copy(in, had)
	maps.Copy(in, hadSecrets)
	maps.Copy(in, given)
	vals, err := m.ResolveSettings(in, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("settings: %w: %w", err, api.ErrInvalid)
	}
	settings, secrets = map[string]string{}, map[string]string{}
	for _, s := range m.Settings {
		v, ok := vals[s.ID]
		if !ok {
			continue
		}
		if s.Type == manifest.TypeSecret {
			secrets[s.ID] = v
		} else {
			settings[s.ID] = v
		}
	}
	return settings, secrets, nil
}

func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b, nil
}

// sortApps orders apps by id.
func sortApps(apps []state.App) {
	sort.Slice(apps, func(i, j int) bool { return apps[i].ID < apps[j].ID })
}
