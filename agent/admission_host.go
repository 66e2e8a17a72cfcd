package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
)

// grantHint tells the owner how to grant host permissions at install.
const grantHint = "grant them by name to install it (hearth app install --grant)"

// parseGrants reads the host permissions an install request grants.
func parseGrants(grants []string) ([]manifest.Permission, error) {
	out := make([]manifest.Permission, 0, len(grants))
	for i, g := range grants {
		p := manifest.Permission(g)
		if !slices.Contains(manifest.HostPermissions(), p) {
			return nil, fmt.Errorf("grants[%d]: %q is not one of %s: %w", i, g, joinPermissions(manifest.HostPermissions()), api.ErrInvalid)
		}
		out = append(out, p)
	}
	return out, nil
}

func joinPermissions(ps []manifest.Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// admitHost refuses an app whose access to the host itself the owner did
// not grant or the box cannot give: a host permission
// (manifest.HostPermissions) not in granted; a host path that does not
// exist, or that leads (its symbolic links resolved) where Hearth never
// mounts or into Hearth's own state; a container engine's socket the host
// does not have (Hearth runs no Docker).
// hint says what the owner can do about a permission not granted.
func (a *Agent) admitHost(m *Manifest, granted []manifest.Permission, hint string) error {
	var missing []manifest.Permission
	for _, p := range manifest.HostPermissions() {
		if m.Has(p) && !slices.Contains(granted, p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s asks for %s, which reach beyond its sandbox into the host: %s: %w",
			m.Title, joinPermissions(missing), hint, api.ErrRefused)
	}
	stateDir := filepath.Dir(filepath.Clean(a.cfg.DataRoot))
	if real, err := filepath.EvalSymlinks(stateDir); err == nil {
		stateDir = real
	}
	for _, name := range sortedKeys(m.Services) {
		for i, v := range m.Services[name].Volumes {
			if v.Kind != manifest.VolumeHost {
				continue
			}
			if reason := hostPathReason(v, stateDir); reason != "" {
				return fmt.Errorf("service %s volumes[%d]: %s: %w", name, i, reason, api.ErrRefused)
			}
		}
	}
	return nil
}

// hostPathReason says why a host volume cannot be mounted on this box, or "".
func hostPathReason(v manifest.Volume, stateDir string) string {
	real, err := filepath.EvalSymlinks(v.Source)
	switch {
	case errors.Is(err, fs.ErrNotExist) && manifest.EngineSocket(v.Source):
		return fmt.Sprintf("%s does not exist on this box: Hearth runs no Docker, so an app that drives a container engine installs only where the host has one", v.Source)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("the host path %s does not exist on this box", v.Source)
	case err != nil:
		return fmt.Sprintf("the host path %s: %v", v.Source, err)
	}
	if reason := manifest.HostPathReason(real, v.ReadOnly); reason != "" {
		return fmt.Sprintf("the host path %s leads to %s: %s", v.Source, real, reason)
	}
	if pathWithin(real, stateDir) || pathWithin(stateDir, real) {
		return fmt.Sprintf("the host path %s leads to %s, Hearth's own state", v.Source, real)
	}
	if manifest.EngineSocket(v.Source) {
		if fi, err := os.Stat(real); err != nil || fi.Mode()&fs.ModeSocket == 0 {
			return fmt.Sprintf("%s is not a socket on this box", v.Source)
		}
	}
	return ""
}

// pathWithin reports whether p is dir or below it (both clean).
func pathWithin(p, dir string) bool {
	return p == dir || dir == "/" || strings.HasPrefix(p, dir+"/")
}

// admitHostUpdate refuses an update whose new version asks for a host
// permission the installed one did not have (the owner granted only
// those), or a host path the box cannot give.
func (a *Agent) admitHostUpdate(installed json.RawMessage, next *Manifest) error {
	old, err := parseManifest(installed)
	if err != nil {
		return err
	}
	var granted []manifest.Permission
	for _, p := range manifest.HostPermissions() {
		if old.Has(p) {
			granted = append(granted, p)
		}
	}
	return a.admitHost(next, granted, "the installed version was not granted them: uninstall it and install this version granting them")
}
