package mdns

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// The mDNS groups and port.
var (
	group4 = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: Port}
	group6 = &net.UDPAddr{IP: net.ParseIP("ff02::fb"), Port: Port}
)

// Port is mDNS's UDP port.
const Port = 5353

// skipPrefixes are interface names never chosen automatically: container
// and VPN links are not the LAN.
var skipPrefixes = []string{"veth", "cni", "docker", "br-", "virbr", "flannel", "cali", "tun", "tap", "wg", "tailscale", "zt", "hearth"}

// iface is a LAN interface and its addresses, read on the Run goroutine.
type iface struct {
	index int
	name  string
	addrs []netip.Addr // sorted; IPv4 first
}

// packet is a message read from a socket.
type packet struct {
	data    []byte
	ifindex int
	src     netip.AddrPort
}

// sockets are the IPv4 and IPv6 mDNS sockets; either may be nil.
type sockets struct {
	v4 *ipv4.PacketConn
	v6 *ipv6.PacketConn
}

// listenReuse binds port 5353 with SO_REUSEADDR and SO_REUSEPORT, as every
// mDNS implementation does, so that other mDNS users of the host coexist.
func listenReuse(ctx context.Context, network, addr string) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
			if serr == nil {
				serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.ListenPacket(ctx, network, addr)
}

// open opens the sockets and joins the groups on ifs. It must run in the
// network namespace the responder serves (the Run goroutine).
func open(ctx context.Context, ifs []iface) (sockets, error) {
	var s sockets
	c4, err := listenReuse(ctx, "udp4", fmt.Sprintf("0.0.0.0:%d", Port))
	if err != nil {
		return s, fmt.Errorf("listen udp4 :%d: %w", Port, err)
	}
	p4 := ipv4.NewPacketConn(c4)
	joined := 0
	for _, ifi := range ifs {
		nif := &net.Interface{Index: ifi.index, Name: ifi.name}
		if err := p4.JoinGroup(nif, group4); err == nil {
			joined++
		}
	}
	if joined == 0 {
		c4.Close()
		return s, fmt.Errorf("join %s on %v: no interface accepted", group4.IP, names(ifs))
	}
	_ = p4.SetControlMessage(ipv4.FlagInterface, true)
	_ = p4.SetMulticastTTL(255)
	_ = p4.SetTTL(255)
	_ = p4.SetMulticastLoopback(true)
	s.v4 = p4

	c6, err := listenReuse(ctx, "udp6", fmt.Sprintf("[::]:%d", Port))
	if err != nil {
		return s, nil // no IPv6 on this host: serve IPv4 only
	}
	p6 := ipv6.NewPacketConn(c6)
	joined = 0
	for _, ifi := range ifs {
		nif := &net.Interface{Index: ifi.index, Name: ifi.name}
		if err := p6.JoinGroup(nif, group6); err == nil {
			joined++
		}
	}
	if joined == 0 {
		c6.Close()
		return s, nil
	}
	_ = p6.SetControlMessage(ipv6.FlagInterface, true)
	_ = p6.SetMulticastHopLimit(255)
	_ = p6.SetHopLimit(255)
	_ = p6.SetMulticastLoopback(true)
	s.v6 = p6
	return s, nil
}

func (s sockets) close() {
	if s.v4 != nil {
		s.v4.Close()
	}
	if s.v6 != nil {
		s.v6.Close()
	}
}

// read4 and read6 send every packet to out until the socket is closed.
func (s sockets) read4(out chan<- packet, done <-chan struct{}) {
	buf := make([]byte, 9000)
	for {
		n, cm, src, err := s.v4.ReadFrom(buf)
		if err != nil {
			return
		}
		p := packet{data: append([]byte(nil), buf[:n]...)}
		if cm != nil {
			p.ifindex = cm.IfIndex
		}
		if ua, ok := src.(*net.UDPAddr); ok {
			p.src = ua.AddrPort()
		}
		select {
		case out <- p:
		case <-done:
			return
		}
	}
}

func (s sockets) read6(out chan<- packet, done <-chan struct{}) {
	buf := make([]byte, 9000)
	for {
		n, cm, src, err := s.v6.ReadFrom(buf)
		if err != nil {
			return
		}
		p := packet{data: append([]byte(nil), buf[:n]...)}
		if cm != nil {
			p.ifindex = cm.IfIndex
		}
		if ua, ok := src.(*net.UDPAddr); ok {
			p.src = ua.AddrPort()
		}
		select {
		case out <- p:
		case <-done:
			return
		}
	}
}

// sendGroup writes b to the group of one family out of interface index.
func (s sockets) sendGroup(b []byte, index int, v6 bool) {
	switch {
	case v6 && s.v6 != nil:
		_, _ = s.v6.WriteTo(b, &ipv6.ControlMessage{IfIndex: index}, group6)
	case !v6 && s.v4 != nil:
		_, _ = s.v4.WriteTo(b, &ipv4.ControlMessage{IfIndex: index}, group4)
	}
}

// send writes b to dst (the group when dst is zero) out of interface
// index, over the family of dst, or over both families for the group.
func (s sockets) send(b []byte, index int, dst netip.AddrPort) {
	if dst.IsValid() {
		ua := net.UDPAddrFromAddrPort(dst)
		if dst.Addr().Unmap().Is4() && s.v4 != nil {
			_, _ = s.v4.WriteTo(b, &ipv4.ControlMessage{IfIndex: index}, ua)
		} else if s.v6 != nil {
			_, _ = s.v6.WriteTo(b, &ipv6.ControlMessage{IfIndex: index}, ua)
		}
		return
	}
	if s.v4 != nil {
		_, _ = s.v4.WriteTo(b, &ipv4.ControlMessage{IfIndex: index}, group4)
	}
	if s.v6 != nil {
		_, _ = s.v6.WriteTo(b, &ipv6.ControlMessage{IfIndex: index}, group6)
	}
}

// lanInterfaces returns the named interfaces, or, when names is empty,
// every interface that is up, does multicast, is not a loopback, not a
// container or VPN link, and has an address. It reads the namespace of the
// calling thread.
func lanInterfaces(names []string) ([]iface, error) {
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var out []iface
	for _, nif := range all {
		if len(names) > 0 {
			if !slices.Contains(names, nif.Name) {
				continue
			}
		} else if nif.Flags&net.FlagUp == 0 || nif.Flags&net.FlagMulticast == 0 || nif.Flags&net.FlagLoopback != 0 ||
			slices.ContainsFunc(skipPrefixes, func(p string) bool { return strings.HasPrefix(nif.Name, p) }) {
			continue
		}
		addrs, err := nif.Addrs()
		if err != nil {
			continue
		}
		ifi := iface{index: nif.Index, name: nif.Name}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(ipn.IP); ok {
					ifi.addrs = append(ifi.addrs, ip.Unmap())
				}
			}
		}
		slices.SortFunc(ifi.addrs, netip.Addr.Compare)
		if len(ifi.addrs) > 0 || len(names) > 0 {
			out = append(out, ifi)
		}
	}
	if len(names) > 0 {
		for _, n := range names {
			if !slices.ContainsFunc(out, func(i iface) bool { return i.name == n }) {
				return nil, fmt.Errorf("interfaces: %q not found: %w", n, ErrInvalidConfig)
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrNoInterface
	}
	return out, nil
}

func names(ifs []iface) []string {
	var out []string
	for _, i := range ifs {
		out = append(out, i.name)
	}
	return out
}
