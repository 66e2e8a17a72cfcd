package portmap

import (
	"context"
	"fmt"
	"net"
	"net/netip"
)

// localAddrTo is the box's address on the path to dst: the local end of a
// connected UDP socket, which sends nothing.
func localAddrTo(ctx context.Context, dst netip.AddrPort) (netip.Addr, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "udp", dst.String())
	if err != nil {
		return netip.Addr{}, fmt.Errorf("route to %s: %w", dst, err)
	}
	defer c.Close()
	la, ok := c.LocalAddr().(*net.UDPAddr)
	if !ok {
		return netip.Addr{}, fmt.Errorf("route to %s: no local address", dst)
	}
	return la.AddrPort().Addr().Unmap(), nil
}
