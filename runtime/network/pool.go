package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// subnetAt is the i-th subnet of length bits in pool.
func subnetAt(pool netip.Prefix, bits, i int) netip.Prefix {
	base := pool.Addr().As4()
	v := binary.BigEndian.Uint32(base[:]) + uint32(i)<<(32-bits)
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], v)
	return netip.PrefixFrom(netip.AddrFrom4(a), bits)
}

// subnetIndex is the inverse of subnetAt.
func subnetIndex(pool netip.Prefix, bits int, subnet netip.Prefix) int {
	a, b := pool.Addr().As4(), subnet.Addr().As4()
	return int((binary.BigEndian.Uint32(b[:]) - binary.BigEndian.Uint32(a[:])) >> (32 - bits))
}

// allocate picks the first subnet of the pool that overlaps neither a used
// subnet nor a routed one.
func allocate(pool netip.Prefix, bits int, used, routed []netip.Prefix) (netip.Prefix, error) {
	n := 1 << (bits - pool.Bits())
next:
	for i := range n {
		s := subnetAt(pool, bits, i)
		for _, u := range used {
			if u.Overlaps(s) {
				continue next
			}
		}
		for _, r := range routed {
			if r.Overlaps(s) {
				continue next
			}
		}
		return s, nil
	}
	return netip.Prefix{}, fmt.Errorf("no free /%d in %s: %w", bits, pool, ErrPoolExhausted)
}

// gatewayOf is the subnet's first host address, which the bridge carries.
func gatewayOf(s netip.Prefix) netip.Addr { return s.Masked().Addr().Next() }

// bridgeName names the bridge of the pool's subnet: prefix + fixed-width hex
// of the subnet's index, unique among the Manager's networks by construction.
func bridgeName(prefix string, pool netip.Prefix, bits int, subnet netip.Prefix) string {
	return fmt.Sprintf("%s%0*x", prefix, hexWidth(pool, bits), subnetIndex(pool, bits, subnet))
}

// hostRoutes lists the IPv4 unicast routes of every routing table, but for
// the default routes (which overlap everything).
func hostRoutes() ([]netip.Prefix, error) {
	routes, err := netlinksafe.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	var out []netip.Prefix
	for _, r := range routes {
		if r.Dst == nil || r.Type != unix.RTN_UNICAST {
			continue
		}
		ones, _ := r.Dst.Mask.Size()
		a, ok := netip.AddrFromSlice(r.Dst.IP)
		if !ok || ones == 0 {
			continue
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), ones).Masked())
	}
	return out, nil
}
