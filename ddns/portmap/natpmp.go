package portmap

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"
)

// NAT-PMP (RFC 6886) opcodes and result codes.
const (
	pmpVersion      = 0
	pmpOpExternal   = 0
	pmpOpMapUDP     = 1
	pmpOpMapTCP     = 2
	pmpReplyBit     = 128
	pmpUnsupVersion = 1
)

// pmpResults names NAT-PMP's result codes (RFC 6886 3.5).
var pmpResults = map[int]struct {
	name string
	kind error
}{
	1: {"Unsupported Version", ErrProtocol},
	2: {"Not Authorized/Refused", ErrRefused},
	3: {"Network Failure", nil},
	4: {"Out of resources", ErrRefused},
	5: {"Unsupported opcode", ErrProtocol},
}

func pmpError(action string, code int) error {
	r, ok := pmpResults[code]
	if !ok {
		r.name = "unknown result"
	}
	return &ResultError{Protocol: ProtoNATPMP, Action: action, Code: code, Name: r.name, Kind: r.kind}
}

// natpmp speaks NAT-PMP to the gateway.
type natpmp struct {
	gw      netip.AddrPort
	timeout time.Duration
}

func (c *natpmp) protocol() string { return ProtoNATPMP }
func (c *natpmp) address() string  { return c.gw.String() }

// request sends one NAT-PMP request and checks the answer's header.
func (c *natpmp) request(ctx context.Context, action string, req []byte, size int) ([]byte, error) {
	op := req[1]
	resp, err := exchange(ctx, c.gw, c.timeout, req, func(b []byte) bool {
		// A PCP-only router answers version 2 UNSUPP_VERSION.
		return len(b) >= 4 && (b[0] == pmpVersion || b[0] == pcpVersion) && b[1] == pmpReplyBit+op
	})
	if err != nil {
		return nil, fmt.Errorf("natpmp %s: %w", action, err)
	}
	if resp[0] == pcpVersion {
		return nil, pmpError(action, pmpUnsupVersion)
	}
	if code := int(binary.BigEndian.Uint16(resp[2:4])); code != 0 {
		return nil, pmpError(action, code)
	}
	if len(resp) < size {
		return nil, fmt.Errorf("natpmp %s: answer of %d bytes, want %d: %w", action, len(resp), size, ErrProtocol)
	}
	return resp, nil
}

func (c *natpmp) externalAddr(ctx context.Context) (netip.Addr, error) {
	resp, err := c.request(ctx, "external address", []byte{pmpVersion, pmpOpExternal}, 12)
	if err != nil {
		return netip.Addr{}, err
	}
	return netip.AddrFrom4([4]byte(resp[8:12])), nil
}

func pmpOp(p Port) byte {
	if p.Protocol == UDP {
		return pmpOpMapUDP
	}
	return pmpOpMapTCP
}

func (c *natpmp) mapPort(ctx context.Context, p Port, external uint16, lease time.Duration) (Mapping, error) {
	req := make([]byte, 12)
	req[0], req[1] = pmpVersion, pmpOp(p)
	binary.BigEndian.PutUint16(req[4:], p.Port)
	binary.BigEndian.PutUint16(req[6:], external)
	binary.BigEndian.PutUint32(req[8:], seconds(lease))
	action := "map " + p.String()
	if lease == 0 {
		action = "delete " + p.String()
	}
	resp, err := c.request(ctx, action, req, 16)
	if err != nil {
		return Mapping{}, err
	}
	if got := binary.BigEndian.Uint16(resp[8:10]); got != p.Port {
		return Mapping{}, fmt.Errorf("natpmp %s: answer for internal port %d: %w", action, got, ErrProtocol)
	}
	return Mapping{Port: p, External: binary.BigEndian.Uint16(resp[10:12]),
		Lease: time.Duration(binary.BigEndian.Uint32(resp[12:16])) * time.Second}, nil
}

func (c *natpmp) add(ctx context.Context, p Port, lease time.Duration, _ string) (Mapping, error) {
	return c.mapPort(ctx, p, p.Port, lease)
}

func (c *natpmp) remove(ctx context.Context, m Mapping) error {
	_, err := c.mapPort(ctx, m.Port, 0, 0)
	return err
}

// seconds is d in whole seconds, rounded up, within uint32.
func seconds(d time.Duration) uint32 {
	s := (d + time.Second - 1) / time.Second
	if s > 1<<32-1 {
		return 1<<32 - 1
	}
	return uint32(s)
}

// isNoAnswer reports whether the router stayed silent (or is not there).
func isNoAnswer(err error) bool { return errors.Is(err, errNoAnswer) }
