package firewall

import (
	"fmt"
	"net/netip"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The table, drawn (nft list table inet hearth prints the same):
//
//	table inet hearth {
//	  set lan4 { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, <own subnets> } }
//	  set lan6 { type ipv6_addr; flags interval; elements = { fc00::/7, fe80::/10, <own subnets> } }
//	  set open_tcp { type inet_service; elements = { 80, 443, <granted>, <admin if opened> } }
//	  set open_udp { type inet_service; elements = { <granted> } }
//	  set lan_tcp  { type inet_service; elements = { <admin>, <granted LAN-only> } }
//	  set lan_udp  { type inet_service; elements = { <granted LAN-only> } }
//	  chain input {
//	    type filter hook input priority filter; policy drop;
//	    ct state established,related accept
//	    ct state invalid drop
//	    iifname "lo" accept
//	    iifname "<app bridge prefix>*" accept           the runtime's iptables chains judge these
//	    icmp type { destination-unreachable, echo-request, time-exceeded, parameter-problem } accept
//	    icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request,
//	                  mld-listener-query, mld-listener-report, mld-listener-done, nd-router-advert,
//	                  nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report } accept
//	    meta l4proto igmp accept
//	    meta nfproto ipv4 udp sport 67 udp dport 68 accept                  DHCP client
//	    ip6 saddr fe80::/10 udp sport 547 udp dport 546 accept              DHCPv6 client
//	    ip saddr @lan4 udp dport 5353 accept                                mDNS
//	    ip6 saddr @lan6 udp dport 5353 accept
//	    tcp dport @open_tcp accept
//	    udp dport @open_udp accept
//	    ip saddr @lan4 tcp dport @lan_tcp accept
//	    ip6 saddr @lan6 tcp dport @lan_tcp accept
//	    ip saddr @lan4 udp dport @lan_udp accept
//	    ip6 saddr @lan6 udp dport @lan_udp accept
//	    ip saddr @lan4 udp sport 1900 udp dport >= 1024 accept              SSDP answers, with Config.UPnP
//	  }
//	}

// icmpTypes and icmpv6Types are the ICMP messages always accepted (errors
// that belong to a connection pass as "related" anyway).
var (
	icmpTypes   = []byte{3, 8, 11, 12}
	icmpv6Types = []byte{1, 2, 3, 4, 128, 130, 131, 132, 134, 135, 136, 143}
)

// linkLocal and linkLocalMask are fe80::/10.
var (
	linkLocal     = netip.MustParseAddr("fe80::").As16()
	linkLocalMask = netip.MustParseAddr("ffc0::").As16()
)

// Register 1 holds every value loaded; each rule reloads what it needs.
const reg = 1

func accept() expr.Any { return &expr.Verdict{Kind: expr.VerdictAccept} }

func eq(data ...byte) expr.Any {
	return &expr.Cmp{Op: expr.CmpOpEq, Register: reg, Data: data}
}

func meta(key expr.MetaKey, value byte) []expr.Any {
	return []expr.Any{&expr.Meta{Key: key, Register: reg}, eq(value)}
}

func nfproto(p byte) []expr.Any { return meta(expr.MetaKeyNFPROTO, p) }
func l4proto(p byte) []expr.Any { return meta(expr.MetaKeyL4PROTO, p) }

// port loads the transport header's source (offset 0) or destination
// (offset 2) port.
func port(offset uint32) expr.Any {
	return &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: offset, Len: 2}
}

const (
	sport = 0
	dport = 2
)

func be16(v uint16) []byte { return binaryutil.BigEndian.PutUint16(v) }

func lookup(s *nftables.Set) expr.Any {
	return &expr.Lookup{SourceRegister: reg, SetName: s.Name, SetID: s.ID}
}

// saddrIn matches an IPv4 (v6 false) or IPv6 source address in set s.
func saddrIn(v6 bool, s *nftables.Set) []expr.Any {
	if v6 {
		return append(nfproto(unix.NFPROTO_IPV6),
			&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16}, lookup(s))
	}
	return append(nfproto(unix.NFPROTO_IPV4),
		&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}, lookup(s))
}

// iifname matches an input interface by name, or by name prefix.
func iifname(name string, prefix bool) []expr.Any {
	data := []byte(name)
	if !prefix {
		data = make([]byte, unix.IFNAMSIZ)
		copy(data, name)
	}
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyIIFNAME, Register: reg}, eq(data...)}
}

// ctState matches when the connection state has one of the bits.
func ctState(bits uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: reg, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: reg, DestRegister: reg, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: reg, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// write queues the whole table on c: add it (so that the delete cannot
// fail), delete it with all it holds, and add it again with its content.
// c.Flush sends the lot as one netlink batch, which the kernel applies as
// one transaction: all of it or nothing.
func write(c *nftables.Conn, name string, p plan) error {
	old := &nftables.Table{Name: name, Family: nftables.TableFamilyINet}
	c.AddTable(old)
	c.DelTable(old)
	t := c.AddTable(&nftables.Table{Name: name, Family: nftables.TableFamilyINet})

	addrSet := func(name string, typ nftables.SetDatatype, ranges []addrRange) (*nftables.Set, error) {
		s := &nftables.Set{Table: t, Name: name, KeyType: typ, Interval: true}
		var elems []nftables.SetElement
		for _, r := range ranges {
			elems = append(elems, nftables.SetElement{Key: r.From.AsSlice()})
			if end := r.To.Next(); end.IsValid() {
				elems = append(elems, nftables.SetElement{Key: end.AsSlice(), IntervalEnd: true})
			}
		}
		if err := c.AddSet(s, elems); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
		return s, nil
	}
	portSet := func(name string, ports []uint16) (*nftables.Set, error) {
		s := &nftables.Set{Table: t, Name: name, KeyType: nftables.TypeInetService}
		var elems []nftables.SetElement
		for _, p := range ports {
			elems = append(elems, nftables.SetElement{Key: be16(p)})
		}
		if err := c.AddSet(s, elems); err != nil {
			return nil, fmt.Errorf("set %s: %w", name, err)
		}
		return s, nil
	}
	typeSet := func(typ nftables.SetDatatype, types []byte) (*nftables.Set, error) {
		s := &nftables.Set{Table: t, Anonymous: true, Constant: true, KeyType: typ}
		var elems []nftables.SetElement
		for _, v := range types {
			elems = append(elems, nftables.SetElement{Key: []byte{v}})
		}
		if err := c.AddSet(s, elems); err != nil {
			return nil, fmt.Errorf("set of %s: %w", typ.Name, err)
		}
		return s, nil
	}

	lan4, err := addrSet("lan4", nftables.TypeIPAddr, p.lan4)
	if err != nil {
		return err
	}
	lan6, err := addrSet("lan6", nftables.TypeIP6Addr, p.lan6)
	if err != nil {
		return err
	}
	sets := map[string]*nftables.Set{}
	for _, s := range []struct {
		name  string
		ports []uint16
	}{{"open_tcp", p.openTCP}, {"open_udp", p.openUDP}, {"lan_tcp", p.lanTCP}, {"lan_udp", p.lanUDP}} {
		if sets[s.name], err = portSet(s.name, s.ports); err != nil {
			return err
		}
	}
	icmp, err := typeSet(nftables.TypeICMPType, icmpTypes)
	if err != nil {
		return err
	}
	icmp6, err := typeSet(nftables.TypeICMP6Type, icmpv6Types)
	if err != nil {
		return err
	}

	policy := nftables.ChainPolicyDrop
	input := c.AddChain(&nftables.Chain{Name: "input", Table: t, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter, Policy: &policy})

	tcp, udp := l4proto(unix.IPPROTO_TCP), l4proto(unix.IPPROTO_UDP)
	rules := [][]expr.Any{
		join(ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), []expr.Any{accept()}),
		join(ctState(expr.CtStateBitINVALID), []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}),
		join(iifname("lo", false), []expr.Any{accept()}),
	}
	for _, name := range p.appIfaces {
		rules = append(rules, join(iifname(name, true), []expr.Any{accept()}))
	}
	icmpType := &expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1}
	rules = append(rules,
		join(nfproto(unix.NFPROTO_IPV4), l4proto(unix.IPPROTO_ICMP), []expr.Any{icmpType, lookup(icmp), accept()}),
		join(nfproto(unix.NFPROTO_IPV6), l4proto(unix.IPPROTO_ICMPV6), []expr.Any{icmpType, lookup(icmp6), accept()}),
		join(l4proto(unix.IPPROTO_IGMP), []expr.Any{accept()}),
		join(nfproto(unix.NFPROTO_IPV4), udp, []expr.Any{port(sport), eq(be16(67)...), port(dport), eq(be16(68)...), accept()}),
		join(nfproto(unix.NFPROTO_IPV6), []expr.Any{
			&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16},
			&expr.Bitwise{SourceRegister: reg, DestRegister: reg, Len: 16, Mask: linkLocalMask[:], Xor: make([]byte, 16)},
			eq(linkLocal[:]...),
		}, udp, []expr.Any{port(sport), eq(be16(547)...), port(dport), eq(be16(546)...), accept()}),
	)
	for _, v6 := range []bool{false, true} {
		lan := lan4
		if v6 {
			lan = lan6
		}
		rules = append(rules, join(saddrIn(v6, lan), udp, []expr.Any{port(dport), eq(be16(5353)...), accept()}))
	}
	rules = append(rules,
		join(tcp, []expr.Any{port(dport), lookup(sets["open_tcp"]), accept()}),
		join(udp, []expr.Any{port(dport), lookup(sets["open_udp"]), accept()}),
	)
	for _, proto := range []struct {
		match []expr.Any
		set   *nftables.Set
	}{{tcp, sets["lan_tcp"]}, {udp, sets["lan_udp"]}} {
		rules = append(rules,
			join(saddrIn(false, lan4), proto.match, []expr.Any{port(dport), lookup(proto.set), accept()}),
			join(saddrIn(true, lan6), proto.match, []expr.Any{port(dport), lookup(proto.set), accept()}))
	}
	if p.upnp {
		rules = append(rules, join(saddrIn(false, lan4), udp, []expr.Any{port(sport), eq(be16(1900)...), port(dport),
			&expr.Cmp{Op: expr.CmpOpGte, Register: reg, Data: be16(1024)}, accept()}))
	}
	for _, r := range rules {
		c.AddRule(&nftables.Rule{Table: t, Chain: input, Exprs: r})
	}
	return nil
}
