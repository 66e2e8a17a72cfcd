package network

import (
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/containernetworking/cni/libcni"
	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

func TestConfListGolden(t *testing.T) {
	n := Network{
		Name:    "web",
		Bridge:  "hearth2a",
		Subnet:  netip.MustParsePrefix("10.89.42.0/24"),
		Gateway: netip.MustParsePrefix("10.89.42.0/24").Addr().Next(),
		Egress:  true,
	}
	br, err := bridgeConfList("hearth", n, "/var/lib/hearth/network/ipam")
	if err != nil {
		t.Fatal(err)
	}
	lo, err := loopbackConfList("hearth")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  []byte
	}{
		{"bridge.conflist.golden", br},
		{"loopback.conflist.golden", lo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, append(tc.got, '\n'))
			// libcni must accept what we generate.
			l, err := libcni.ConfListFromBytes(tc.got)
			if err != nil {
				t.Fatalf("libcni refuses the config: %v", err)
			}
			if l.CNIVersion != cniVersion {
				t.Errorf("got cniVersion %q, want %q", l.CNIVersion, cniVersion)
			}
		})
	}
}
