// Package reach checks that the box can be reached under its public name:
// the name resolves to the public address, and, when an outside checker is
// configured, that port 443 answers from the internet. A box cannot truly
// test itself from outside without such a helper (docs/reachability.md says
// why). It knows nothing of apps; the agent imports it.
package reach

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"time"

	"github.com/miekg/dns"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used; the
	// message names it.
	ErrInvalidConfig = errors.New("invalid reach config")
	// ErrInvalidName reports a name that is not a domain name.
	ErrInvalidName = errors.New("invalid name")
)

// Port outcomes in Result.Port443.
const (
	PortUnchecked = "unchecked" // no checker configured
	PortOpen      = "open"
	PortClosed    = "closed"
	PortError     = "error" // the checker could not be asked
)

// Config configures a Checker.
type Config struct {
	// Resolver is the recursive resolver (host:port) asked for the name;
	// empty means the first nameserver of ResolvConf.
	Resolver string
	// ResolvConf is read when Resolver is empty; empty means
	// /etc/resolv.conf.
	ResolvConf string
	// CheckerURL, if set, is an outside service asked whether port 443 of
	// the name answers: GET CheckerURL?host=<name>&port=443, answering
	// JSON {"reachable": bool, "error": "..."}. It must be https (or http
	// to a loopback address, for tests).
	CheckerURL string
	// HTTPClient asks the checker; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each question; 0 means 10 s.
	Timeout time.Duration
}

// Result is what Check found.
type Result struct {
	Name string `json:"name"`
	// Want are the public addresses the name should resolve to.
	Want []netip.Addr `json:"want"`
	// Resolved are the addresses the resolver gave.
	Resolved []netip.Addr `json:"resolved"`
	// Resolves is true when every wanted address is among them.
	Resolves bool `json:"resolves"`
	// Port443 is PortUnchecked, PortOpen, PortClosed or PortError.
	Port443 string `json:"port_443"`
	// Problems say in plain words what is wrong; empty when nothing is.
	Problems []string `json:"problems,omitempty"`
}

// Checker runs reachability checks. It is safe for concurrent use.
type Checker struct {
	resolver   string
	resolvConf string
	checker    string
	client     *http.Client
	timeout    time.Duration
}

// New checks cfg and returns a Checker. It contacts nothing.
func New(cfg Config) (*Checker, error) {
	if cfg.Resolver != "" {
		if _, _, err := net.SplitHostPort(cfg.Resolver); err != nil {
			return nil, fmt.Errorf("resolver %q: want host:port: %w", cfg.Resolver, ErrInvalidConfig)
		}
	}
	if cfg.CheckerURL != "" {
		u, err := url.Parse(cfg.CheckerURL)
		if err != nil || u.Host == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("checker_url %q: want an absolute URL without a query: %w", cfg.CheckerURL, ErrInvalidConfig)
		}
		ip, ipErr := netip.ParseAddr(u.Hostname())
		if u.Scheme != "https" && (u.Scheme != "http" || ipErr != nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("checker_url %q: want https: %w", cfg.CheckerURL, ErrInvalidConfig)
		}
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("timeout %s: negative: %w", cfg.Timeout, ErrInvalidConfig)
	}
	c := &Checker{resolver: cfg.Resolver, resolvConf: cfg.ResolvConf, checker: cfg.CheckerURL, client: cfg.HTTPClient, timeout: cfg.Timeout}
	if c.timeout == 0 {
		c.timeout = 10 * time.Second
	}
	if c.resolvConf == "" {
		c.resolvConf = "/etc/resolv.conf"
	}
	if c.client == nil {
		c.client = &http.Client{Timeout: c.timeout}
	}
	return c, nil
}

// Check resolves name and compares with the public addresses (zero ones
// ignored), then asks the checker, if any, about port 443. Problems found
// are in the Result; the error is for a name that cannot be checked.
func (c *Checker) Check(ctx context.Context, name string, public ...netip.Addr) (Result, error) {
	fqdn := dns.CanonicalName(name)
	if _, ok := dns.IsDomainName(fqdn); !ok || name == "" || fqdn == "." {
		return Result{}, fmt.Errorf("name %q: %w", name, ErrInvalidName)
	}
	r := Result{Name: fqdn, Port443: PortUnchecked}
	for _, a := range public {
		if a.IsValid() {
			r.Want = append(r.Want, a.Unmap())
		}
	}
	resolved, err := c.resolve(ctx, fqdn)
	if err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("The name %s could not be looked up: %v.", fqdn, err))
	}
	r.Resolved = resolved
	r.Resolves = err == nil && len(r.Want) > 0
	for _, a := range r.Want {
		if !slices.Contains(resolved, a) {
			r.Resolves = false
			if err == nil {
				r.Problems = append(r.Problems, fmt.Sprintf("The name %s does not point at %s yet; if you just changed it, wait for the TTL to pass.", fqdn, a))
			}
		}
	}
	if len(r.Want) == 0 {
		r.Problems = append(r.Problems, "The box's public address is not known, so the name cannot be compared with it.")
	}
	if c.checker != "" {
		open, err := c.port443(ctx, fqdn)
		switch {
		case err != nil:
			r.Port443 = PortError
			r.Problems = append(r.Problems, fmt.Sprintf("The outside checker could not be asked: %v.", err))
		case open:
			r.Port443 = PortOpen
		default:
			r.Port443 = PortClosed
			r.Problems = append(r.Problems, "Port 443 does not answer from outside: turn on port mapping or forward 80 and 443 on your router to the box.")
		}
	}
	return r, nil
}

// resolve asks the resolver for A and AAAA.
func (c *Checker) resolve(ctx context.Context, fqdn string) ([]netip.Addr, error) {
	server := c.resolver
	if server == "" {
		cc, err := dns.ClientConfigFromFile(c.resolvConf)
		if err != nil || len(cc.Servers) == 0 {
			return nil, fmt.Errorf("no resolver in %s", c.resolvConf)
		}
		server = net.JoinHostPort(cc.Servers[0], cc.Port)
	}
	client := &dns.Client{Timeout: c.timeout}
	var out []netip.Addr
	for _, t := range []uint16{dns.TypeA, dns.TypeAAAA} {
		m := new(dns.Msg)
		m.SetQuestion(fqdn, t)
		in, _, err := client.ExchangeContext(ctx, m, server)
		if err != nil {
			return nil, err
		}
		if in.Rcode == dns.RcodeNameError {
			return nil, errors.New("no such name")
		}
		if in.Rcode != dns.RcodeSuccess {
			return nil, fmt.Errorf("resolver answered %s", dns.RcodeToString[in.Rcode])
		}
		for _, rr := range in.Answer {
			switch v := rr.(type) {
			case *dns.A:
				if a, ok := netip.AddrFromSlice(v.A); ok {
					out = append(out, a.Unmap())
				}
			case *dns.AAAA:
				if a, ok := netip.AddrFromSlice(v.AAAA); ok {
					out = append(out, a)
				}
			}
		}
	}
	slices.SortFunc(out, netip.Addr.Compare)
	return slices.Compact(out), nil
}

// port443 asks the outside checker.
func (c *Checker) port443(ctx context.Context, fqdn string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	q := url.Values{"host": {fqdn[:len(fqdn)-1]}, "port": {"443"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.checker+"?"+q.Encode(), nil)
	if err != nil {
		return false, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, fmt.Errorf("checker answered %s", resp.Status)
	}
	var ans struct {
		Reachable *bool  `json:"reachable"`
		Error     string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&ans); err != nil || ans.Reachable == nil {
		return false, errors.New("checker answer is not {\"reachable\": bool}")
	}
	return *ans.Reachable, nil
}
