package network

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfigValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string // named in the error; "" means valid
	}{
		{"defaults", Config{StateDir: "/state", Upstreams: []string{"192.0.2.53:53"}}, ""},
		{"no state dir", Config{}, "StateDir"},
		{"relative state dir", Config{StateDir: "state"}, "StateDir"},
		{"relative plugin dir", Config{StateDir: "/s", PluginDirs: []string{"cni"}}, "PluginDirs"},
		{"ipv6 pool", Config{StateDir: "/s", Pool: netip.MustParsePrefix("fd00::/64")}, "Pool"},
		{"pool with host bits", Config{StateDir: "/s", Pool: netip.MustParsePrefix("10.89.0.1/16")}, "Pool"},
		{"subnet wider than pool", Config{StateDir: "/s", SubnetBits: 12}, "SubnetBits"},
		{"subnet too small", Config{StateDir: "/s", SubnetBits: 31}, "SubnetBits"},
		{"uppercase prefix", Config{StateDir: "/s", Prefix: "Hearth"}, "Prefix"},
		{"prefix with dash", Config{StateDir: "/s", Prefix: "my-br"}, "Prefix"},
		{"prefix too long", Config{StateDir: "/s", Prefix: "abcdefghijklmn"}, "Prefix"},
		{"bad upstream", Config{StateDir: "/s", Upstreams: []string{"192.0.2.53"}}, "Upstreams"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults()
			switch {
			case tc.field == "" && err != nil:
				t.Fatalf("got error %v, want none", err)
			case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
				t.Fatalf("got error %v, want one naming %s", err, tc.field)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(resolv, []byte("# comment\nnameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\nsearch lan\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Config{StateDir: "/state/", ResolvConfPath: resolv}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	got.Logger = nil
	want := Config{
		StateDir:       "/state",
		PluginDirs:     []string{"/usr/lib/cni", "/opt/cni/bin"},
		Pool:           netip.MustParsePrefix("10.89.0.0/16"),
		SubnetBits:     24,
		Prefix:         "hearth",
		Upstreams:      []string{"192.0.2.53:53", "[2001:db8::53]:53"},
		ResolvConfPath: resolv,
	}
	if diff := cmp.Diff(want, got, equateNetip); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestNameValidation(t *testing.T) {
	// Validation comes before any other work, so a zero Manager will do.
	m := &Manager{}
	ctx := context.Background()
	long := strings.Repeat("a", 33)
	for _, tc := range []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty network", func() error { _, err := m.Ensure(ctx, Spec{Name: ""}); return err }, `network name ""`},
		{"uppercase network", func() error { _, err := m.Ensure(ctx, Spec{Name: "Web"}); return err }, `network name "Web"`},
		{"leading dash", func() error { _, err := m.Ensure(ctx, Spec{Name: "-web"}); return err }, `network name "-web"`},
		{"underscore", func() error { _, err := m.Ensure(ctx, Spec{Name: "my_app"}); return err }, `network name "my_app"`},
		{"slash", func() error { _, err := m.Ensure(ctx, Spec{Name: "a/b"}); return err }, `network name "a/b"`},
		{"33 characters", func() error { _, err := m.Ensure(ctx, Spec{Name: long}); return err }, `network name "` + long + `"`},
		{"remove bad name", func() error { return m.Remove(ctx, "../x") }, `network name "../x"`},
		{"attach bad network", func() error { _, err := m.Attach(ctx, "A", "c1", nil); return err }, `network name "A"`},
		{"attach bad container id", func() error { _, err := m.Attach(ctx, "web", "../c1", nil); return err }, `container id "../c1"`},
		{"attach uppercase id", func() error { _, err := m.Attach(ctx, "web", "C1", nil); return err }, `container id "C1"`},
		{"attach bad name", func() error { _, err := m.Attach(ctx, "web", "c1", []string{"db", "a b"}); return err }, `names[1] "a b"`},
		{"attach empty name", func() error { _, err := m.Attach(ctx, "web", "c1", []string{""}); return err }, `names[0] ""`},
		{"detach bad id", func() error { return m.Detach(ctx, "a/b") }, `container id "a/b"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("got error %v, want one naming %s", err, tc.field)
			}
		})
	}
}
