package network

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// startUpstream runs a DNS server on 127.0.0.1 that answers A for
// outside.test. and NXDOMAIN for everything else.
func startUpstream(t *testing.T, answer netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		resp := new(dns.Msg).SetReply(req)
		if req.Question[0].Name == "outside.test." && req.Question[0].Qtype == dns.TypeA {
			resp.Answer = append(resp.Answer, &dns.A{Hdr: dns.RR_Header{Name: "outside.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: answer.AsSlice()})
		} else {
			resp.SetRcode(req, dns.RcodeNameError)
		}
		_ = w.WriteMsg(resp)
	})
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			_ = srv.Shutdown()
			<-done
		})
	}
	return pc.LocalAddr().String()
}

// ask sends one query and returns the rcode and the A answers.
func ask(t *testing.T, network, server, name string, qtype uint16) (int, []string) {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(new(dns.Msg).SetQuestion(name, qtype), server)
	if err != nil {
		t.Fatalf("query %s over %s: %v", name, network, err)
	}
	return resp.Rcode, aRecords(resp)
}

func aRecords(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

// TestResponder runs a responder on 127.0.0.1 with the loopback network as
// its "subnet", so that the test's queries come from inside.
func TestResponder(t *testing.T) {
	upstream := startUpstream(t, netip.MustParseAddr("198.18.0.2"))
	r, err := startResponder(netip.MustParseAddrPort("127.0.0.1:0"), "Web", netip.MustParsePrefix("127.0.0.0/8"), false, []string{upstream}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.stop(); err != nil {
			t.Error(err)
		}
	})
	r.register("c1", netip.MustParseAddr("10.89.0.2"), []string{"db", "Postgres"})
	r.register("c2", netip.MustParseAddr("10.89.0.3"), []string{"db"})
	r.register("c3", netip.MustParseAddr("10.89.0.4"), []string{"gone"})
	r.unregister("c3")
	udp, tcp := r.udp.PacketConn.LocalAddr().String(), r.tcp.Listener.Addr().String()

	for _, tc := range []struct {
		name    string
		egress  bool
		query   string
		qtype   uint16
		rcode   int
		answers []string
	}{
		{"name", false, "postgres.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.2"}},
		{"case-insensitive", false, "POSTGRES.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.2"}},
		{"name.network", false, "postgres.web.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.2"}},
		{"shared name", false, "db.", dns.TypeA, dns.RcodeSuccess, []string{"10.89.0.2", "10.89.0.3"}},
		{"AAAA of a known name", false, "db.", dns.TypeAAAA, dns.RcodeSuccess, nil},
		{"unregistered", false, "gone.", dns.TypeA, dns.RcodeRefused, nil},
		{"unknown without egress", false, "outside.test.", dns.TypeA, dns.RcodeRefused, nil},
		{"unknown with egress", true, "outside.test.", dns.TypeA, dns.RcodeSuccess, []string{"198.18.0.2"}},
		{"unknown upstream answer", true, "nothing.test.", dns.TypeA, dns.RcodeNameError, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r.setEgress(tc.egress)
			for _, via := range []struct{ network, addr string }{{"udp", udp}, {"tcp", tcp}} {
				rcode, answers := ask(t, via.network, via.addr, tc.query, tc.qtype)
				if rcode != tc.rcode {
					t.Errorf("%s: got rcode %s, want %s", via.network, dns.RcodeToString[rcode], dns.RcodeToString[tc.rcode])
				}
				if diff := cmp.Diff(tc.answers, answers); diff != "" {
					t.Errorf("%s: answers (-want +got):\n%s", via.network, diff)
				}
			}
		})
	}
}

func TestResponderRefusesOutsiders(t *testing.T) {
	r, err := startResponder(netip.MustParseAddrPort("127.0.0.1:0"), "web", netip.MustParsePrefix("10.89.0.0/24"), true, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.stop() })
	r.register("c1", netip.MustParseAddr("10.89.0.2"), []string{"db"})
	if rcode, answers := ask(t, "udp", r.udp.PacketConn.LocalAddr().String(), "db.", dns.TypeA); rcode != dns.RcodeRefused || answers != nil {
		t.Errorf("got rcode %s and %v, want REFUSED and nothing", dns.RcodeToString[rcode], answers)
	}
}
