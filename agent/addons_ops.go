package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/addons"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
	rt "github.com/hearthbox/hearth/runtime"
)

// Addons runs the addon servers apps ask for (docs/addons.md);
// *addons.Manager is one.
type Addons interface {
	// Sync runs the servers of the kinds in use, each listening on the
	// given gateways, and stops the others.
	Sync(ctx context.Context, use map[string][]netip.Addr) error
	Server(kind string) (addons.Server, bool)
}

var _ Addons = (*addons.Manager)(nil)

// addonKinds are the provisioned addons the manifest asks for, in a fixed
// order.
func addonKinds(m *Manifest) []string {
	var out []string
	for _, k := range []struct {
		kind  string
		asked bool
	}{
		{addons.KindMySQL, m.Addons.MySQL != nil},
		{addons.KindPostgreSQL, m.Addons.PostgreSQL != nil},
		{addons.KindRedis, m.Addons.Redis != nil},
		{addons.KindSendmail, m.Addons.Sendmail != nil},
	} {
		if k.asked {
			out = append(out, k.kind)
		}
	}
	return out
}

// addonGateway is where an app on subnet reaches its addons: its network's
// gateway, the subnet's first address.
func addonGateway(subnet netip.Prefix) netip.Addr { return subnet.Masked().Addr().Next() }

// addonPorts are the gateway ports the app's network must reach.
func (a *Agent) addonPorts(m *Manifest) []uint16 {
	if a.cfg.Addons == nil {
		return nil
	}
	var out []uint16
	for _, k := range addonKinds(m) {
		if s, ok := a.cfg.Addons.Server(k); ok {
			out = append(out, s.Port())
		}
	}
	return out
}

// appNetwork is the app's network: egress by its permissions, and its
// addons' ports on the gateway.
func (a *Agent) appNetwork(id string, m *Manifest) rt.NetworkSpec {
	return rt.NetworkSpec{Name: id, Egress: m.Has(manifest.PermInternet) || m.Has(manifest.PermLAN), HostPorts: a.addonPorts(m)}
}

// addonEnv is the environment that hands the app its addons, sorted.
func (a *Agent) addonEnv(app string, m *Manifest) ([]string, error) {
	kinds := addonKinds(m)
	if len(kinds) == 0 || a.cfg.Addons == nil {
		return nil, nil
	}
	sec, err := a.store.AddonSecrets(app)
	if err != nil {
		return nil, fmt.Errorf("app %s: addons not provisioned: %w", app, err)
	}
	env := map[string]string{}
	for _, k := range kinds {
		s, ok := a.cfg.Addons.Server(k)
		pw := sec.Passwords[k]
		if !ok || pw == "" || !sec.Subnet.IsValid() {
			return nil, fmt.Errorf("app %s: addon %s not provisioned", app, k)
		}
		maps.Copy(env, s.Env(app, addons.Conn{Host: addonGateway(sec.Subnet), Password: pw}))
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out, nil
}

// withAddonEnv is env without the names the addons set, then the addons'
// variables: an image's or manifest's own value cannot shadow them (a
// process sees the first of two equal names).
func withAddonEnv(env, addon []string) []string {
	if len(addon) == 0 {
		return env
	}
	set := map[string]bool{}
	for _, kv := range addon {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	out := slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return set[k]
	})
	return append(out, addon...)
}

// provisionAddons is the install step "addons": passwords are chosen and
// stored first, so that a resumed step gives the same ones; the network
// is made to learn its subnet; then each server makes the app's user and
// database. Every part is idempotent: after a crash the step runs again
// and finishes what is half made.
func (a *Agent) provisionAddons(ctx context.Context, r *opRun) error {
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	m, err := parseManifest(app.Manifest)
	if err != nil {
		return err
	}
	kinds := addonKinds(m)
	if len(kinds) == 0 {
		return nil
	}
	if a.cfg.Addons == nil {
		return fmt.Errorf("app %s asks for %v, and this box runs no addons: %w", app.ID, kinds, api.ErrRefused)
	}
	sec, err := a.store.AddonSecrets(app.ID)
	if err != nil && !errors.Is(err, state.ErrNotFound) {
		return err
	}
	if sec.Passwords == nil {
		sec.Passwords = map[string]string{}
	}
	for _, k := range kinds {
		if sec.Passwords[k] == "" {
			sec.Passwords[k] = addons.NewPassword()
		}
	}
	if sec.Subnet, err = a.rt.EnsureNetwork(ctx, a.appNetwork(app.ID, m)); err != nil {
		return err
	}
	if err := a.store.PutAddonSecrets(app.ID, sec); err != nil {
		return err
	}
	if err := a.syncAddons(ctx); err != nil {
		return err
	}
	for _, k := range kinds {
		r.report(api.Progress{Step: "addons", Message: "preparing " + k})
		s, _ := a.cfg.Addons.Server(k)
		if err := s.Ensure(ctx, app.ID, sec.Subnet, sec.Passwords[k]); err != nil {
			return err
		}
	}
	return nil
}

// dropAddons removes the app's addon users and data and forgets their
// passwords; what is already gone is not an error.
func (a *Agent) dropAddons(ctx context.Context, app string) error {
	sec, err := a.store.AddonSecrets(app)
	if errors.Is(err, state.ErrNotFound) || a.cfg.Addons == nil {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(sec.Passwords)) {
		s, ok := a.cfg.Addons.Server(k)
		if !ok {
			continue
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		if err := s.Drop(ctx, app); err != nil {
			return err
		}
	}
	if err := a.store.DeleteAddonSecrets(app); err != nil {
		return err
	}
	return a.syncAddons(ctx)
}

// syncAddons runs the servers that installed apps need, listening on
// their networks' gateways, and stops the others.
func (a *Agent) syncAddons(ctx context.Context) error {
	if a.cfg.Addons == nil {
		return nil
	}
	apps, err := a.store.Apps()
	if err != nil {
		return err
	}
	use := map[string][]netip.Addr{}
	for _, app := range apps {
		m, err := parseManifest(app.Manifest)
		if err != nil {
			continue
		}
		kinds := addonKinds(m)
		if len(kinds) == 0 {
			continue
		}
		sec, err := a.store.AddonSecrets(app.ID)
		if err != nil || !sec.Subnet.IsValid() {
			continue // not provisioned yet
		}
		for _, k := range kinds {
			use[k] = append(use[k], addonGateway(sec.Subnet))
		}
	}
	if err := a.cfg.Addons.Sync(ctx, use); err != nil {
		return fmt.Errorf("addons: %w", err)
	}
	return nil
}

// RotateAddonPassword gives the app a new password for one addon: stored
// first, then set on the server; the app's containers get the new
// environment and are replaced (restarted) by the next pass. A crash in
// between is repaired by ensureAllAddons at the next start.
func (a *Agent) RotateAddonPassword(ctx context.Context, app, kind string) error {
	sec, err := a.store.AddonSecrets(app)
	if err != nil {
		return fmt.Errorf("app %s: %w", app, err)
	}
	if _, ok := sec.Passwords[kind]; !ok || a.cfg.Addons == nil {
		return fmt.Errorf("app %s has no addon %q: %w", app, kind, api.ErrInvalid)
	}
	s, _ := a.cfg.Addons.Server(kind)
	sec.Passwords[kind] = addons.NewPassword()
	if err := a.store.PutAddonSecrets(app, sec); err != nil {
		return err
	}
	if err := s.Ensure(ctx, app, sec.Subnet, sec.Passwords[kind]); err != nil {
		return err
	}
	a.poke()
	return nil
}

// ensureAllAddons runs Ensure again for every provisioned app (at start:
// it repairs a rotation or install a crash interrupted).
func (a *Agent) ensureAllAddons(ctx context.Context) error {
	if a.cfg.Addons == nil {
		return nil
	}
	if err := a.syncAddons(ctx); err != nil {
		return err
	}
	apps, err := a.store.Apps()
	if err != nil {
		return err
	}
	var errs []error
	for _, app := range apps {
		sec, err := a.store.AddonSecrets(app.ID)
		if err != nil || !sec.Subnet.IsValid() {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(sec.Passwords)) {
			if s, ok := a.cfg.Addons.Server(k); ok && s.Running() {
				errs = append(errs, s.Ensure(ctx, app.ID, sec.Subnet, sec.Passwords[k]))
			}
		}
	}
	return errors.Join(errs...)
}

// DumpAddons writes a consistent dump of each of the app's addons to
// dir/<kind>.dump, for a backup of the app (the backup operations call it
// with the app stopped; docs/addons.md).
func (a *Agent) DumpAddons(ctx context.Context, app, dir string) error {
	return a.eachAddon(ctx, app, func(kind string, s addons.Server) error {
		return addons.DumpFile(ctx, s, app, filepath.Join(dir, kind+".dump"))
	})
}

// RestoreAddons loads the dumps that dir holds back into the app's addons
// (their users and databases must exist: the app is installed).
func (a *Agent) RestoreAddons(ctx context.Context, app, dir string) error {
	return a.eachAddon(ctx, app, func(kind string, s addons.Server) error {
		path := filepath.Join(dir, kind+".dump")
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return addons.RestoreFile(ctx, s, app, path)
	})
}

// eachAddon calls fn with each provisioned addon of the app, its server
// started.
func (a *Agent) eachAddon(ctx context.Context, app string, fn func(kind string, s addons.Server) error) error {
	sec, err := a.store.AddonSecrets(app)
	if errors.Is(err, state.ErrNotFound) || a.cfg.Addons == nil {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(sec.Passwords)) {
		s, ok := a.cfg.Addons.Server(k)
		if !ok {
			continue
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		if err := fn(k, s); err != nil {
			return fmt.Errorf("addon %s of %s: %w", k, app, err)
		}
	}
	return nil
}
