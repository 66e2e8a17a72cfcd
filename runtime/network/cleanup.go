package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
)

// Cleanup clears what a crash left behind; run it at start, once the caller
// knows which containers are alive. It detaches every attachment whose
// container is not live; deletes the namespace files, host-local leases and
// CNI result caches that no attachment owns, the masquerade rules of
// containers that have no attachment, and the bridges with the Manager's
// prefix that no network owns; and rebuilds the firewall chains from the
// network records (removing them when there is no network). It does all it
// can and returns the errors joined.
func (m *Manager) Cleanup(ctx context.Context, live func(containerID string) bool) error {
	m.opMu.Lock()
	defer m.opMu.Unlock()
	var errs []error
	for _, a := range m.sortedAttachments() {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if live(a.ContainerID) {
			continue
		}
		if err := m.detachLocked(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("detach %s: %w", a.ContainerID, err))
			continue
		}
		m.log.Info("dead container detached", "container", a.ContainerID, "network", a.Network)
	}
	errs = append(errs,
		m.cleanNetNS(),
		m.cleanLeases(),
		m.cleanCNICache(),
		m.sweepNAT(func(cniNet, id string) bool {
			a, ok := m.atts[id]
			return ok && cniName(m.cfg.Prefix, a.Network) == cniNet
		}),
		m.cleanBridges(),
	)
	if err := m.syncFirewall(); err != nil {
		errs = append(errs, fmt.Errorf("firewall: %w", err))
	}
	return errors.Join(errs...)
}

// sortedAttachments returns the attachments by container ID. Callers hold opMu.
func (m *Manager) sortedAttachments() []Attachment {
	out := make([]Attachment, 0, len(m.atts))
	for _, a := range m.atts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Attachment) int { return strings.Compare(a.ContainerID, b.ContainerID) })
	return out
}

// cleanNetNS deletes the namespace files that no attachment owns.
func (m *Manager) cleanNetNS() error {
	entries, err := os.ReadDir(m.path(netnsDir))
	if err != nil {
		return fmt.Errorf("read netns folder: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if _, ok := m.atts[e.Name()]; ok {
			continue
		}
		errs = append(errs, removeNetNS(m.path(netnsDir, e.Name())))
	}
	return errors.Join(errs...)
}

// cleanLeases deletes the host-local folders of networks that no longer exist
// and, in the others, the leases that no attachment of that network owns.
// host-local names a lease file after the address and writes the container ID
// on its first line.
func (m *Manager) cleanLeases() error {
	entries, err := os.ReadDir(m.path(ipamDir))
	if err != nil {
		return fmt.Errorf("read ipam folder: %w", err)
	}
	owner := map[string]string{} // cni network name -> network
	for name := range m.nets {
		owner[cniName(m.cfg.Prefix, name)] = name
	}
	var errs []error
	for _, e := range entries {
		dir := m.path(ipamDir, e.Name())
		network, ok := owner[e.Name()]
		if !ok {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, fmt.Errorf("remove leases: %w", err))
			}
			continue
		}
		leases, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("read leases: %w", err))
			continue
		}
		for _, l := range leases {
			ip, err := netip.ParseAddr(l.Name())
			if err != nil {
				continue // host-local's lock and last_reserved_ip files
			}
			b, err := os.ReadFile(filepath.Join(dir, l.Name()))
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, fmt.Errorf("read lease: %w", err))
				continue
			}
			id, _, _ := strings.Cut(string(b), "\n")
			a, ok := m.atts[strings.TrimSpace(id)]
			if ok && a.Network == network && (!a.IP.IsValid() || a.IP == ip) {
				continue
			}
			errs = append(errs, removeFile(filepath.Join(dir, l.Name())))
		}
	}
	return errors.Join(errs...)
}

// cleanCNICache deletes libcni's cached results that no attachment owns.
func (m *Manager) cleanCNICache() error {
	dir := m.path(cniCacheDir, "results")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read cni cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			errs = append(errs, fmt.Errorf("read cni cache: %w", err))
			continue
		}
		var c struct {
			ContainerID string `json:"containerId"`
			NetworkName string `json:"networkName"`
		}
		if json.Unmarshal(b, &c) == nil {
			if a, ok := m.atts[c.ContainerID]; ok &&
				(c.NetworkName == cniName(m.cfg.Prefix, a.Network) || c.NetworkName == loopbackName(m.cfg.Prefix)) {
				continue
			}
		}
		errs = append(errs, removeFile(path))
	}
	return errors.Join(errs...)
}

// cleanBridges deletes the bridges named like ours that no network owns.
func (m *Manager) cleanBridges() error {
	links, err := netlinksafe.LinkList()
	if err != nil {
		return fmt.Errorf("list links: %w", err)
	}
	ours := regexp.MustCompile(fmt.Sprintf(`^%s[0-9a-f]{%d}$`, regexp.QuoteMeta(m.cfg.Prefix), hexWidth(m.cfg.Pool, m.cfg.SubnetBits)))
	owned := map[string]bool{}
	for _, n := range m.nets {
		owned[n.Bridge] = true
	}
	var errs []error
	for _, l := range links {
		name := l.Attrs().Name
		if _, ok := l.(*netlink.Bridge); !ok || !ours.MatchString(name) || owned[name] {
			continue
		}
		if err := netlink.LinkDel(l); err != nil {
			errs = append(errs, fmt.Errorf("delete bridge %s: %w", name, err))
			continue
		}
		m.log.Info("stray bridge deleted", "bridge", name)
	}
	return errors.Join(errs...)
}
