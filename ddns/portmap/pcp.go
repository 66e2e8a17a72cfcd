package portmap

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// PCP (RFC 6887) constants.
const (
	pcpVersion     = 2
	pcpOpAnnounce  = 0
	pcpOpMap       = 1
	pcpReplyBit    = 0x80
	pcpHeaderLen   = 24
	pcpMapLen      = 36
	pcpUnsupVer    = 1
	ipProtoTCP     = 6
	ipProtoUDP     = 17
	pcpMapRequest  = pcpHeaderLen + pcpMapLen
	pcpAnnounceLen = pcpHeaderLen
)

// pcpResults names PCP's result codes (RFC 6887 7.4).
var pcpResults = map[int]struct {
	name string
	kind error
}{
	1:  {"UNSUPP_VERSION", ErrProtocol},
	2:  {"NOT_AUTHORIZED", ErrRefused},
	3:  {"MALFORMED_REQUEST", ErrProtocol},
	4:  {"UNSUPP_OPCODE", ErrProtocol},
	5:  {"UNSUPP_OPTION", ErrProtocol},
	6:  {"MALFORMED_OPTION", ErrProtocol},
	7:  {"NETWORK_FAILURE", nil},
	8:  {"NO_RESOURCES", ErrRefused},
	9:  {"UNSUPP_PROTOCOL", ErrRefused},
	10: {"USER_EX_QUOTA", ErrRefused},
	11: {"CANNOT_PROVIDE_EXTERNAL", ErrConflict},
	12: {"ADDRESS_MISMATCH", ErrRefused},
	13: {"EXCESSIVE_REMOTE_PEERS", ErrRefused},
}

func pcpError(action string, code int) error {
	r, ok := pcpResults[code]
	if !ok {
		r.name = "unknown result"
	}
	return &ResultError{Protocol: ProtoPCP, Action: action, Code: code, Name: r.name, Kind: r.kind}
}

// errPCPUnsupported: the router answered in NAT-PMP, so it does not speak
// PCP; the Mapper falls back to NAT-PMP.
var errPCPUnsupported = errors.New("the router speaks NAT-PMP, not PCP")

// pcp speaks PCP to the gateway. A mapping keeps its nonce for its whole
// life: the router renews or deletes it only when the nonce matches.
type pcp struct {
	gw      netip.AddrPort
	timeout time.Duration

	// mu guards nonces and external, the address the last MAP answer gave.
	mu       sync.Mutex
	nonces   map[Port][12]byte
	external netip.Addr
}

func newPCP(gw netip.AddrPort, timeout time.Duration) *pcp {
	return &pcp{gw: gw, timeout: timeout, nonces: map[Port][12]byte{}}
}

func (c *pcp) protocol() string { return ProtoPCP }
func (c *pcp) address() string  { return c.gw.String() }

// pcpHeader writes the common request header.
func pcpHeader(b []byte, op byte, lease time.Duration, client netip.Addr) {
	b[0], b[1] = pcpVersion, op
	binary.BigEndian.PutUint32(b[4:8], seconds(lease))
	a := client.As16() // an IPv4 address is IPv4-mapped (::ffff:a.b.c.d)
	copy(b[8:24], a[:])
}

// send exchanges one request: build gets the box's address on the path to
// the router (PCP wants it in the header).
func (c *pcp) send(ctx context.Context, action string, op byte, build func(client netip.Addr) []byte, accept func([]byte) bool) ([]byte, error) {
	client, err := localAddrTo(ctx, c.gw)
	if err != nil {
		return nil, fmt.Errorf("pcp %s: %w", action, err)
	}
	resp, err := exchange(ctx, c.gw, c.timeout, build(client), func(b []byte) bool {
		if len(b) >= 4 && b[0] == pmpVersion {
			return true // a NAT-PMP router's UNSUPP_VERSION
		}
		return len(b) >= pcpHeaderLen && b[0] == pcpVersion && b[1] == pcpReplyBit|op && accept(b)
	})
	if err != nil {
		return nil, fmt.Errorf("pcp %s: %w", action, err)
	}
	if resp[0] == pmpVersion {
		return nil, fmt.Errorf("pcp %s: %w", action, errPCPUnsupported)
	}
	if code := int(resp[3]); code != 0 {
		if code == pcpUnsupVer {
			return nil, fmt.Errorf("pcp %s: %w", action, errPCPUnsupported)
		}
		return nil, pcpError(action, code)
	}
	return resp, nil
}

// probe sends ANNOUNCE: a PCP router answers it with success.
func (c *pcp) probe(ctx context.Context) error {
	_, err := c.send(ctx, "announce", pcpOpAnnounce, func(client netip.Addr) []byte {
		b := make([]byte, pcpAnnounceLen)
		pcpHeader(b, pcpOpAnnounce, 0, client)
		return b
	}, func([]byte) bool { return true })
	return err
}

func (c *pcp) nonce(p Port) ([12]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.nonces[p]
	if !ok {
		if _, err := rand.Read(n[:]); err != nil {
			return n, fmt.Errorf("pcp nonce: %w", err)
		}
		c.nonces[p] = n
	}
	return n, nil
}

func (c *pcp) mapPort(ctx context.Context, p Port, external uint16, lease time.Duration) (Mapping, error) {
	nonce, err := c.nonce(p)
	if err != nil {
		return Mapping{}, err
	}
	proto := byte(ipProtoTCP)
	if p.Protocol == UDP {
		proto = ipProtoUDP
	}
	action := "map " + p.String()
	if lease == 0 {
		action = "delete " + p.String()
	}
	resp, err := c.send(ctx, action, pcpOpMap, func(client netip.Addr) []byte {
		b := make([]byte, pcpMapRequest)
		pcpHeader(b, pcpOpMap, lease, client)
		m := b[pcpHeaderLen:]
		copy(m[0:12], nonce[:])
		m[12] = proto
		binary.BigEndian.PutUint16(m[16:18], p.Port)
		binary.BigEndian.PutUint16(m[18:20], external)
		any4 := netip.IPv4Unspecified().As16() // any external IPv4 address
		copy(m[20:36], any4[:])
		return b
	}, func(b []byte) bool {
		// Error answers may carry no MAP body; a success must match ours.
		if b[3] != 0 {
			return true
		}
		return len(b) >= pcpMapRequest && bytes.Equal(b[pcpHeaderLen:pcpHeaderLen+12], nonce[:]) &&
			b[pcpHeaderLen+12] == proto && binary.BigEndian.Uint16(b[pcpHeaderLen+16:]) == p.Port
	})
	if err != nil {
		return Mapping{}, err
	}
	m := resp[pcpHeaderLen:]
	got := Mapping{Port: p, External: binary.BigEndian.Uint16(m[18:20]),
		Lease: time.Duration(binary.BigEndian.Uint32(resp[4:8])) * time.Second}
	if lease == 0 {
		c.mu.Lock()
		delete(c.nonces, p)
		c.mu.Unlock()
		return got, nil
	}
	if ext := netip.AddrFrom16([16]byte(m[20:36])).Unmap(); ext.IsValid() && !ext.IsUnspecified() {
		c.mu.Lock()
		c.external = ext
		c.mu.Unlock()
	}
	return got, nil
}

func (c *pcp) add(ctx context.Context, p Port, lease time.Duration, _ string) (Mapping, error) {
	return c.mapPort(ctx, p, p.Port, lease)
}

func (c *pcp) remove(ctx context.Context, m Mapping) error {
	_, err := c.mapPort(ctx, m.Port, 0, 0)
	return err
}

// externalAddr: PCP has no question for it. The last MAP answer tells;
// before any, a router that also speaks NAT-PMP answers that question.
func (c *pcp) externalAddr(ctx context.Context) (netip.Addr, error) {
	c.mu.Lock()
	known := c.external
	c.mu.Unlock()
	if known.IsValid() {
		return known, nil
	}
	pmp := natpmp{gw: c.gw, timeout: c.timeout}
	a, err := pmp.externalAddr(ctx)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("pcp external address: unknown until a port is mapped: %w", err)
	}
	return a, nil
}
