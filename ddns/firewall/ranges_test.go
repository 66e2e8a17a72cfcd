package firewall

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeRanges(t *testing.T) {
	r := func(from, to string) addrRange {
		return addrRange{netip.MustParseAddr(from), netip.MustParseAddr(to)}
	}
	for _, tc := range []struct {
		name     string
		prefixes []string
		want     []addrRange
	}{
		{"contained", []string{"192.168.1.0/24", "192.168.0.0/16"}, []addrRange{r("192.168.0.0", "192.168.255.255")}},
		{"touching", []string{"10.0.1.0/24", "10.0.0.0/24"}, []addrRange{r("10.0.0.0", "10.0.1.255")}},
		{"apart, sorted", []string{"172.16.0.0/12", "10.0.0.0/8"}, []addrRange{r("10.0.0.0", "10.255.255.255"), r("172.16.0.0", "172.31.255.255")}},
		{"host bits dropped", []string{"198.51.100.7/24"}, []addrRange{r("198.51.100.0", "198.51.100.255")}},
		{"ipv6", []string{"fe80::/10", "fe80::/64", "fc00::/7"}, []addrRange{r("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), r("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff")}},
		{"top of the space", []string{"255.255.255.255/32"}, []addrRange{r("255.255.255.255", "255.255.255.255")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, p := range tc.prefixes {
				ps = append(ps, netip.MustParsePrefix(p))
			}
			got := mergeRanges(ps)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMakePlan(t *testing.T) {
	cfg, err := Config{AdminPorts: []uint16{22, 8443}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name                           string
		rules                          Rules
		openTCP, lanTCP, openUDP, lanU []uint16
	}{
		{"nothing granted", Rules{}, []uint16{80, 443}, []uint16{22, 8443}, nil, nil},
		{"admin opened", Rules{AdminOpen: true}, []uint16{22, 80, 443, 8443}, nil, nil, nil},
		{"anywhere wins over LAN-only", Rules{Ports: []Port{{9000, TCP, true}, {9000, TCP, false}, {53, UDP, true}, {51820, UDP, false}, {51820, UDP, false}}},
			[]uint16{80, 443, 9000}, []uint16{22, 8443}, []uint16{51820}, []uint16{53}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := makePlan(cfg, tc.rules, nil)
			got := [][]uint16{p.openTCP, p.lanTCP, p.openUDP, p.lanUDP}
			want := [][]uint16{tc.openTCP, tc.lanTCP, tc.openUDP, tc.lanU}
			if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b []uint16) bool { return len(a) == 0 && len(b) == 0 || cmp.Equal(a, b) })); diff != "" {
				t.Errorf("open tcp, lan tcp, open udp, lan udp (-want +got):\n%s", diff)
			}
		})
	}
}
