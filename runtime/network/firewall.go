package network

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/coreos/go-iptables/iptables"
)

// The firewall keeps the networks apart from each other and from the host.
// Two chains of the filter table, jumped to from the top of FORWARD and
// INPUT, hold the rules of every network, in the networks' creation order.
// For a network with bridge B and gateway G (P is Config.Prefix):
//
//	PREFIX-FORWARD
//	  -i B -o B -j ACCEPT                     containers of one network talk freely
//	  -i B -o P+ -j DROP                      never to another of our networks
//	  -i B -j ACCEPT | DROP                   the egress switch: LAN and internet
//	  -o B -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT   replies come back
//	  -o B -j DROP                            nothing else enters
//	PREFIX-INPUT
//	  -i B -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT   replies to the host's own connections (reverse proxy, health checks)
//	  -d G/32 -i B -p udp -m udp --dport 53 -j ACCEPT             the network's DNS responder
//	  -d G/32 -i B -p tcp -m tcp --dport 53 -j ACCEPT
//	  -d G/32 -i B -p tcp -m tcp --dport P -j ACCEPT              each of Spec.HostPorts (the app's addons)
//	  -i B -j DROP                            no host service, no other network's gateway
//
// The "-i B -o P+" rule must come before the egress rule, and it is what
// keeps an egress network out of the others whatever the order of the
// networks in the chain.
//
// The containers get no IPv6 address, but the kernel gives every interface
// an IPv6 link-local one, and a host service listening on [::] would be
// reachable through it. The ip6tables filter table therefore gets the same
// chains with the IPv6 part closed:
//
//	PREFIX-FORWARD: -i B -o B -j ACCEPT; -i B -j DROP; -o B -j DROP
//	PREFIX-INPUT:   -i B -j DROP
//
// Rules are written in the order and spelling that "iptables -S" prints, so
// that the chain's listing can be compared with what it should be. Small
// changes are made in place (a new network is appended, a removed one's rules
// are deleted, a changed egress rule is replaced by inserting the new rule
// before deleting the old); anything else flushes and refills the chain, with
// two guard rules ("-i P+ -j DROP", "-o P+ -j DROP") just after the jump in
// the meantime, so the rebuild fails closed.
type firewall struct {
	prefix  string
	forward string
	input   string
	v4, v6  *iptables.IPTables // v6 is nil on a host without IPv6
}

const filterTable = "filter"

func newFirewall(cfg Config) (*firewall, error) {
	upper := strings.ToUpper(cfg.Prefix)
	f := &firewall{prefix: cfg.Prefix, forward: upper + "-FORWARD", input: upper + "-INPUT"}
	var err error
	if f.v4, err = newIPTables(iptables.ProtocolIPv4, cfg.IPTablesPath); err != nil {
		return nil, fmt.Errorf("iptables: %w", err)
	}
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		if f.v6, err = newIPTables(iptables.ProtocolIPv6, cfg.IP6TablesPath); err != nil {
			return nil, fmt.Errorf("ip6tables: %w", err)
		}
	}
	return f, nil
}

// newIPTables runs the binary at path, or the one on PATH when path is "".
func newIPTables(proto iptables.Protocol, path string) (*iptables.IPTables, error) {
	if path != "" {
		return iptables.New(iptables.IPFamily(proto), iptables.Timeout(10), iptables.Path(path))
	}
	return iptables.New(iptables.IPFamily(proto), iptables.Timeout(10))
}

// chainSpec is what one of our chains must hold.
type chainSpec struct {
	ipt    *iptables.IPTables
	parent string     // FORWARD or INPUT
	chain  string     // ours
	guard  [][]string // rules put in parent while chain is rebuilt
	rules  [][]string
}

// specs computes every chain's rules for nets, in order.
func (f *firewall) specs(nets []Network) []chainSpec {
	ours := f.prefix + "+"
	fwd4 := chainSpec{ipt: f.v4, parent: "FORWARD", chain: f.forward, guard: [][]string{{"-i", ours, "-j", "DROP"}, {"-o", ours, "-j", "DROP"}}}
	in4 := chainSpec{ipt: f.v4, parent: "INPUT", chain: f.input, guard: [][]string{{"-i", ours, "-j", "DROP"}}}
	fwd6 := chainSpec{ipt: f.v6, parent: "FORWARD", chain: f.forward, guard: fwd4.guard}
	in6 := chainSpec{ipt: f.v6, parent: "INPUT", chain: f.input, guard: in4.guard}
	for _, n := range nets {
		b, gw := n.Bridge, n.Gateway.String()+"/32"
		egress := "DROP"
		if n.Egress {
			egress = "ACCEPT"
		}
		fwd4.rules = append(fwd4.rules,
			[]string{"-i", b, "-o", b, "-j", "ACCEPT"},
			[]string{"-i", b, "-o", ours, "-j", "DROP"},
			[]string{"-i", b, "-j", egress},
			[]string{"-o", b, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
			[]string{"-o", b, "-j", "DROP"},
		)
		in4.rules = append(in4.rules,
			[]string{"-i", b, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"},
			[]string{"-d", gw, "-i", b, "-p", "udp", "-m", "udp", "--dport", "53", "-j", "ACCEPT"},
			[]string{"-d", gw, "-i", b, "-p", "tcp", "-m", "tcp", "--dport", "53", "-j", "ACCEPT"},
		)
		for _, p := range n.HostPorts {
			in4.rules = append(in4.rules, []string{"-d", gw, "-i", b, "-p", "tcp", "-m", "tcp", "--dport", strconv.Itoa(int(p)), "-j", "ACCEPT"})
		}
		in4.rules = append(in4.rules, []string{"-i", b, "-j", "DROP"})
		fwd6.rules = append(fwd6.rules,
			[]string{"-i", b, "-o", b, "-j", "ACCEPT"},
			[]string{"-i", b, "-j", "DROP"},
			[]string{"-o", b, "-j", "DROP"},
		)
		in6.rules = append(in6.rules, []string{"-i", b, "-j", "DROP"})
	}
	out := []chainSpec{fwd4, in4}
	if f.v6 != nil {
		out = append(out, fwd6, in6)
	}
	return out
}

// sync makes the chains hold exactly the rules of nets; with no networks it
// removes the chains and their jumps.
func (f *firewall) sync(nets []Network) error {
	if len(nets) == 0 {
		return f.remove()
	}
	var errs []error
	for _, s := range f.specs(nets) {
		if err := s.sync(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// remove deletes the jumps, any guard rules, and the chains.
func (f *firewall) remove() error {
	var errs []error
	for _, s := range f.specs(nil) {
		for _, g := range s.guard {
			if err := s.ipt.DeleteIfExists(filterTable, s.parent, g...); err != nil {
				errs = append(errs, fmt.Errorf("delete %s guard: %w", s.parent, err))
			}
		}
		exists, err := s.ipt.ChainExists(filterTable, s.chain)
		if err != nil {
			errs = append(errs, fmt.Errorf("list chains: %w", err))
			continue
		}
		if !exists {
			continue // and so is the jump: iptables refuses a jump to a missing chain
		}
		if err := s.ipt.DeleteIfExists(filterTable, s.parent, "-j", s.chain); err != nil {
			errs = append(errs, fmt.Errorf("delete %s jump: %w", s.parent, err))
		}
		if err := s.ipt.ClearAndDeleteChain(filterTable, s.chain); err != nil {
			errs = append(errs, fmt.Errorf("delete chain %s: %w", s.chain, err))
		}
	}
	return errors.Join(errs...)
}

// listRules returns the rules of chain as iptables -S prints them, without
// the "-A chain " head.
func listRules(ipt *iptables.IPTables, chain string) ([]string, error) {
	lines, err := ipt.List(filterTable, chain)
	if err != nil {
		return nil, err
	}
	head := "-A " + chain + " "
	var out []string
	for _, l := range lines {
		if r, ok := strings.CutPrefix(l, head); ok {
			out = append(out, r)
		}
	}
	return out, nil
}

func joinRules(rules [][]string) []string {
	out := make([]string, len(rules))
	for i, r := range rules {
		out[i] = strings.Join(r, " ")
	}
	return out
}

// sync brings one chain to its rules (see the type comment of firewall).
func (s chainSpec) sync() error {
	what := "iptables chain " + s.chain
	if s.ipt.Proto() == iptables.ProtocolIPv6 {
		what = "ip6tables chain " + s.chain
	}
	cur, err := listRules(s.ipt, s.chain)
	if err != nil {
		if nerr := s.ipt.NewChain(filterTable, s.chain); nerr != nil {
			return fmt.Errorf("create %s: %w", what, errors.Join(err, nerr))
		}
		cur = nil
	}
	parent, err := listRules(s.ipt, s.parent)
	if err != nil {
		return fmt.Errorf("list %s: %w", s.parent, err)
	}
	jump := "-j " + s.chain
	if !slices.Contains(parent, jump) {
		if err := s.ipt.Insert(filterTable, s.parent, 1, "-j", s.chain); err != nil {
			return fmt.Errorf("jump to %s: %w", what, err)
		}
		parent = slices.Insert(parent, 0, jump)
	}
	want := joinRules(s.rules)
	if err := s.patch(cur, want); err != nil {
		if err := s.rebuild(parent); err != nil {
			return fmt.Errorf("rebuild %s: %w", what, err)
		}
	}
	// A guard left by an interrupted rebuild goes once the chain is right.
	for i, g := range joinRules(s.guard) {
		if slices.Contains(parent, g) {
			if err := s.ipt.DeleteIfExists(filterTable, s.parent, s.guard[i]...); err != nil {
				return fmt.Errorf("delete guard of %s: %w", what, err)
			}
		}
	}
	return nil
}

// errNoPatch says that a chain needs a rebuild.
var errNoPatch = errors.New("chain needs a rebuild")

// patch turns cur into want in place when that takes only appends, deletes or
// one replacement; otherwise it changes nothing and returns errNoPatch.
func (s chainSpec) patch(cur, want []string) error {
	switch {
	case slices.Equal(cur, want):
		return nil
	case len(cur) < len(want) && slices.Equal(cur, want[:len(cur)]):
		for _, r := range s.rules[len(cur):] {
			if err := s.ipt.Append(filterTable, s.chain, r...); err != nil {
				return fmt.Errorf("append: %w", err)
			}
		}
		return nil
	case len(cur) > len(want):
		// Delete the rules that are not in want, if what remains is want.
		var drop []int
		j := 0
		for i, r := range cur {
			if j < len(want) && r == want[j] {
				j++
				continue
			}
			drop = append(drop, i)
		}
		if j != len(want) {
			return errNoPatch
		}
		for k := len(drop) - 1; k >= 0; k-- {
			if err := s.ipt.DeleteById(filterTable, s.chain, drop[k]+1); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		}
		return nil
	case len(cur) == len(want):
		diff := -1
		for i := range cur {
			if cur[i] != want[i] {
				if diff >= 0 {
					return errNoPatch
				}
				diff = i
			}
		}
		if err := s.ipt.Insert(filterTable, s.chain, diff+1, s.rules[diff]...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		if err := s.ipt.DeleteById(filterTable, s.chain, diff+2); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		return nil
	}
	return errNoPatch
}

// rebuild flushes and refills the chain behind guard rules.
func (s chainSpec) rebuild(parent []string) error {
	pos := slices.Index(parent, "-j "+s.chain) + 2 // just after the jump, 1-based
	for i, g := range joinRules(s.guard) {
		if slices.Contains(parent, g) {
			continue
		}
		if err := s.ipt.Insert(filterTable, s.parent, pos, s.guard[i]...); err != nil {
			return fmt.Errorf("guard: %w", err)
		}
	}
	if err := s.ipt.ClearChain(filterTable, s.chain); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	for _, r := range s.rules {
		if err := s.ipt.Append(filterTable, s.chain, r...); err != nil {
			return fmt.Errorf("append: %w", err)
		}
	}
	for _, g := range s.guard {
		if err := s.ipt.DeleteIfExists(filterTable, s.parent, g...); err != nil {
			return fmt.Errorf("delete guard: %w", err)
		}
	}
	return nil
}
