package discover

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"
)

// STUN message constants (RFC 5389).
const (
	stunBindingRequest  = 0x0001
	stunBindingSuccess  = 0x0101
	stunMagicCookie     = 0x2112A442
	stunHeaderLen       = 20
	stunAttrMapped      = 0x0001
	stunAttrXORMapped   = 0x0020
	stunFamilyIPv4      = 0x01
	stunFamilyIPv6      = 0x02
	stunMaxMessage      = 1500
	stunInitialRTO      = 500 * time.Millisecond
	stunDefaultAttempts = 4
)

// STUNConfig configures a STUN source.
type STUNConfig struct {
	// Server is the STUN server's host:port (3478 when no port).
	Server string
	// Attempts is how many binding requests are sent before giving up,
	// the wait doubling from 500 ms; 0 means 4.
	Attempts int
}

// STUN asks a STUN server (RFC 5389) for the address it sees the box's UDP
// packets come from. It is safe for concurrent use.
type STUN struct {
	server   string
	attempts int
}

var _ Source = (*STUN)(nil)

// NewSTUN checks cfg and returns the source. It does not contact the server.
func NewSTUN(cfg STUNConfig) (*STUN, error) {
	server := cfg.Server
	if _, _, err := net.SplitHostPort(server); err != nil {
		server = net.JoinHostPort(server, "3478")
	}
	if host, port, err := net.SplitHostPort(server); err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("stun server %q: want host:port: %w", cfg.Server, ErrInvalidConfig)
	}
	if cfg.Attempts < 0 {
		return nil, fmt.Errorf("stun attempts %d: negative: %w", cfg.Attempts, ErrInvalidConfig)
	}
	attempts := cfg.Attempts
	if attempts == 0 {
		attempts = stunDefaultAttempts
	}
	return &STUN{server: server, attempts: attempts}, nil
}

// Name returns "stun:" and the server.
func (s *STUN) Name() string { return "stun:" + s.server }

// Lookup sends binding requests over UDP of the given family and returns
// the mapped address of the first valid answer.
func (s *STUN) Lookup(ctx context.Context, family Family) (netip.Addr, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, family.network("udp"), s.server)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return netip.Addr{}, fmt.Errorf("stun %s: no %s address: %w", s.server, family, ErrUnsupported)
		}
		return netip.Addr{}, fmt.Errorf("stun %s: %w", s.server, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	var txID [12]byte
	_, _ = rand.Read(txID[:])
	req := make([]byte, stunHeaderLen)
	binary.BigEndian.PutUint16(req[0:], stunBindingRequest)
	binary.BigEndian.PutUint32(req[4:], stunMagicCookie)
	copy(req[8:], txID[:])

	buf := make([]byte, stunMaxMessage)
	rto := stunInitialRTO
	var lastErr error = errors.New("no answer")
	for range s.attempts {
		if _, err := conn.Write(req); err != nil {
			return netip.Addr{}, fmt.Errorf("stun %s: %w", s.server, s.ctxErr(ctx, err))
		}
		deadline := time.Now().Add(rto)
		rto *= 2
		_ = conn.SetReadDeadline(deadline)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if ctx.Err() != nil {
					return netip.Addr{}, fmt.Errorf("stun %s: %w", s.server, ctx.Err())
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					break // resend
				}
				lastErr = err // e.g. ICMP port unreachable: resend, then give up
				break
			}
			addr, err := parseBindingResponse(buf[:n], txID)
			if err != nil {
				lastErr = err
				continue // a stray or bad packet; keep waiting for ours
			}
			return addr, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("stun %s: %w", s.server, lastErr)
}

func (s *STUN) ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// parseBindingResponse returns the (XOR-)MAPPED-ADDRESS of a binding
// success response to txID.
func parseBindingResponse(b []byte, txID [12]byte) (netip.Addr, error) {
	if len(b) < stunHeaderLen {
		return netip.Addr{}, fmt.Errorf("stun answer of %d bytes: %w", len(b), ErrBadAnswer)
	}
	if binary.BigEndian.Uint16(b[0:]) != stunBindingSuccess ||
		binary.BigEndian.Uint32(b[4:]) != stunMagicCookie ||
		[12]byte(b[8:20]) != txID {
		return netip.Addr{}, fmt.Errorf("stun answer is not a binding success for our request: %w", ErrBadAnswer)
	}
	length := int(binary.BigEndian.Uint16(b[2:]))
	if length%4 != 0 || stunHeaderLen+length > len(b) {
		return netip.Addr{}, fmt.Errorf("stun answer length %d: %w", length, ErrBadAnswer)
	}
	attrs := b[stunHeaderLen : stunHeaderLen+length]
	var mapped netip.Addr
	for len(attrs) >= 4 {
		typ := binary.BigEndian.Uint16(attrs[0:])
		alen := int(binary.BigEndian.Uint16(attrs[2:]))
		if 4+alen > len(attrs) {
			return netip.Addr{}, fmt.Errorf("stun attribute 0x%04x overruns the message: %w", typ, ErrBadAnswer)
		}
		val := attrs[4 : 4+alen]
		switch typ {
		case stunAttrXORMapped:
			return decodeAddress(val, b[4:20])
		case stunAttrMapped:
			if a, err := decodeAddress(val, nil); err == nil {
				mapped = a
			}
		}
		attrs = attrs[(4+alen+3)&^3:]
	}
	if mapped.IsValid() {
		return mapped, nil
	}
	return netip.Addr{}, fmt.Errorf("stun answer has no mapped address: %w", ErrBadAnswer)
}

// decodeAddress decodes a (XOR-)MAPPED-ADDRESS value; xor is the magic
// cookie and transaction ID for XOR-MAPPED-ADDRESS, nil otherwise.
func decodeAddress(v, xor []byte) (netip.Addr, error) {
	if len(v) < 4 {
		return netip.Addr{}, fmt.Errorf("stun address of %d bytes: %w", len(v), ErrBadAnswer)
	}
	var ip []byte
	switch v[1] {
	case stunFamilyIPv4:
		ip = append([]byte(nil), v[4:]...)
		if len(ip) != 4 {
			return netip.Addr{}, fmt.Errorf("stun IPv4 address of %d bytes: %w", len(ip), ErrBadAnswer)
		}
	case stunFamilyIPv6:
		ip = append([]byte(nil), v[4:]...)
		if len(ip) != 16 {
			return netip.Addr{}, fmt.Errorf("stun IPv6 address of %d bytes: %w", len(ip), ErrBadAnswer)
		}
	default:
		return netip.Addr{}, fmt.Errorf("stun address family %d: %w", v[1], ErrBadAnswer)
	}
	for i := range ip {
		if xor != nil {
			ip[i] ^= xor[i]
		}
	}
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap(), nil
}
