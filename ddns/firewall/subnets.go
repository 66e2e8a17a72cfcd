package firewall

import (
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/vishvananda/netlink"
)

// ownSubnets are the prefixes of the addresses on the box's interfaces,
// leaving out loopback, the app bridges and anything of /0 (a host route
// from a point-to-point link gives its /32 or /128).
func ownSubnets(h *netlink.Handle, appIfaces []string) ([]netip.Prefix, error) {
	links, err := h.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []netip.Prefix
	for _, l := range links {
		name := l.Attrs().Name
		if l.Attrs().Flags&net.FlagLoopback != 0 || name == "lo" || hasAnyPrefix(name, appIfaces) {
			continue
		}
		addrs, err := h.AddrList(l, netlink.FAMILY_ALL)
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", name, err)
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok || a.IPNet == nil {
				continue
			}
			ones, _ := a.Mask.Size()
			p := netip.PrefixFrom(ip.Unmap(), ones).Masked()
			if p.IsValid() && p.Bits() > 0 && !p.Addr().IsLoopback() {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
