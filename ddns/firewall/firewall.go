package firewall

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// Firewall keeps the table. Apply is safe to call from several goroutines.
type Firewall struct {
	cfg Config
	log *slog.Logger

	// mu serializes Apply and Remove, and guards last, the plan last
	// written (nil when unknown).
	mu   sync.Mutex
	last *plan
}

// New checks cfg; nothing is written before Apply.
func New(cfg Config) (*Firewall, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Firewall{cfg: cfg, log: cfg.Logger.With("component", "firewall")}, nil
}

// Apply makes the table say what r says, reading the box's subnets
// afresh. When nothing changed and the table is still there, it writes
// nothing; otherwise it replaces the whole table in one batch.
func (f *Firewall) Apply(ctx context.Context, r Rules) error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("firewall rules: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ns, err := f.openNS()
	if err != nil {
		return err
	}
	defer ns.Close()
	var own []netip.Prefix
	if !f.cfg.NoOwnSubnets {
		h, err := netlink.NewHandleAt(ns.handle)
		if err != nil {
			return fmt.Errorf("firewall: netlink: %w", err)
		}
		own, err = ownSubnets(h, f.cfg.AppInterfaces)
		h.Close()
		if err != nil {
			return fmt.Errorf("firewall: %w", err)
		}
	}
	p := makePlan(f.cfg, r, own)
	c, err := nftables.New(ns.opts()...)
	if err != nil {
		return fmt.Errorf("firewall: nftables: %w", err)
	}
	if f.last != nil && f.last.equal(p) {
		if _, err := c.ListTableOfFamily(f.cfg.Table, nftables.TableFamilyINet); err == nil {
			return nil
		}
		f.log.Warn("table gone, writing it again", "table", f.cfg.Table)
	}
	if err := write(c, f.cfg.Table, p); err != nil {
		return fmt.Errorf("firewall table %s: %w", f.cfg.Table, err)
	}
	if err := c.Flush(); err != nil {
		f.last = nil
		return fmt.Errorf("firewall table %s: write: %w", f.cfg.Table, err)
	}
	f.last = &p
	f.log.Info("firewall rules applied", "table", "inet "+f.cfg.Table, "open_tcp", p.openTCP, "open_udp", p.openUDP,
		"lan_tcp", p.lanTCP, "lan_udp", p.lanUDP, "lan_ranges", len(p.lan4)+len(p.lan6))
	return nil
}

// Remove deletes the table, opening the box to whatever the other tables
// allow. Only an owner's explicit choice calls it; hearthd never does on
// stop.
func (f *Firewall) Remove(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	ns, err := f.openNS()
	if err != nil {
		return err
	}
	defer ns.Close()
	c, err := nftables.New(ns.opts()...)
	if err != nil {
		return fmt.Errorf("firewall: nftables: %w", err)
	}
	t := &nftables.Table{Name: f.cfg.Table, Family: nftables.TableFamilyINet}
	c.AddTable(t)
	c.DelTable(t)
	if err := c.Flush(); err != nil {
		return fmt.Errorf("firewall: remove table %s: %w", f.cfg.Table, err)
	}
	f.last = nil
	f.log.Info("firewall table removed", "table", "inet "+f.cfg.Table)
	return nil
}

// namespace is the network namespace to work in, open for one call.
type namespace struct {
	handle netns.NsHandle
	own    bool // Config.NetNS was set: pass the fd to nftables
}

func (f *Firewall) openNS() (namespace, error) {
	if f.cfg.NetNS == "" {
		h, err := netns.Get()
		if err != nil {
			return namespace{}, fmt.Errorf("firewall: own network namespace: %w", err)
		}
		return namespace{handle: h}, nil
	}
	h, err := netns.GetFromPath(f.cfg.NetNS)
	if errors.Is(err, os.ErrNotExist) {
		return namespace{}, fmt.Errorf("firewall: NetNS %s does not exist: %w", f.cfg.NetNS, ErrInvalid)
	}
	if err != nil {
		return namespace{}, fmt.Errorf("firewall: NetNS %s: %w", f.cfg.NetNS, err)
	}
	return namespace{handle: h, own: true}, nil
}

func (n namespace) opts() []nftables.ConnOption {
	if !n.own {
		return nil
	}
	return []nftables.ConnOption{nftables.WithNetNSFd(int(n.handle))}
}

func (n namespace) Close() { _ = n.handle.Close() }
