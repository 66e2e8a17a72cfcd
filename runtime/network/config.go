package network

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Config configures a Manager. Only StateDir is required.
type Config struct {
	// StateDir holds the Manager's records, the host-local leases, libcni's
	// cache and the bind-mounted network namespaces (see the package comment).
	StateDir string
	// PluginDirs are searched for the CNI plugins; default {"/usr/lib/cni", "/opt/cni/bin"}.
	PluginDirs []string
	// Pool is the IPv4 range that every network's subnet is carved from;
	// default 10.89.0.0/16.
	Pool netip.Prefix
	// SubnetBits is the prefix length of each network's subnet; default 24.
	SubnetBits int
	// Prefix names the Manager's host objects: bridges are Prefix followed by
	// hex digits, iptables chains are upper(Prefix)+"-FORWARD" and "-INPUT".
	// Lowercase letters and digits, starting with a letter; default "hearth".
	// Two Managers on one host must use prefixes where neither is a prefix of
	// the other.
	Prefix string
	// Upstreams are the DNS servers ("ip:port") that names other than the
	// containers' are forwarded to, for networks with egress. Default: the
	// nameservers of ResolvConfPath.
	Upstreams []string
	// ResolvConfPath is read for the default Upstreams; default "/etc/resolv.conf".
	ResolvConfPath string
	// IPTablesPath and IP6TablesPath are the iptables binaries; default: found on PATH.
	IPTablesPath  string
	IP6TablesPath string
	// Logger receives the Manager's logs; nil discards them.
	Logger *slog.Logger
}

// Defaults.
const (
	defaultPrefix     = "hearth"
	defaultSubnetBits = 24
	defaultResolvConf = "/etc/resolv.conf"
	maxIfName         = 15 // IFNAMSIZ - 1
)

var (
	defaultPool       = netip.MustParsePrefix("10.89.0.0/16")
	defaultPluginDirs = []string{"/usr/lib/cni", "/opt/cni/bin"}
	prefixPattern     = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
)

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.StateDir == "" || !filepath.IsAbs(c.StateDir) {
		return c, fmt.Errorf("network config: StateDir %q: must be an absolute path", c.StateDir)
	}
	c.StateDir = filepath.Clean(c.StateDir)
	if len(c.PluginDirs) == 0 {
		c.PluginDirs = append([]string(nil), defaultPluginDirs...)
	}
	for _, d := range c.PluginDirs {
		if !filepath.IsAbs(d) {
			return c, fmt.Errorf("network config: PluginDirs %q: must be an absolute path", d)
		}
	}
	if !c.Pool.IsValid() {
		c.Pool = defaultPool
	}
	if !c.Pool.Addr().Is4() || c.Pool != c.Pool.Masked() || c.Pool.Bits() < 8 {
		return c, fmt.Errorf("network config: Pool %s: must be an IPv4 prefix of length 8 or more with no host bits", c.Pool)
	}
	if c.SubnetBits == 0 {
		c.SubnetBits = defaultSubnetBits
	}
	if c.SubnetBits < c.Pool.Bits() || c.SubnetBits > 30 || c.SubnetBits-c.Pool.Bits() > 16 {
		return c, fmt.Errorf("network config: SubnetBits %d: must be between the pool's length %d and 30, at most 16 more than it", c.SubnetBits, c.Pool.Bits())
	}
	if c.Prefix == "" {
		c.Prefix = defaultPrefix
	}
	if !prefixPattern.MatchString(c.Prefix) || len(c.Prefix)+hexWidth(c.Pool, c.SubnetBits) > maxIfName {
		return c, fmt.Errorf("network config: Prefix %q: must be lowercase letters and digits starting with a letter, at most %d characters with this pool", c.Prefix, maxIfName-hexWidth(c.Pool, c.SubnetBits))
	}
	if c.ResolvConfPath == "" {
		c.ResolvConfPath = defaultResolvConf
	}
	if len(c.Upstreams) == 0 {
		c.Upstreams = resolvConfServers(c.ResolvConfPath)
	}
	for _, u := range c.Upstreams {
		if _, err := netip.ParseAddrPort(u); err != nil {
			return c, fmt.Errorf("network config: Upstreams %q: must be ip:port: %w", u, err)
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// hexWidth is the number of hex digits that number every subnet of the pool.
func hexWidth(pool netip.Prefix, bits int) int {
	n := bits - pool.Bits() // log2 of the number of subnets
	if n <= 0 {
		return 1
	}
	return (n + 3) / 4
}

// resolvConfServers reads the nameservers of a resolv.conf as "ip:53". A
// missing or unreadable file gives none: the responders then answer SERVFAIL
// to names they would forward.
func resolvConfServers(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "nameserver" {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil || a.Zone() != "" {
			continue
		}
		out = append(out, netip.AddrPortFrom(a, 53).String())
	}
	return out
}
