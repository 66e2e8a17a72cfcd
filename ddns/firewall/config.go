package firewall

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"regexp"
	"strconv"
)

// ErrInvalid: a bad setting or rule; the message names the field.
var ErrInvalid = errors.New("invalid firewall setting")

// Transport protocols of a Port.
const (
	TCP = "tcp"
	UDP = "udp"
)

// Config is what New needs.
type Config struct {
	// Table is the name of the inet table; default "hearth".
	Table string
	// WebPorts are open to everyone over TCP; default 80 and 443.
	WebPorts []uint16
	// AdminPorts serve Hearth's own pages, API and SSH: TCP, from LAN
	// sources only unless Rules.AdminOpen.
	AdminPorts []uint16
	// LAN are the source prefixes counted as local; nil means DefaultLAN.
	LAN []netip.Prefix
	// NoOwnSubnets leaves the box's own interface subnets out of the LAN
	// (by default they are read at every Apply and counted in).
	NoOwnSubnets bool
	// AppInterfaces are name prefixes of the runtime's app bridges
	// ("hearth" matches hearth0a1b): their traffic is left to the runtime's
	// own iptables chains, which allow DNS to the gateway and drop the rest.
	AppInterfaces []string
	// UPnP accepts SSDP answers (UDP from port 1900 of a LAN source to a
	// port above 1023), which conntrack cannot tie to a multicast search.
	UPnP bool
	// NetNS is the path of the network namespace to keep the table in
	// ("/run/netns/x"); "" is hearthd's own.
	NetNS  string
	Logger *slog.Logger
}

// DefaultLAN is RFC 1918's private IPv4 ranges, IPv6 unique local
// (fc00::/7) and link-local (fe80::/10) addresses.
func DefaultLAN() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("fc00::/7"),
		netip.MustParsePrefix("fe80::/10"),
	}
}

var (
	tableName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)
	ifPrefix  = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)
)

func (c Config) withDefaults() (Config, error) {
	if c.Table == "" {
		c.Table = "hearth"
	}
	if !tableName.MatchString(c.Table) {
		return c, fmt.Errorf("firewall config: Table: %q must be 1-32 of a-z, 0-9, _ and -, starting with a letter: %w", c.Table, ErrInvalid)
	}
	if c.WebPorts == nil {
		c.WebPorts = []uint16{80, 443}
	}
	for i, p := range c.WebPorts {
		if p == 0 {
			return c, fmt.Errorf("firewall config: WebPorts[%d]: port 0: %w", i, ErrInvalid)
		}
	}
	for i, p := range c.AdminPorts {
		if p == 0 {
			return c, fmt.Errorf("firewall config: AdminPorts[%d]: port 0: %w", i, ErrInvalid)
		}
	}
	if c.LAN == nil {
		c.LAN = DefaultLAN()
	}
	for i, p := range c.LAN {
		if !p.IsValid() || p.Bits() == 0 {
			return c, fmt.Errorf("firewall config: LAN[%d]: %q must be a prefix narrower than everything: %w", i, p, ErrInvalid)
		}
	}
	for i, name := range c.AppInterfaces {
		if !ifPrefix.MatchString(name) || name == "lo" {
			return c, fmt.Errorf("firewall config: AppInterfaces[%d]: %q must be an interface name prefix of 1-15 letters, digits, '_', '.' or '-', not lo: %w", i, name, ErrInvalid)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Rules are what the owner decided: the app ports granted and whether the
// admin ports are open to everyone.
type Rules struct {
	// Ports are the ports the owner granted to apps.
	Ports []Port
	// AdminOpen opens Config.AdminPorts to every source.
	AdminOpen bool
}

// Port is one granted port.
type Port struct {
	Port     uint16
	Protocol string // TCP or UDP
	// LANOnly accepts it from LAN sources only.
	LANOnly bool
}

// String is "8080/tcp", with " lan" for a LAN-only port.
func (p Port) String() string {
	s := strconv.Itoa(int(p.Port)) + "/" + p.Protocol
	if p.LANOnly {
		s += " lan"
	}
	return s
}

func (r Rules) validate() error {
	for i, p := range r.Ports {
		if p.Port == 0 {
			return fmt.Errorf("Ports[%d].Port: port 0: %w", i, ErrInvalid)
		}
		if p.Protocol != TCP && p.Protocol != UDP {
			return fmt.Errorf("Ports[%d].Protocol: %q must be tcp or udp: %w", i, p.Protocol, ErrInvalid)
		}
	}
	return nil
}
