package portmap

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// natpmpPort is where NAT-PMP and PCP servers listen.
const natpmpPort = 5351

// defaultGateway is the IPv4 default route's next hop, port 5351.
func defaultGateway() (netip.AddrPort, error) {
	routes, err := netlink.RouteList(nil, netlink.FAMILY_V4)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("read routes: %w", err)
	}
	for _, r := range routes {
		if (r.Dst == nil || r.Dst.IP.IsUnspecified()) && r.Gw != nil {
			if gw, ok := netip.AddrFromSlice(r.Gw); ok {
				return netip.AddrPortFrom(gw.Unmap(), natpmpPort), nil
			}
		}
	}
	return netip.AddrPort{}, fmt.Errorf("no IPv4 default route: %w", ErrNoRouter)
}
