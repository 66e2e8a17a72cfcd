package addons

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// appSubnets is the record of which app may log in from which subnet,
// kept beside a server's data (apps.json, root only) because the server's
// own access file (pg_hba.conf) is generated from it.
type appSubnets struct {
	path string
	// mu guards the file.
	mu sync.Mutex
}

func (a *appSubnets) load() (map[string]netip.Prefix, error) {
	b, err := os.ReadFile(a.path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]netip.Prefix{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", a.path, err)
	}
	m := map[string]netip.Prefix{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", a.path, err)
	}
	return m, nil
}

// update changes the record with fn and writes it back; it returns the
// new record.
func (a *appSubnets) update(fn func(map[string]netip.Prefix)) (map[string]netip.Prefix, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, err := a.load()
	if err != nil {
		return nil, err
	}
	before := maps.Clone(m)
	fn(m)
	if maps.Equal(before, m) {
		return m, nil
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", a.path, err)
	}
	tmp := a.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", a.path, err)
	}
	if err := os.Rename(tmp, a.path); err != nil {
		return nil, fmt.Errorf("write %s: %w", a.path, err)
	}
	return m, nil
}

func sortedApps(m map[string]netip.Prefix) []string { return slices.Sorted(maps.Keys(m)) }

func newAppSubnets(dir string) *appSubnets {
	return &appSubnets{path: filepath.Join(dir, "apps.json")}
}
