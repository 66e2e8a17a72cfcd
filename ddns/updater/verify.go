package updater

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// verifyPoll is how often the authorities are asked again while a change
// has not reached them all.
const verifyPoll = 2 * time.Second

// verify waits until every authoritative server of the zone answers the
// name with exactly the wanted addresses, or VerifyTimeout passes.
func (u *Updater) verify(ctx context.Context, want map[string]netip.Addr) error {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.VerifyTimeout)
	defer cancel()
	servers, err := u.authorities(ctx)
	if err != nil {
		return fmt.Errorf("verify %s: %w", u.fqdn, err)
	}
	tick := time.NewTicker(verifyPoll)
	defer tick.Stop()
	for {
		lag := u.lagging(ctx, servers, want)
		if lag == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return fmt.Errorf("verify %s: %s after %s: %w", u.fqdn, lag, u.cfg.VerifyTimeout, ErrNotVerified)
			}
			return fmt.Errorf("verify %s: %w", u.fqdn, ctx.Err())
		case <-tick.C:
		}
	}
}

// lagging asks each server and describes the first that does not show
// want yet; "" when all do.
func (u *Updater) lagging(ctx context.Context, servers []string, want map[string]netip.Addr) string {
	for _, srv := range servers {
		for _, typ := range []string{"A", "AAAA"} {
			a, ok := want[typ]
			if !ok {
				continue
			}
			got, err := u.ask(ctx, srv, u.fqdn, dns.StringToType[typ])
			if err != nil {
				return fmt.Sprintf("%s: %v", srv, err)
			}
			if len(got) != 1 || got[0] != a.String() {
				return fmt.Sprintf("%s answers %s %v, want %s", srv, typ, got, a)
			}
		}
	}
	return ""
}

// ask sends a non-recursive query to an authoritative server and returns
// the answer's data of that type, sorted.
func (u *Updater) ask(ctx context.Context, server, name string, qtype uint16) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = false
	r, err := exchange(ctx, m, server)
	if err != nil {
		return nil, err
	}
	if !r.Authoritative {
		return nil, fmt.Errorf("answer is not authoritative")
	}
	if r.Rcode != dns.RcodeSuccess && r.Rcode != dns.RcodeNameError {
		return nil, fmt.Errorf("answered %s", dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.A:
			if qtype == dns.TypeA && strings.EqualFold(v.Hdr.Name, name) {
				out = append(out, v.A.String())
			}
		case *dns.AAAA:
			if qtype == dns.TypeAAAA && strings.EqualFold(v.Hdr.Name, name) {
				out = append(out, v.AAAA.String())
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// authorities returns the servers to verify with: Config.Authorities, or
// the addresses of the zone's NS hosts as the resolver knows them.
func (u *Updater) authorities(ctx context.Context) ([]string, error) {
	if len(u.cfg.Authorities) > 0 {
		return u.cfg.Authorities, nil
	}
	resolver := u.cfg.Resolver
	if resolver == "" {
		cc, err := dns.ClientConfigFromFile(u.cfg.ResolvConf)
		if err != nil || len(cc.Servers) == 0 {
			return nil, fmt.Errorf("no resolver in %s: %v", u.cfg.ResolvConf, err)
		}
		resolver = net.JoinHostPort(cc.Servers[0], cc.Port)
	}
	hosts, err := resolve(ctx, resolver, u.cfg.Zone, dns.TypeNS)
	if err != nil {
		return nil, fmt.Errorf("ns of %s: %w", u.cfg.Zone, err)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("ns of %s: none found by %s", u.cfg.Zone, resolver)
	}
	var servers []string
	for _, h := range hosts {
		for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
			addrs, err := resolve(ctx, resolver, h, t)
			if err != nil {
				continue
			}
			for _, a := range addrs {
				servers = append(servers, net.JoinHostPort(a, u.cfg.AuthorityPort))
			}
		}
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("no address for the name servers %v of %s", hosts, u.cfg.Zone)
	}
	slices.Sort(servers)
	return slices.Compact(servers), nil
}

// resolve asks a recursive resolver for name's records of qtype and
// returns their data (NS targets, addresses).
func resolve(ctx context.Context, resolver, name string, qtype uint16) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.CanonicalName(name), qtype)
	r, err := exchange(ctx, m, resolver)
	if err != nil {
		return nil, err
	}
	if r.Rcode != dns.RcodeSuccess {
		return nil, fmt.Errorf("%s answered %s", resolver, dns.RcodeToString[r.Rcode])
	}
	var out []string
	for _, rr := range r.Answer {
		switch v := rr.(type) {
		case *dns.NS:
			out = append(out, v.Ns)
		case *dns.A:
			out = append(out, v.A.String())
		case *dns.AAAA:
			out = append(out, v.AAAA.String())
		}
	}
	return out, nil
}

// exchange sends m over UDP, and again over TCP if the answer was cut.
func exchange(ctx context.Context, m *dns.Msg, server string) (*dns.Msg, error) {
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && r.Truncated {
		c.Net = "tcp"
		r, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}
