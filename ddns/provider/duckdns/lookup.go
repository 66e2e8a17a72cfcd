package duckdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// dnsTimeout bounds one DNS exchange.
const dnsTimeout = 3 * time.Second

// defaultNameservers are DuckDNS's own name servers, asked when
// Provider.Nameservers is empty: asking them directly, rather than a caching
// resolver, shows a change as soon as DuckDNS has made it.
func defaultNameservers() []string {
	return []string{"ns1.duckdns.org:53", "ns2.duckdns.org:53", "ns3.duckdns.org:53"}
}

// current is what DuckDNS serves for one name.
type current struct {
	v4, v6 netip.Addr // invalid when absent
	txt    string     // "" when absent
	ttl    time.Duration
}

// lookup reads the A and AAAA records of host and the TXT record of
// _acme-challenge.host from the name servers, trying each in turn.
func (p *Provider) lookup(ctx context.Context, host string) (current, error) {
	servers := p.Nameservers
	if len(servers) == 0 {
		servers = defaultNameservers()
	}
	for i, s := range servers {
		if _, _, err := net.SplitHostPort(s); err != nil {
			return current{}, fmt.Errorf("field Nameservers[%d] %q: want host:port: %w", i, s, ErrInvalid)
		}
	}
	var cur current
	questions := []struct {
		name  string
		qtype uint16
	}{
		{host, dns.TypeA},
		{host, dns.TypeAAAA},
		{challengePrefix + host, dns.TypeTXT},
	}
	for _, q := range questions {
		answer, err := ask(ctx, servers, q.name, q.qtype)
		if err != nil {
			return current{}, err
		}
		for _, rr := range answer {
			switch rr := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(rr.A.To4()); ok && !cur.v4.IsValid() {
					cur.v4 = a
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(rr.AAAA.To16()); ok && !cur.v6.IsValid() {
					cur.v6 = a
				}
			case *dns.TXT:
				if cur.txt == "" {
					cur.txt = strings.Join(rr.Txt, "")
				}
			default:
				continue
			}
			cur.ttl = time.Duration(rr.Header().Ttl) * time.Second
		}
	}
	return cur, nil
}

// ask sends one question to each server in turn until one answers with
// NOERROR or NXDOMAIN, and returns that answer's records of qtype.
func ask(ctx context.Context, servers []string, name string, qtype uint16) ([]dns.RR, error) {
	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.RecursionDesired = false
	var errs []error
	for _, server := range servers {
		in, err := exchange(ctx, msg, server)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s: %w", server, err))
			continue
		}
		switch in.Rcode {
		case dns.RcodeSuccess, dns.RcodeNameError:
		default:
			errs = append(errs, fmt.Errorf("%s answered %s", server, dns.RcodeToString[in.Rcode]))
			continue
		}
		var out []dns.RR
		for _, rr := range in.Answer {
			if rr.Header().Rrtype == qtype {
				out = append(out, rr)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("asking for %s %s: %w", dns.TypeToString[qtype], name, errors.Join(errs...))
}

// exchange sends msg over UDP, and again over TCP if the answer was
// truncated.
func exchange(ctx context.Context, msg *dns.Msg, server string) (*dns.Msg, error) {
	c := &dns.Client{Net: "udp", Timeout: dnsTimeout}
	in, _, err := c.ExchangeContext(ctx, msg, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, msg, server)
	}
	return in, err
}
