package network

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrNotFound: no network of that name.
	ErrNotFound = errors.New("network not found")
	// ErrInUse: the network still has attachments, or the container is
	// attached to another network.
	ErrInUse = errors.New("network in use")
	// ErrPoolExhausted: every subnet of the pool is taken or routed.
	ErrPoolExhausted = errors.New("address pool exhausted")
)

// Manager owns the networks and attachments under one state directory. It is
// safe for concurrent use; operations that change the host are serialised.
type Manager struct {
	cfg Config
	log *slog.Logger
	cni *libcni.CNIConfig
	fw  *firewall

	// opMu serialises the operations that change host state or records
	// (Ensure, Remove, Attach, Detach, Cleanup, Close). It is taken before mu.
	opMu sync.Mutex
	// synced is when the firewall was last checked against the records;
	// guarded by opMu.
	synced time.Time

	// mu guards nets, atts, dns and closed. Writers also hold opMu; it is
	// never held across a call to a plugin, iptables or netlink.
	mu     sync.RWMutex
	nets   map[string]networkRecord
	atts   map[string]Attachment
	dns    map[string]*responder // running responders by network name
	closed bool
}

// New loads the records under cfg.StateDir and starts the DNS responders of
// the networks that have attachments, re-registering their names (the
// containers kept running while the agent was down). It changes nothing
// else: run Cleanup to clear what a crash left behind.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	for _, d := range []string{"", networksDir, attachmentsDir, netnsDir, ipamDir, cniCacheDir} {
		if err := os.MkdirAll(filepath.Join(cfg.StateDir, d), 0o700); err != nil {
			return nil, fmt.Errorf("network state: %w", err)
		}
	}
	fw, err := newFirewall(cfg)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		cfg: cfg,
		log: cfg.Logger.With("component", "network"),
		fw:  fw,
		dns: map[string]*responder{},
	}
	m.cni = libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, filepath.Join(cfg.StateDir, cniCacheDir), newCNIExec(m.log))
	if m.nets, err = readRecords[networkRecord](m.path(networksDir)); err != nil {
		return nil, err
	}
	if m.atts, err = readRecords[Attachment](m.path(attachmentsDir)); err != nil {
		return nil, err
	}
	if err := m.checkRecords(); err != nil {
		return nil, err
	}
	for _, n := range m.sortedNets() {
		if m.hasAttachments(n.Name) {
			if err := m.startDNS(n.Network); err != nil {
				m.log.Warn("dns responder not started", "network", n.Name, "err", err)
			}
		}
	}
	return m, nil
}

// checkRecords refuses records that contradict their file names or each
// other: they would make the Manager hand out a subnet twice.
func (m *Manager) checkRecords() error {
	seen := map[netip.Prefix]string{}
	for key, n := range m.nets {
		if key != n.Name || validateNetworkName(n.Name) != nil || !n.Subnet.IsValid() || !m.cfg.Pool.Contains(n.Subnet.Addr()) || n.Subnet.Bits() != m.cfg.SubnetBits {
			return fmt.Errorf("network record %s: does not match the file name, the pool or SubnetBits", key)
		}
		if other, ok := seen[n.Subnet]; ok {
			return fmt.Errorf("network records %s and %s: both hold %s", other, key, n.Subnet)
		}
		seen[n.Subnet] = key
	}
	for key, a := range m.atts {
		if key != a.ContainerID || validateContainerID(a.ContainerID) != nil || a.NetNS != m.netnsPath(a.ContainerID) {
			return fmt.Errorf("attachment record %s: does not match the file name or the state directory", key)
		}
	}
	return nil
}

func (m *Manager) path(elem ...string) string {
	return filepath.Join(append([]string{m.cfg.StateDir}, elem...)...)
}

func (m *Manager) netnsPath(id string) string { return m.path(netnsDir, id) }

// sortedNets returns the networks in creation order. Callers hold mu or opMu.
func (m *Manager) sortedNets() []networkRecord {
	out := make([]networkRecord, 0, len(m.nets))
	for _, n := range m.nets {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b networkRecord) int {
		return cmp.Or(a.Created.Compare(b.Created), cmp.Compare(a.Name, b.Name))
	})
	return out
}

func (m *Manager) hasAttachments(network string) bool {
	for _, a := range m.atts {
		if a.Network == network {
			return true
		}
	}
	return false
}

// Get returns the named network, or ErrNotFound.
func (m *Manager) Get(name string) (Network, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n, ok := m.nets[name]
	if !ok {
		return Network{}, fmt.Errorf("network %q: %w", name, ErrNotFound)
	}
	return n.Network, nil
}

// List returns every network, sorted by name.
func (m *Manager) List() []Network {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Network, 0, len(m.nets))
	for _, n := range m.nets {
		out = append(out, n.Network)
	}
	slices.SortFunc(out, func(a, b Network) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Ensure creates the network, or brings an existing one to s. It is
// idempotent: a new network gets a free subnet of the pool (its record file is
// the lease) and a bridge name; the firewall rules of every network are
// (re)installed, so a changed Egress rewrites that network's rules. The bridge
// itself appears with the first Attach.
func (m *Manager) Ensure(ctx context.Context, s Spec) (Network, error) {
	if err := validateNetworkName(s.Name); err != nil {
		return Network{}, err
	}
	ports, err := normalizeHostPorts(s.HostPorts)
	if err != nil {
		return Network{}, fmt.Errorf("network %s: %w", s.Name, err)
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if err := ctx.Err(); err != nil {
		return Network{}, err
	}
	n, ok := m.nets[s.Name]
	if ok && n.Egress == s.Egress && slices.Equal(n.HostPorts, ports) && time.Since(m.synced) < resyncAfter {
		// Unchanged, and the firewall was checked a moment ago: an agent
		// ensures every network on every pass, and each check costs a
		// few iptables calls per network.
		return n.Network, nil
	}
	switch {
	case !ok:
		routed, err := hostRoutes()
		if err != nil {
			return Network{}, err
		}
		used := make([]netip.Prefix, 0, len(m.nets))
		for _, o := range m.nets {
			used = append(used, o.Subnet)
		}
		subnet, err := allocate(m.cfg.Pool, m.cfg.SubnetBits, used, routed)
		if err != nil {
			return Network{}, fmt.Errorf("network %s: %w", s.Name, err)
		}
		n = networkRecord{
			Network: Network{
				Name:      s.Name,
				Bridge:    bridgeName(m.cfg.Prefix, m.cfg.Pool, m.cfg.SubnetBits, subnet),
				Subnet:    subnet,
				Gateway:   gatewayOf(subnet),
				Egress:    s.Egress,
				HostPorts: ports,
			},
			Created: time.Now().UTC(),
		}
		if err := m.saveNetwork(n); err != nil {
			return Network{}, err
		}
		m.log.Info("network created", "network", n.Name, "subnet", n.Subnet, "bridge", n.Bridge, "egress", n.Egress)
	case n.Egress != s.Egress:
		n.Egress = s.Egress
		if err := m.saveNetwork(n); err != nil {
			return Network{}, err
		}
		m.mu.RLock()
		r := m.dns[n.Name]
		m.mu.RUnlock()
		if r != nil {
			r.setEgress(n.Egress)
		}
		m.log.Info("network egress changed", "network", n.Name, "egress", n.Egress)
	}
	if !slices.Equal(n.HostPorts, ports) {
		n.HostPorts = ports
		if err := m.saveNetwork(n); err != nil {
			return Network{}, err
		}
		m.log.Info("network host ports changed", "network", n.Name, "ports", ports)
	}
	if err := ensureBridge(n.Network); err != nil {
		return Network{}, fmt.Errorf("network %s: %w", s.Name, err)
	}
	if err := m.syncFirewall(); err != nil {
		return Network{}, fmt.Errorf("network %s: %w", s.Name, err)
	}
	return n.Network, nil
}

// saveNetwork writes the record, then publishes it. Callers hold opMu.
func (m *Manager) saveNetwork(n networkRecord) error {
	if err := writeJSON(m.path(networksDir, n.Name+".json"), n); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	m.mu.Lock()
	m.nets[n.Name] = n
	m.mu.Unlock()
	return nil
}

// syncFirewall installs the rules of every network. Callers hold opMu.
func (m *Manager) syncFirewall() error {
	nets := m.sortedNets()
	plain := make([]Network, len(nets))
	for i, n := range nets {
		plain[i] = n.Network
	}
	if err := m.fw.sync(plain); err != nil {
		m.synced = time.Time{}
		return err
	}
	m.synced = time.Now()
	return nil
}

// resyncAfter is how long Ensure of an unchanged network trusts the last
// firewall check; past it, Ensure checks (and repairs) the rules again.
const resyncAfter = 30 * time.Second

// Remove deletes a network that no container uses: its firewall rules (and
// the chains with the last network), its bridge, its leases folder and its
// record, which frees the subnet. An unknown name is not an error; a network
// with attachments gives ErrInUse.
func (m *Manager) Remove(ctx context.Context, name string) error {
	if err := validateNetworkName(name); err != nil {
		return err
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	n, ok := m.nets[name]
	if !ok {
		return nil
	}
	if m.hasAttachments(name) {
		return fmt.Errorf("remove network %s: %w", name, ErrInUse)
	}
	m.mu.Lock()
	r := m.dns[name]
	delete(m.dns, name)
	m.mu.Unlock()
	var errs []error
	if r != nil {
		errs = append(errs, r.stop())
	}
	// The record goes last: until then a failed Remove can be retried.
	m.mu.Lock()
	delete(m.nets, name)
	m.mu.Unlock()
	if err := m.syncFirewall(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, deleteLink(n.Bridge))
	if err := os.RemoveAll(m.path(ipamDir, cniName(m.cfg.Prefix, name))); err != nil {
		errs = append(errs, fmt.Errorf("remove leases: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		m.mu.Lock()
		m.nets[name] = n
		m.mu.Unlock()
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	if err := removeFile(m.path(networksDir, name+".json")); err != nil {
		return fmt.Errorf("remove network %s: %w", name, err)
	}
	m.log.Info("network removed", "network", name)
	return nil
}

// deleteLink deletes a network interface; a missing one is not an error.
func deleteLink(name string) error {
	l, err := netlinksafe.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("find link %s: %w", name, err)
	}
	if err := netlink.LinkDel(l); err != nil {
		return fmt.Errorf("delete link %s: %w", name, err)
	}
	return nil
}

// ResolvConf returns the resolv.conf of the network's containers: the
// gateway is their only nameserver.
func (m *Manager) ResolvConf(network string) ([]byte, error) {
	n, err := m.Get(network)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "nameserver %s\noptions ndots:0\n", n.Gateway), nil
}

// Close stops the DNS responders. Networks, attachments and firewall rules
// stay: the containers keep running while the agent is down.
func (m *Manager) Close() error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	m.mu.Lock()
	rs := m.dns
	m.dns = map[string]*responder{}
	m.closed = true
	m.mu.Unlock()
	var errs []error
	for _, r := range rs {
		errs = append(errs, r.stop())
	}
	return errors.Join(errs...)
}
