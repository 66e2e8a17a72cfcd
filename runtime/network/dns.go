package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DNS behaviour.
const (
	dnsTTL            = 5 // seconds: containers come and go, and change addresses
	forwardTimeout    = 2 * time.Second
	dnsShutdownBudget = 2 * time.Second
)

// responder is one network's DNS server, on the gateway's port 53 (UDP and
// TCP). It answers A for the names of the network's containers ("name" and
// "name.<network>", case-insensitive), an empty NOERROR for their other
// types, and forwards every other name to the upstreams when the network has
// egress (REFUSED without). Clients outside the subnet are REFUSED.
type responder struct {
	network string
	subnet  netip.Prefix
	log     *slog.Logger

	udp, tcp *dns.Server
	// ctx bounds forwarded queries; cancel ends them at stop.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // the two serving goroutines

	// mu guards egress, upstreams and names; ServeDNS reads them
	// concurrently with the Manager's updates.
	mu        sync.RWMutex
	egress    bool
	upstreams []string
	// names maps a lowercase FQDN ("db.", "db.web.") to the addresses of
	// the containers (by ID) that registered it.
	names map[string]map[string]netip.Addr
}

// startResponder listens on addr (UDP and TCP) and serves until stop.
func startResponder(addr netip.AddrPort, network string, subnet netip.Prefix, egress bool, upstreams []string, log *slog.Logger) (*responder, error) {
	pc, err := net.ListenPacket("udp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		_ = pc.Close()
		return nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &responder{
		network:   strings.ToLower(network),
		subnet:    subnet,
		log:       log,
		ctx:       ctx,
		cancel:    cancel,
		egress:    egress,
		upstreams: upstreams,
		names:     map[string]map[string]netip.Addr{},
	}
	r.udp = &dns.Server{PacketConn: pc, Handler: r}
	r.tcp = &dns.Server{Listener: ln, Handler: r, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	if err := r.serve(r.udp); err != nil {
		_ = ln.Close()
		cancel()
		r.wg.Wait()
		return nil, fmt.Errorf("dns on %s: %w", addr, err)
	}
	if err := r.serve(r.tcp); err != nil {
		return nil, errors.Join(fmt.Errorf("dns on %s: %w", addr, err), r.stop())
	}
	return r, nil
}

// serve runs srv on a goroutine owned by r and returns once it listens.
func (r *responder) serve(srv *dns.Server) error {
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	done := make(chan error, 1)
	r.wg.Go(func() { done <- srv.ActivateAndServe() })
	select {
	case <-started:
		return nil
	case err := <-done:
		return err
	}
}

// stop shuts both servers down and waits for them.
func (r *responder) stop() error {
	r.cancel()
	var errs []error
	for _, s := range []*dns.Server{r.udp, r.tcp} {
		ctx, cancel := context.WithTimeout(context.Background(), dnsShutdownBudget)
		if err := s.ShutdownContext(ctx); err != nil && !strings.Contains(err.Error(), "not started") {
			errs = append(errs, err)
		}
		cancel()
	}
	r.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("stop dns of %s: %w", r.network, err)
	}
	return nil
}

func (r *responder) setEgress(on bool) {
	r.mu.Lock()
	r.egress = on
	r.mu.Unlock()
}

// register makes names resolve to ip, replacing what id registered before.
func (r *responder) register(id string, ip netip.Addr, names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unregisterLocked(id)
	if !ip.IsValid() {
		return
	}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		for _, fq := range []string{n + ".", n + "." + r.network + "."} {
			if r.names[fq] == nil {
				r.names[fq] = map[string]netip.Addr{}
			}
			r.names[fq][id] = ip
		}
	}
}

func (r *responder) unregister(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.unregisterLocked(id)
}

func (r *responder) unregisterLocked(id string) {
	for fq, ids := range r.names {
		delete(ids, id)
		if len(ids) == 0 {
			delete(r.names, fq)
		}
	}
}

// lookup returns the sorted addresses of name, whether it is known, and the
// egress switch with the upstreams.
func (r *responder) lookup(name string) (ips []netip.Addr, known, egress bool, upstreams []string) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids, known := r.names[strings.ToLower(name)]
	for _, ip := range ids {
		ips = append(ips, ip)
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	return ips, known, r.egress, r.upstreams
}

// ServeDNS implements dns.Handler.
func (r *responder) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	resp := r.answer(w.RemoteAddr(), req)
	if err := w.WriteMsg(resp); err != nil {
		r.log.Debug("dns reply failed", "network", r.network, "err", err)
	}
}

func (r *responder) answer(client net.Addr, req *dns.Msg) *dns.Msg {
	resp := new(dns.Msg)
	if !r.subnet.Contains(addrOf(client)) {
		return resp.SetRcode(req, dns.RcodeRefused)
	}
	if req.Opcode != dns.OpcodeQuery {
		return resp.SetRcode(req, dns.RcodeNotImplemented)
	}
	if len(req.Question) != 1 || req.Question[0].Qclass != dns.ClassINET {
		return resp.SetRcode(req, dns.RcodeFormatError)
	}
	q := req.Question[0]
	ips, known, egress, upstreams := r.lookup(q.Name)
	if !known {
		if !egress {
			return resp.SetRcode(req, dns.RcodeRefused)
		}
		return r.forward(req, client, upstreams)
	}
	resp.SetReply(req)
	resp.Authoritative = true
	resp.RecursionAvailable = egress
	if q.Qtype == dns.TypeA {
		for _, ip := range ips {
			resp.Answer = append(resp.Answer, &dns.A{
				Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: dnsTTL},
				A:   ip.AsSlice(),
			})
		}
	}
	return resp
}

// forward asks the upstreams in turn, over the transport the client used.
func (r *responder) forward(req *dns.Msg, client net.Addr, upstreams []string) *dns.Msg {
	c := &dns.Client{Net: "udp", Timeout: forwardTimeout}
	if _, ok := client.(*net.TCPAddr); ok {
		c.Net = "tcp"
	}
	for _, u := range upstreams {
		in, _, err := c.ExchangeContext(r.ctx, req, u)
		if err == nil {
			return in
		}
		r.log.Debug("dns forward failed", "network", r.network, "upstream", u, "err", err)
	}
	return new(dns.Msg).SetRcode(req, dns.RcodeServerFailure)
}

// addrOf is the IP of a UDP or TCP address; the zero Addr otherwise.
func addrOf(a net.Addr) netip.Addr {
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(a.IP)
		return ip.Unmap()
	}
	return netip.Addr{}
}
