// Package rfc2136test runs an in-process authoritative DNS server for tests,
// the way net/http/httptest runs HTTP servers: it serves one zone on
// 127.0.0.1 over UDP and TCP (same port), answers queries from its records,
// and accepts RFC 2136 updates and AXFR only when signed with its TSIG key.
// Tests use it as the resolver of an in-process ACME server and as the
// target of the rfc2136 provider. Only tests import it.
package rfc2136test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// Config configures Start.
type Config struct {
	// Zone is the zone served, such as "box.test.".
	Zone string
	// KeyName and Secret (base64) are the TSIG key updates and transfers
	// must be signed with.
	KeyName string
	Secret  string
}

// Server is a running test DNS server. Its methods are safe for concurrent
// use.
type Server struct {
	// Addr is host:port, for UDP and TCP alike.
	Addr string

	zone    string
	keyName string
	udp     *dns.Server
	tcp     *dns.Server

	mu      sync.Mutex // guards the fields below
	records []dns.RR
	updates int
	queries []string
}

// Start serves cfg.Zone until the test ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	zone := dns.CanonicalName(cfg.Zone)
	s := &Server{zone: zone, keyName: dns.CanonicalName(cfg.KeyName)}
	soa, err := dns.NewRR(fmt.Sprintf("%s 60 IN SOA ns.%s hostmaster.%s 1 60 60 600 60", zone, zone, zone))
	if err != nil {
		tb.Fatalf("soa: %v", err)
	}
	ns, _ := dns.NewRR(fmt.Sprintf("%s 60 IN NS ns.%s", zone, zone))
	s.records = []dns.RR{soa, ns}

	secrets := map[string]string{s.keyName: cfg.Secret}
	var pc net.PacketConn
	var ln net.Listener
	for attempt := 0; ; attempt++ {
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatalf("listen udp: %v", err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if attempt == 20 {
			tb.Fatalf("listen tcp next to udp: %v", err)
		}
	}
	s.Addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h, TsigSecret: secrets, MsgAcceptFunc: accept}
	s.tcp = &dns.Server{Listener: ln, Handler: h, TsigSecret: secrets, MsgAcceptFunc: accept}
	var wg sync.WaitGroup
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil && !errors.Is(err, net.ErrClosed) {
				tb.Errorf("dns server: %v", err)
			}
		})
		<-started
	}
	tb.Cleanup(func() {
		_ = s.udp.Shutdown()
		_ = s.tcp.Shutdown()
		wg.Wait()
	})
	return s
}

// accept lets UPDATE messages through, which miekg/dns refuses by default.
func accept(dh dns.Header) dns.MsgAcceptAction {
	if int(dh.Bits>>11)&0xF == dns.OpcodeUpdate {
		return dns.MsgAccept
	}
	return dns.DefaultMsgAcceptFunc(dh)
}

// Add adds records given in zone-file syntax ("a.box.test. 60 IN A 127.0.0.1").
func (s *Server) Add(tb testing.TB, records ...string) {
	tb.Helper()
	for _, r := range records {
		rr, err := dns.NewRR(r)
		if err != nil || rr == nil {
			tb.Fatalf("record %q: %v", r, err)
		}
		s.mu.Lock()
		s.add(rr)
		s.mu.Unlock()
	}
}

// Lookup returns the records of name (case-insensitive) and type.
func (s *Server) Lookup(name string, rtype uint16) []dns.RR {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lookup(dns.CanonicalName(name), rtype)
}

// Updates is how many signed updates the server applied.
func (s *Server) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// Queries are the questions asked so far, as "name TYPE".
func (s *Server) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.queries...)
}

func (s *Server) serve(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	signed := r.IsTsig() != nil
	if signed && w.TsigStatus() != nil {
		m.Rcode = dns.RcodeNotAuth
		_ = w.WriteMsg(m) // unsigned: the client cannot trust it, as it should
		return
	}
	if signed {
		t := r.IsTsig()
		defer func() { m.SetTsig(t.Hdr.Name, t.Algorithm, 300, time.Now().Unix()); _ = w.WriteMsg(m) }()
	} else {
		defer func() { _ = w.WriteMsg(m) }()
	}
	name := dns.CanonicalName(q.Name)
	switch {
	case r.Opcode == dns.OpcodeUpdate:
		if !signed {
			m.Rcode = dns.RcodeRefused
			return
		}
		m.Rcode = s.update(name, r.Ns)
	case q.Qtype == dns.TypeAXFR:
		if !signed || name != s.zone {
			m.Rcode = dns.RcodeRefused
			return
		}
		s.mu.Lock()
		m.Answer = append(append([]dns.RR(nil), s.records...), s.records[0])
		s.mu.Unlock()
	default:
		s.answer(m, name, q.Qtype)
	}
}

func (s *Server) answer(m *dns.Msg, name string, qtype uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries = append(s.queries, name+" "+dns.TypeToString[qtype])
	if !s.inZone(name) {
		m.Rcode = dns.RcodeRefused
		return
	}
	m.Answer = s.lookup(name, qtype)
	if len(m.Answer) > 0 {
		return
	}
	if len(s.lookup(name, dns.TypeANY)) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	m.Ns = []dns.RR{dns.Copy(s.records[0])}
}

// update applies an RFC 2136 update section atomically.
func (s *Server) update(zone string, ups []dns.RR) int {
	if zone != s.zone {
		return dns.RcodeNotZone
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range ups {
		if !s.inZone(dns.CanonicalName(rr.Header().Name)) {
			return dns.RcodeNotZone
		}
	}
	next := append([]dns.RR(nil), s.records...)
	for _, rr := range ups {
		h := rr.Header()
		name := dns.CanonicalName(h.Name)
		switch h.Class {
		case dns.ClassINET:
			next = addTo(next, rr)
		case dns.ClassANY:
			next = filter(next, func(x dns.RR) bool {
				xh := x.Header()
				return dns.CanonicalName(xh.Name) == name && xh.Rrtype != dns.TypeSOA &&
					(h.Rrtype == dns.TypeANY || xh.Rrtype == h.Rrtype)
			})
		case dns.ClassNONE:
			want := dns.Copy(rr)
			want.Header().Class = dns.ClassINET
			next = filter(next, func(x dns.RR) bool { return dns.IsDuplicate(x, want) })
		default:
			return dns.RcodeFormatError
		}
	}
	s.records = next
	s.updates++
	return dns.RcodeSuccess
}

func (s *Server) add(rr dns.RR) { s.records = addTo(s.records, rr) }

func addTo(rrs []dns.RR, rr dns.RR) []dns.RR {
	for _, x := range rrs {
		if dns.IsDuplicate(x, rr) {
			return rrs
		}
	}
	c := dns.Copy(rr)
	c.Header().Name = dns.CanonicalName(c.Header().Name)
	return append(rrs, c)
}

// filter returns rrs without those drop reports true for.
func filter(rrs []dns.RR, drop func(dns.RR) bool) []dns.RR {
	out := rrs[:0:0]
	for _, x := range rrs {
		if !drop(x) {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) lookup(name string, rtype uint16) []dns.RR {
	var out []dns.RR
	for _, rr := range s.records {
		h := rr.Header()
		if dns.CanonicalName(h.Name) == name && (rtype == dns.TypeANY || h.Rrtype == rtype) {
			out = append(out, dns.Copy(rr))
		}
	}
	return out
}

func (s *Server) inZone(name string) bool {
	return name == s.zone || strings.HasSuffix(name, "."+s.zone)
}
