package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// hostProject writes a compose project whose service runs on the host's
// network and mounts the host's D-Bus socket.
func hostProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hass")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	compose := "services:\n  web:\n    image: a:1\n    network_mode: host\n    volumes: [\"/run/dbus:/run/dbus:ro\"]\n" +
		"x-casaos:\n  port_map: \"8123\"\n  main: web\n"
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), []byte(compose), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestImportGrants checks that a compose project asking for host
// permissions is installed only with them granted, and that the plan lists
// its host paths and host access.
func TestImportGrants(t *testing.T) {
	dir := hostProject(t)
	cases := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
		wantGrants []string // nil: no call
	}{
		{"not granted", []string{"app", "import", dir, "--no-wait"}, 1,
			"asks for host-files, host-network, which reach beyond its sandbox into the host: see 'hearth app import --dry-run " + dir + "', then add --grant host-files,host-network to install it", nil},
		{"partly granted", []string{"app", "install", dir, "--grant", "host-network", "--no-wait"}, 1, "asks for host-files, which reach", nil},
		{"granted", []string{"app", "import", dir, "--grant", "host-files,host-network", "--no-wait"}, 0, "", []string{"host-files", "host-network"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := apitest.Sample()
			r := hearth(hearthd(t, f), c.args...)
			if r.code != c.wantCode || !strings.Contains(r.stderr, c.wantStderr) {
				t.Fatalf("got exit %d, stderr %q, want exit %d, stderr containing %q", r.code, r.stderr, c.wantCode, c.wantStderr)
			}
			calls := f.Calls()
			if c.wantGrants == nil {
				if len(calls) != 0 {
					t.Errorf("got calls %+v, want none", calls)
				}
				return
			}
			if len(calls) != 1 || calls[0].Method != "Install" {
				t.Fatalf("got calls %+v, want one Install", calls)
			}
			req := calls[0].Args[0].(api.InstallRequest)
			if strings.Join(req.Grants, ",") != strings.Join(c.wantGrants, ",") || len(req.Manifest) == 0 {
				t.Errorf("got grants %v and a manifest of %d bytes, want %v and a manifest", req.Grants, len(req.Manifest), c.wantGrants)
			}
		})
	}
	t.Run("dry run", func(t *testing.T) {
		r := hearth("/nonexistent/hearthd.sock", "app", "import", "--dry-run", dir)
		for _, want := range []string{"  host path /run/dbus -> /run/dbus (read-only)\n", "  on the host's network\n", "permissions:  internet, host-files, host-network\n"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("got stdout %q, want it to contain %q", r.stdout, want)
			}
		}
		if r.code != 0 {
			t.Errorf("got exit %d (stderr %q), want 0", r.code, r.stderr)
		}
	})
}
