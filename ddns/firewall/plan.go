package firewall

import (
	"net/netip"
	"slices"
)

// plan is the whole table's content, computed from the configuration, the
// rules and the box's subnets: what Apply writes, and what it compares with
// the last write.
type plan struct {
	lan4, lan6       []addrRange
	openTCP, openUDP []uint16
	lanTCP, lanUDP   []uint16
	appIfaces        []string
	upnp             bool
}

// makePlan sorts the ports into the four sets: a port granted both from
// anywhere and LAN-only is open to anywhere.
func makePlan(cfg Config, r Rules, own []netip.Prefix) plan {
	p := plan{appIfaces: slices.Clone(cfg.AppInterfaces), upnp: cfg.UPnP}
	var v4, v6 []netip.Prefix
	for _, pr := range append(slices.Clone(cfg.LAN), own...) {
		if pr.Addr().Unmap().Is4() {
			v4 = append(v4, netip.PrefixFrom(pr.Addr().Unmap(), min(pr.Bits(), 32)))
		} else {
			v6 = append(v6, pr)
		}
	}
	p.lan4, p.lan6 = mergeRanges(v4), mergeRanges(v6)
	p.openTCP = append(p.openTCP, cfg.WebPorts...)
	if r.AdminOpen {
		p.openTCP = append(p.openTCP, cfg.AdminPorts...)
	} else {
		p.lanTCP = append(p.lanTCP, cfg.AdminPorts...)
	}
	for _, port := range r.Ports {
		switch {
		case port.Protocol == TCP && port.LANOnly:
			p.lanTCP = append(p.lanTCP, port.Port)
		case port.Protocol == TCP:
			p.openTCP = append(p.openTCP, port.Port)
		case port.LANOnly:
			p.lanUDP = append(p.lanUDP, port.Port)
		default:
			p.openUDP = append(p.openUDP, port.Port)
		}
	}
	p.openTCP, p.openUDP = sortedUnique(p.openTCP), sortedUnique(p.openUDP)
	p.lanTCP = without(sortedUnique(p.lanTCP), p.openTCP)
	p.lanUDP = without(sortedUnique(p.lanUDP), p.openUDP)
	return p
}

func sortedUnique(ports []uint16) []uint16 {
	out := slices.Clone(ports)
	slices.Sort(out)
	return slices.Compact(out)
}

func without(ports, drop []uint16) []uint16 {
	return slices.DeleteFunc(ports, func(p uint16) bool { return slices.Contains(drop, p) })
}

func (p plan) equal(q plan) bool {
	return slices.Equal(p.lan4, q.lan4) && slices.Equal(p.lan6, q.lan6) &&
		slices.Equal(p.openTCP, q.openTCP) && slices.Equal(p.openUDP, q.openUDP) &&
		slices.Equal(p.lanTCP, q.lanTCP) && slices.Equal(p.lanUDP, q.lanUDP) &&
		slices.Equal(p.appIfaces, q.appIfaces) && p.upnp == q.upnp
}
