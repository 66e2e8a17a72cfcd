package network

import (
	"errors"
	"net/netip"
	"testing"
)

func TestAllocate(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name    string
		pool    string
		bits    int
		used    []netip.Prefix
		routed  []netip.Prefix
		want    string
		wantErr error
	}{
		{name: "first", pool: "10.89.0.0/16", bits: 24, want: "10.89.0.0/24"},
		{name: "skips used", pool: "10.89.0.0/16", bits: 24, used: []netip.Prefix{p("10.89.0.0/24"), p("10.89.1.0/24")}, want: "10.89.2.0/24"},
		{name: "reuses a freed hole", pool: "10.89.0.0/16", bits: 24, used: []netip.Prefix{p("10.89.1.0/24")}, want: "10.89.0.0/24"},
		{name: "skips routed", pool: "10.89.0.0/16", bits: 24, routed: []netip.Prefix{p("10.89.0.128/25")}, want: "10.89.1.0/24"},
		{name: "a wide route covers several", pool: "10.89.0.0/16", bits: 24, routed: []netip.Prefix{p("10.89.0.0/23")}, want: "10.89.2.0/24"},
		{name: "small subnets", pool: "10.89.0.0/16", bits: 28, used: []netip.Prefix{p("10.89.0.0/28")}, want: "10.89.0.16/28"},
		{name: "exhausted", pool: "10.231.254.0/23", bits: 24, used: []netip.Prefix{p("10.231.254.0/24")}, routed: []netip.Prefix{p("10.231.255.0/24")}, wantErr: ErrPoolExhausted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := allocate(p(tc.pool), tc.bits, tc.used, tc.routed)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("got error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && got.String() != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBridgeName(t *testing.T) {
	p := netip.MustParsePrefix
	for _, tc := range []struct {
		name   string
		pool   string
		bits   int
		subnet string
		want   string
	}{
		{"first of 256", "10.89.0.0/16", 24, "10.89.0.0/24", "hearth00"},
		{"last of 256", "10.89.0.0/16", 24, "10.89.255.0/24", "hearthff"},
		{"4096 subnets", "10.89.0.0/16", 28, "10.89.1.16/28", "hearth011"},
		{"one subnet", "10.89.0.0/24", 24, "10.89.0.0/24", "hearth0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bridgeName("hearth", p(tc.pool), tc.bits, p(tc.subnet)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
