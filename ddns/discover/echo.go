package discover

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// maxEchoBody bounds an echo service's answer: an address fits in 64 bytes.
const maxEchoBody = 256

// EchoConfig configures an HTTPS echo source: a web service that answers a
// GET with the caller's address as plain text (such as
// https://api.ipify.org or https://ifconfig.co/ip).
type EchoConfig struct {
	// URL is the service's address; it must be https (or http to a
	// loopback address, for tests). Each family is asked over a connection
	// of that family.
	URL string
	// Timeout bounds one lookup; 0 means 10 s.
	Timeout time.Duration
	// Transport sends the requests; nil means a clone of
	// http.DefaultTransport. Its DialContext is replaced to pin the family.
	Transport *http.Transport
}

// Echo is an HTTPS echo source. It is safe for concurrent use.
type Echo struct {
	url    string
	host   string
	client [2]*http.Client // by family: 0 IPv4, 1 IPv6
}

var _ Source = (*Echo)(nil)

// NewEcho checks cfg and returns the source. It contacts nothing.
func NewEcho(cfg EchoConfig) (*Echo, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("echo url %q: not an absolute URL: %w", cfg.URL, ErrInvalidConfig)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if ip, err := netip.ParseAddr(u.Hostname()); err != nil || !ip.IsLoopback() {
			return nil, fmt.Errorf("echo url %q: want https: %w", cfg.URL, ErrInvalidConfig)
		}
	default:
		return nil, fmt.Errorf("echo url %q: want https: %w", cfg.URL, ErrInvalidConfig)
	}
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("echo timeout %s: negative: %w", cfg.Timeout, ErrInvalidConfig)
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	base := cfg.Transport
	if base == nil {
		base = http.DefaultTransport.(*http.Transport)
	}
	e := &Echo{url: u.String(), host: u.Host}
	for i, fam := range []Family{IPv4, IPv6} {
		tr := base.Clone()
		network := fam.network("tcp")
		d := &net.Dialer{Timeout: timeout}
		tr.DialContext = func(ctx context.Context, _, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		}
		e.client[i] = &http.Client{Transport: tr, Timeout: timeout}
	}
	return e, nil
}

// Name returns "https:" and the service's host.
func (e *Echo) Name() string { return "echo:" + e.host }

// Lookup asks the service over a connection of the family.
func (e *Echo) Lookup(ctx context.Context, family Family) (netip.Addr, error) {
	c := e.client[0]
	if family == IPv6 {
		c = e.client[1]
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url, nil)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("echo %s: %w", e.host, err)
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := c.Do(req)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("echo %s over %s: %w", e.host, family, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxEchoBody+1))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("echo %s: read answer: %w", e.host, err)
	}
	if resp.StatusCode != http.StatusOK {
		return netip.Addr{}, fmt.Errorf("echo %s: status %d: %w", e.host, resp.StatusCode, ErrBadAnswer)
	}
	if len(body) > maxEchoBody {
		return netip.Addr{}, fmt.Errorf("echo %s: answer longer than %d bytes: %w", e.host, maxEchoBody, ErrBadAnswer)
	}
	a, err := netip.ParseAddr(strings.TrimSpace(string(body)))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("echo %s: answer is not an address: %w", e.host, ErrBadAnswer)
	}
	a = a.Unmap()
	if (family == IPv4) != a.Is4() {
		return netip.Addr{}, fmt.Errorf("echo %s: got %s over %s: %w", e.host, a, family, ErrBadAnswer)
	}
	return a, nil
}
