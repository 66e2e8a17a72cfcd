package network

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// Attach puts a container on a network: it writes the attachment record
// first (so that a crash at any later point leaves something Cleanup can
// undo), creates the network namespace bind-mounted at StateDir/netns/<id>,
// runs CNI ADD (loopback, then bridge with host-local), and registers names in
// the network's DNS responder, which it starts with the network's first
// attachment (the bridge then carries the gateway address).
//
// It is idempotent: a complete attachment to the same network is returned as
// it is and its names registered again. A container attached to another
// network gives ErrInUse; an unknown network ErrNotFound.
func (m *Manager) Attach(ctx context.Context, network, containerID string, names []string) (Attachment, error) {
	if err := validateNetworkName(network); err != nil {
		return Attachment{}, err
	}
	if err := validateContainerID(containerID); err != nil {
		return Attachment{}, err
	}
	if err := validateHostNames(names); err != nil {
		return Attachment{}, err
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if err := ctx.Err(); err != nil {
		return Attachment{}, err
	}
	n, ok := m.nets[network]
	if !ok {
		return Attachment{}, fmt.Errorf("attach %s: network %q: %w", containerID, network, ErrNotFound)
	}
	if a, ok := m.atts[containerID]; ok {
		if a.Network != network {
			return Attachment{}, fmt.Errorf("attach %s to %s: attached to network %q: %w", containerID, network, a.Network, ErrInUse)
		}
		if a.IP.IsValid() && isNetNS(a.NetNS) {
			if err := m.registerDNS(n.Network, a); err != nil {
				return Attachment{}, fmt.Errorf("attach %s: %w", containerID, err)
			}
			return cloneAttachment(a), nil
		}
		// Half made (a crash during Attach) or its namespace is gone.
		if err := m.detachLocked(ctx, a); err != nil {
			return Attachment{}, fmt.Errorf("attach %s: clear the previous attempt: %w", containerID, err)
		}
	}

	a := Attachment{ContainerID: containerID, Network: network, NetNS: m.netnsPath(containerID), Names: slices.Clone(names)}
	if err := m.saveAttachment(a); err != nil {
		return Attachment{}, fmt.Errorf("attach %s: %w", containerID, err)
	}
	ip, err := m.plumb(ctx, n.Network, a)
	if err == nil {
		a.IP = ip
		err = m.saveAttachment(a)
	}
	if err == nil {
		err = m.registerDNS(n.Network, a)
	}
	if err != nil {
		// Undo with a context of its own: ctx may be what failed.
		if derr := m.detachLocked(context.WithoutCancel(ctx), a); derr != nil {
			err = errors.Join(err, fmt.Errorf("undo: %w", derr))
		}
		return Attachment{}, fmt.Errorf("attach %s to %s: %w", containerID, network, err)
	}
	m.log.Info("container attached", "container", containerID, "network", network, "ip", ip)
	return cloneAttachment(a), nil
}

// plumb creates the namespace and runs CNI ADD.
func (m *Manager) plumb(ctx context.Context, n Network, a Attachment) (netip.Addr, error) {
	// A namespace file without a record is a leftover: replace it.
	if err := removeNetNS(a.NetNS); err != nil {
		return netip.Addr{}, err
	}
	if err := newNetNS(a.NetNS); err != nil {
		return netip.Addr{}, err
	}
	return m.cniAdd(ctx, n, a.ContainerID, a.NetNS)
}

// saveAttachment writes the record, then publishes it. Callers hold opMu.
func (m *Manager) saveAttachment(a Attachment) error {
	if err := writeJSON(m.path(attachmentsDir, a.ContainerID+".json"), a); err != nil {
		return err
	}
	m.mu.Lock()
	m.atts[a.ContainerID] = a
	m.mu.Unlock()
	return nil
}

// registerDNS registers a's names, starting the network's responder if it is
// not running (which registers every attachment of the network).
func (m *Manager) registerDNS(n Network, a Attachment) error {
	m.mu.RLock()
	r := m.dns[n.Name]
	m.mu.RUnlock()
	if r != nil {
		r.register(a.ContainerID, a.IP, a.Names)
		return nil
	}
	return m.startDNS(n)
}

// startDNS starts n's responder on its gateway and registers the names of its
// attachments. Callers hold opMu (or are New).
func (m *Manager) startDNS(n Network) error {
	m.mu.RLock()
	closed := m.closed
	m.mu.RUnlock()
	if closed {
		return nil
	}
	r, err := startResponder(netip.AddrPortFrom(n.Gateway, 53), n.Name, n.Subnet, n.Egress, m.cfg.Upstreams, m.log)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.atts {
		if a.Network == n.Name {
			r.register(a.ContainerID, a.IP, a.Names)
		}
	}
	m.dns[n.Name] = r
	return nil
}

// Detach takes a container off its network: CNI DEL, the namespace unmounted
// and deleted, its names unregistered, its record deleted. A container that
// is not attached is not an error.
func (m *Manager) Detach(ctx context.Context, containerID string) error {
	if err := validateContainerID(containerID); err != nil {
		return err
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	a, ok := m.atts[containerID]
	if !ok {
		return nil
	}
	if err := m.detachLocked(ctx, a); err != nil {
		return fmt.Errorf("detach %s: %w", containerID, err)
	}
	m.log.Info("container detached", "container", containerID, "network", a.Network)
	return nil
}

// detachLocked undoes an attachment, complete or not. The record is deleted
// only once CNI DEL succeeded, so a failed detach can be retried. Callers
// hold opMu.
func (m *Manager) detachLocked(ctx context.Context, a Attachment) error {
	netns := ""
	if isNetNS(a.NetNS) {
		netns = a.NetNS
	}
	if n, ok := m.nets[a.Network]; ok {
		if err := m.cniDel(ctx, n.Network, a.ContainerID, netns); err != nil {
			return err
		}
	}
	cni := cniName(m.cfg.Prefix, a.Network)
	if err := m.sweepNAT(func(net, id string) bool { return net != cni || id != a.ContainerID }); err != nil {
		return err
	}
	m.mu.RLock()
	r := m.dns[a.Network]
	m.mu.RUnlock()
	if r != nil {
		r.unregister(a.ContainerID)
	}
	if err := removeNetNS(a.NetNS); err != nil {
		return err
	}
	if err := removeFile(m.path(attachmentsDir, a.ContainerID+".json")); err != nil {
		return err
	}
	m.mu.Lock()
	delete(m.atts, a.ContainerID)
	m.mu.Unlock()
	return nil
}

// Attachment returns the container's attachment, if it has a complete one.
func (m *Manager) Attachment(containerID string) (Attachment, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	a, ok := m.atts[containerID]
	if !ok || !a.IP.IsValid() {
		return Attachment{}, false
	}
	return cloneAttachment(a), true
}

func cloneAttachment(a Attachment) Attachment {
	a.Names = slices.Clone(a.Names)
	return a
}
