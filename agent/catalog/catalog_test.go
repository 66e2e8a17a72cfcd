package catalog

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAppLookups(t *testing.T) {
	versions := func(vs ...string) []Version {
		var out []Version
		for _, v := range vs {
			out = append(out, Version{Version: v})
		}
		return out
	}
	names := func(vs []Version) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Version)
		}
		return out
	}
	tests := []struct {
		name       string
		versions   []Version // newest first, as Verify sorts them
		installed  string
		wantLatest string
		wantNewer  []string
	}{
		{"one version", versions("1.0.0"), "1.0.0", "1.0.0", nil},
		{"an update", versions("1.1.0", "1.0.0"), "1.0.0", "1.1.0", []string{"1.1.0"}},
		{"a pre-release is not the latest", versions("2.0.0-rc.1", "1.1.0", "1.0.0"), "1.0.0", "1.1.0", []string{"2.0.0-rc.1", "1.1.0"}},
		{"only pre-releases", versions("2.0.0-rc.2", "2.0.0-rc.1"), "2.0.0-rc.1", "2.0.0-rc.2", []string{"2.0.0-rc.2"}},
		{"build metadata is not a pre-release", versions("1.0.1+hearth.2", "1.0.0"), "1.0.0", "1.0.1+hearth.2", []string{"1.0.1+hearth.2"}},
		{"installed newer than the catalog", versions("1.0.0"), "1.2.0", "1.0.0", nil},
		{"installed version unreadable", versions("1.0.0"), "banana", "1.0.0", []string{"1.0.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := App{ID: "app", Versions: tt.versions}
			if got := a.Latest().Version; got != tt.wantLatest {
				t.Errorf("Latest: got %s, want %s", got, tt.wantLatest)
			}
			if diff := cmp.Diff(tt.wantNewer, names(a.Newer(tt.installed))); diff != "" {
				t.Errorf("Newer(%s) (-want +got):\n%s", tt.installed, diff)
			}
			for _, v := range tt.versions {
				if got, ok := a.Version(v.Version); !ok || got.Version != v.Version {
					t.Errorf("Version(%s): got %s, %v", v.Version, got.Version, ok)
				}
			}
			if _, ok := a.Version("9.9.9"); ok {
				t.Error("Version(9.9.9) found a version")
			}
		})
	}
	if got := (App{}).Latest(); got.Version != "" {
		t.Errorf("Latest of an app without versions: got %q, want the zero Version", got.Version)
	}
}
