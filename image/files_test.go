package osimage

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// render lists files as the golden files show them.
func render(files []File) string {
	var b strings.Builder
	for _, f := range files {
		switch {
		case f.Link != "":
			fmt.Fprintf(&b, "=== %s -> %s\n", f.Path, f.Link)
		case f.Mode.IsDir():
			fmt.Fprintf(&b, "=== %s/ %04o\n", f.Path, f.Mode.Perm())
		default:
			fmt.Fprintf(&b, "=== %s %04o\n%s", f.Path, f.Mode.Perm(), f.Data)
		}
	}
	return b.String()
}

func TestGeneratedFiles(t *testing.T) {
	samples := &Samples{Catalog: []byte("{\"signed\":\"catalog\"}\n"), Key: "S2V5", Layout: "/samples/oci",
		Registry: netip.MustParseAddrPort("127.0.0.1:5115"), APIPort: 7070}
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"amd64", Config{Arch: AMD64}},
		{"arm64", Config{Arch: ARM64}},
		{"amd64-test-ssh", Config{Arch: AMD64, Samples: samples, SSHKeys: "ssh-ed25519 AAAAC3Nza test@hearth\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cfg
			l := PlanLayout(c.Arch, 1<<30, 128<<20, fixedIDs(c.Arch))
			var b strings.Builder
			fmt.Fprintf(&b, "# packages\n%s\n", strings.Join(Packages(c.Arch, c.SSHKeys != ""), "\n"))
			fmt.Fprintf(&b, "# mmdebstrap\n%s\n", strings.Join(mmdebstrapArgs(c.withDefaults(), "/cache/debs", "/cache/setup", "/cache/base.tmp"), "\n"))
			fmt.Fprintf(&b, "# enabled units\n%s\n", strings.Join(enabledUnits(c), "\n"))
			fmt.Fprintf(&b, "# setup files\n%s", render(setupFiles(c.Arch)))
			fmt.Fprintf(&b, "# root files\n%s", render(rootFiles(c, l)))
			fmt.Fprintf(&b, "# boot files\n%s", render(bootFiles(c.Arch, KernelCmdline(c.Arch, l.Part(RoleSystemA).PartUUID(l)))))
			golden(t, "files-"+tc.name+".golden", b.String())
		})
	}
}

func TestBaseKey(t *testing.T) {
	base := Config{Arch: AMD64}.withDefaults()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		same bool
	}{
		{"same config", func(*Config) {}, true},
		{"samples do not change the base", func(c *Config) { c.Samples = &Samples{} }, true},
		{"arch", func(c *Config) { c.Arch = ARM64 }, false},
		{"suite", func(c *Config) { c.Suite = "forky" }, false},
		{"ssh adds a package", func(c *Config) { c.SSHKeys = "ssh-ed25519 x" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			if got := baseKey(c) == baseKey(base); got != tc.same {
				t.Errorf("same key: got %v, want %v", got, tc.same)
			}
		})
	}
}
