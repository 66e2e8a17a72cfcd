package discover

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// stunServer is an in-process STUN server on 127.0.0.1:0 (RFC 5389
// binding only). drop makes it ignore the first n requests; legacy makes it
// answer with MAPPED-ADDRESS instead of XOR-MAPPED-ADDRESS.
type stunServer struct {
	addr     string
	requests atomic.Int32
}

func startSTUN(t *testing.T, network, addr string, drop int32, legacy bool) *stunServer {
	t.Helper()
	pc, err := net.ListenPacket(network, addr)
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s := &stunServer{addr: pc.LocalAddr().String()}
	var wg sync.WaitGroup
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if s.requests.Add(1) <= drop || n < 20 || binary.BigEndian.Uint16(buf) != stunBindingRequest {
				continue
			}
			_, _ = pc.WriteTo(bindingSuccess(buf[:20], from.(*net.UDPAddr).AddrPort(), legacy), from)
		}
	})
	t.Cleanup(func() { pc.Close(); wg.Wait() })
	return s
}

func bindingSuccess(req []byte, from netip.AddrPort, legacy bool) []byte {
	ip := from.Addr().Unmap()
	fam, raw := byte(stunFamilyIPv4), ip.AsSlice()
	if ip.Is6() {
		fam = stunFamilyIPv6
	}
	val := make([]byte, 4+len(raw))
	val[1] = fam
	attr := uint16(stunAttrMapped)
	port := from.Port()
	if !legacy {
		attr = stunAttrXORMapped
		port ^= uint16(stunMagicCookie >> 16)
		for i := range raw {
			raw[i] ^= req[4+i]
		}
	}
	binary.BigEndian.PutUint16(val[2:], port)
	copy(val[4:], raw)
	msg := make([]byte, 20, 20+4+len(val)+8)
	binary.BigEndian.PutUint16(msg, stunBindingSuccess)
	copy(msg[4:], req[4:20])
	// An unknown attribute first, as servers send SOFTWARE and others.
	msg = append(msg, 0x80, 0x22, 0, 3, 'h', 'i', '!', 0)
	msg = binary.BigEndian.AppendUint16(msg, attr)
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(val)))
	msg = append(msg, val...)
	binary.BigEndian.PutUint16(msg[2:], uint16(len(msg)-20))
	return msg
}

func TestSTUN(t *testing.T) {
	tests := []struct {
		name    string
		network string
		addr    string
		family  Family
		drop    int32
		legacy  bool
		want    string
	}{
		{name: "xor-mapped", network: "udp4", addr: "127.0.0.1:0", family: IPv4, want: "127.0.0.1"},
		{name: "mapped (RFC 3489 server)", network: "udp4", addr: "127.0.0.1:0", family: IPv4, legacy: true, want: "127.0.0.1"},
		{name: "first request lost", network: "udp4", addr: "127.0.0.1:0", family: IPv4, drop: 1, want: "127.0.0.1"},
		{name: "IPv6", network: "udp6", addr: "[::1]:0", family: IPv6, want: "::1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSTUN(t, tt.network, tt.addr, tt.drop, tt.legacy)
			s, err := NewSTUN(STUNConfig{Server: srv.addr})
			if err != nil {
				t.Fatalf("NewSTUN: %v", err)
			}
			got, err := s.Lookup(t.Context(), tt.family)
			if err != nil {
				t.Fatalf("Lookup: %v", err)
			}
			if got.String() != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if n := srv.requests.Load(); n != tt.drop+1 {
				t.Errorf("got %d requests, want %d", n, tt.drop+1)
			}
		})
	}
}

func TestSTUNNoAnswer(t *testing.T) {
	srv := startSTUN(t, "udp4", "127.0.0.1:0", 100, false)
	s, err := NewSTUN(STUNConfig{Server: srv.addr, Attempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := s.Lookup(t.Context(), IPv4); err == nil {
		t.Fatal("got an address from a silent server, want an error")
	}
	if d := time.Since(start); d < 1400*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %s, want about 1.5 s (500 ms + 1 s)", d)
	}
}

func TestParseBindingResponseRejects(t *testing.T) {
	var tx [12]byte
	tx[0] = 1
	good := bindingSuccess(append([]byte{0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42}, tx[:]...), netip.MustParseAddrPort("198.51.100.1:5000"), false)
	if a, err := parseBindingResponse(good, tx); err != nil || a.String() != "198.51.100.1" {
		t.Fatalf("good answer: got %v, %v; want 198.51.100.1", a, err)
	}
	tests := []struct {
		name string
		msg  func() []byte
	}{
		{"short", func() []byte { return good[:10] }},
		{"other transaction", func() []byte { b := append([]byte(nil), good...); b[19] ^= 1; return b }},
		{"error response", func() []byte { b := append([]byte(nil), good...); b[0], b[1] = 0x01, 0x11; return b }},
		{"length overruns", func() []byte { b := append([]byte(nil), good...); b[3] += 4; return b }},
		{"no address", func() []byte { b := append([]byte(nil), good[:28]...); b[2], b[3] = 0, 8; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := parseBindingResponse(tt.msg(), tx); !errors.Is(err, ErrBadAnswer) {
				t.Errorf("got %v, want %v", err, ErrBadAnswer)
			}
		})
	}
}
