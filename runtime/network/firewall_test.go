package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/coreos/go-iptables/iptables"
	"github.com/google/go-cmp/cmp"
)

func TestFirewallRulesGolden(t *testing.T) {
	// Handles without a binary: specs only reads their protocol.
	f := &firewall{prefix: "hearth", forward: "HEARTH-FORWARD", input: "HEARTH-INPUT", v4: &iptables.IPTables{}, v6: &iptables.IPTables{}}
	nets := []Network{
		{Name: "web", Bridge: "hearth00", Subnet: netip.MustParsePrefix("10.89.0.0/24"), Gateway: netip.MustParseAddr("10.89.0.1"), Egress: true},
		{Name: "db", Bridge: "hearth01", Subnet: netip.MustParsePrefix("10.89.1.0/24"), Gateway: netip.MustParseAddr("10.89.1.1"), Egress: false, HostPorts: []uint16{5432, 6379}},
	}
	var b bytes.Buffer
	for i, s := range f.specs(nets) {
		family := "iptables"
		if i >= 2 {
			family = "ip6tables"
		}
		fmt.Fprintf(&b, "# %s: -I %s 1 -j %s\n", family, s.parent, s.chain)
		for _, r := range s.rules {
			fmt.Fprintf(&b, "-A %s %s\n", s.chain, strings.Join(r, " "))
		}
		for _, g := range s.guard {
			fmt.Fprintf(&b, "# guard while rebuilding: -A %s %s\n", s.parent, strings.Join(g, " "))
		}
	}
	golden(t, "firewall.golden", b.Bytes())
}

func TestSplitRule(t *testing.T) {
	for _, tc := range []struct {
		name string
		rule string
		want []string
	}{
		{"plain", "-i br0 -j DROP", []string{"-i", "br0", "-j", "DROP"}},
		{
			"cni masquerade",
			`-s 10.231.0.2/32 -m comment --comment "name: \"ht-app\" id: \"c1\"" -j CNI-0123`,
			[]string{"-s", "10.231.0.2/32", "-m", "comment", "--comment", `name: "ht-app" id: "c1"`, "-j", "CNI-0123"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, splitRule(tc.rule)); diff != "" {
				t.Errorf("splitRule(%q) (-want +got):\n%s", tc.rule, diff)
			}
		})
	}
}

func TestNATComment(t *testing.T) {
	for _, tc := range []struct {
		name            string
		rule            string
		net, id, target string
		ok              bool
	}{
		{"cni rule", `-s 10.231.0.2/32 -m comment --comment "name: \"ht-app\" id: \"c1\"" -j CNI-0123`, "ht-app", "c1", "CNI-0123", true},
		{"other rule", `-s 10.0.0.0/8 -j MASQUERADE`, "", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, id, target, ok := natComment(tc.rule)
			if n != tc.net || id != tc.id || target != tc.target || ok != tc.ok {
				t.Errorf("got (%q, %q, %q, %v), want (%q, %q, %q, %v)", n, id, target, ok, tc.net, tc.id, tc.target, tc.ok)
			}
		})
	}
}

// TestFirewallSync changes real chains (of bridges that do not exist) behind
// the firewall's back and checks that sync puts them right, whichever way it
// has to take.
func TestFirewallSync(t *testing.T) {
	e := newEnv(t, testPool)
	f, err := newFirewall(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := f.remove(); err != nil {
			t.Error(err)
		}
	})
	p := e.cfg.Prefix
	net := func(name string, i int, egress bool) Network {
		s := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 231, byte(100 + i), 0}), 24)
		return Network{Name: name, Bridge: fmt.Sprintf("%s%02x", p, 100+i), Subnet: s, Gateway: gatewayOf(s), Egress: egress}
	}
	a, b, c := net("a", 0, true), net("b", 1, false), net("c", 2, true)
	guard := []string{"-i", p + "+", "-j", "DROP"}
	for _, tc := range []struct {
		name   string
		before []Network
		mangle func(t *testing.T)
		after  []Network
	}{
		{"create", nil, nil, []Network{a, b}},
		{"append", []Network{a, b}, nil, []Network{a, b, c}},
		{"delete", []Network{a, b, c}, nil, []Network{a, c}},
		{"replace egress", []Network{a, b, c}, nil, []Network{a, {Name: b.Name, Bridge: b.Bridge, Subnet: b.Subnet, Gateway: b.Gateway, Egress: true}, c}},
		{"flushed", []Network{a, b}, func(t *testing.T) {
			if err := f.v4.ClearChain(filterTable, f.forward); err != nil {
				t.Fatal(err)
			}
		}, []Network{a, b}},
		{"rebuild a scrambled chain", []Network{a, b}, func(t *testing.T) {
			for _, pos := range []int{1, 3} {
				if err := f.v4.Replace(filterTable, f.forward, pos, "-i", "lo", "-j", "RETURN"); err != nil {
					t.Fatal(err)
				}
			}
		}, []Network{a, b}},
		{"guard left by an interrupted rebuild", []Network{a}, func(t *testing.T) {
			if err := f.v4.Insert(filterTable, "INPUT", 2, guard...); err != nil {
				t.Fatal(err)
			}
		}, []Network{a}},
		{"jump deleted", []Network{a}, func(t *testing.T) {
			if err := f.v6.Delete(filterTable, "FORWARD", "-j", f.forward); err != nil {
				t.Fatal(err)
			}
		}, []Network{a}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := f.sync(tc.before); err != nil {
				t.Fatal(err)
			}
			if tc.mangle != nil {
				tc.mangle(t)
			}
			if err := f.sync(tc.after); err != nil {
				t.Fatal(err)
			}
			for _, s := range f.specs(tc.after) {
				got, err := listRules(s.ipt, s.chain)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(joinRules(s.rules), got); diff != "" {
					t.Errorf("%v %s (-want +got):\n%s", s.ipt.Proto(), s.chain, diff)
				}
				parent, err := listRules(s.ipt, s.parent)
				if err != nil {
					t.Fatal(err)
				}
				if n := count(parent, "-j "+s.chain); n != 1 {
					t.Errorf("%v %s: got %d jumps to %s, want 1", s.ipt.Proto(), s.parent, n, s.chain)
				}
				for _, g := range joinRules(s.guard) {
					if n := count(parent, g); n != 0 {
						t.Errorf("%v %s: guard %q left", s.ipt.Proto(), s.parent, g)
					}
				}
			}
		})
	}
	t.Run("remove", func(t *testing.T) {
		if err := f.sync(nil); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"iptables-save", "ip6tables-save"} {
			if s := saveRules(t, cmd); strings.Contains(s, p) || strings.Contains(s, strings.ToUpper(p)) {
				t.Errorf("%s still mentions %s", cmd, p)
			}
		}
	})
}

func count(list []string, s string) int {
	n := 0
	for _, l := range list {
		if l == s {
			n++
		}
	}
	return n
}
