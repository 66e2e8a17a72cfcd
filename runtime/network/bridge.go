package network

import (
	"errors"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
)

// ensureBridge makes the network's bridge, with the gateway address, up,
// before any container joins it. The bridge plugin takes an existing bridge
// and address as they are. Having the gateway from the start lets host
// services the network may reach (HostPorts: an app's database, say)
// listen on it before the app's first container starts.
func ensureBridge(n Network) error {
	l, err := netlinksafe.LinkByName(n.Bridge)
	var nf netlink.LinkNotFoundError
	switch {
	case errors.As(err, &nf):
		br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: n.Bridge, TxQLen: -1}}
		if err := netlink.LinkAdd(br); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("create bridge %s: %w", n.Bridge, err)
		}
		if l, err = netlinksafe.LinkByName(n.Bridge); err != nil {
			return fmt.Errorf("find bridge %s: %w", n.Bridge, err)
		}
	case err != nil:
		return fmt.Errorf("find bridge %s: %w", n.Bridge, err)
	}
	if _, ok := l.(*netlink.Bridge); !ok {
		return fmt.Errorf("link %s exists and is not a bridge", n.Bridge)
	}
	gw := &net.IPNet{IP: n.Gateway.AsSlice(), Mask: net.CIDRMask(n.Subnet.Bits(), 32)}
	addrs, err := netlinksafe.AddrList(l, nl.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("addresses of bridge %s: %w", n.Bridge, err)
	}
	have := false
	for _, a := range addrs {
		have = have || a.IPNet.String() == gw.String()
	}
	if !have {
		if err := netlink.AddrAdd(l, &netlink.Addr{IPNet: gw}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("gateway address of bridge %s: %w", n.Bridge, err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("bring bridge %s up: %w", n.Bridge, err)
	}
	return nil
}
