package portmap

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"time"
)

// Config is what New needs; the zero value maps 80 and 443 over whatever the
// router speaks.
type Config struct {
	// Ports are kept mapped from Run on; default 80/tcp and 443/tcp.
	Ports []Port
	// Lease is the lease asked for (renewed at half); default one hour,
	// at least one second.
	Lease time.Duration
	// Description names the mappings in the router's pages; default "Hearth".
	Description string
	// Protocols are tried in this order; default PCP, NAT-PMP, UPnP. PCP
	// falls back to NAT-PMP when the router answers in version 0.
	Protocols []string
	// Gateway is the NAT-PMP and PCP server; default the IPv4 default
	// route's next hop, port 5351.
	Gateway netip.AddrPort
	// SSDP is where the UPnP search goes; default 239.255.255.250:1900.
	SSDP netip.AddrPort
	// Timeout bounds the wait for one protocol's answer; default 3 s.
	Timeout time.Duration
	// RetryMin and RetryMax bound the wait after a failed pass, doubling
	// from the first to the second; default 30 s and 30 min.
	RetryMin, RetryMax time.Duration
	// HTTPClient talks to UPnP routers; default one with Timeout that
	// follows no redirect.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

func (c Config) withDefaults() (Config, error) {
	if c.Ports == nil {
		c.Ports = []Port{{80, TCP}, {443, TCP}}
	}
	for i, p := range c.Ports {
		if err := p.validate(fmt.Sprintf("portmap config: Ports[%d]", i)); err != nil {
			return c, err
		}
	}
	if c.Lease == 0 {
		c.Lease = time.Hour
	}
	if c.Lease < time.Second {
		return c, fmt.Errorf("portmap config: Lease: %s is under a second: %w", c.Lease, ErrInvalid)
	}
	if c.Description == "" {
		c.Description = "Hearth"
	}
	if len(c.Description) > 64 {
		return c, fmt.Errorf("portmap config: Description: longer than 64 bytes: %w", ErrInvalid)
	}
	if c.Protocols == nil {
		c.Protocols = []string{ProtoPCP, ProtoNATPMP, ProtoUPnP}
	}
	for i, p := range c.Protocols {
		if !slices.Contains([]string{ProtoPCP, ProtoNATPMP, ProtoUPnP}, p) {
			return c, fmt.Errorf("portmap config: Protocols[%d]: %q must be pcp, natpmp or upnp: %w", i, p, ErrInvalid)
		}
	}
	if !c.SSDP.IsValid() {
		c.SSDP = defaultSSDP
	}
	if c.Timeout == 0 {
		c.Timeout = 3 * time.Second
	}
	if c.RetryMin == 0 {
		c.RetryMin = 30 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 30 * time.Minute
	}
	if c.RetryMax < c.RetryMin {
		return c, fmt.Errorf("portmap config: RetryMax: %s is under RetryMin %s: %w", c.RetryMax, c.RetryMin, ErrInvalid)
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: c.Timeout,
			// A router's answer never sends the box elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, nil
}
