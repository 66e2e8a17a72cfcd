package main

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// createBridge makes bridge name with address addr (the gateway and its
// subnet) and brings it up. A bridge of that name left by an earlier run is
// replaced.
func createBridge(name string, addr netip.Prefix) error {
	if err := deleteLink(name); err != nil {
		return err
	}
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("create bridge %s: %w", name, err)
	}
	a, err := netlink.ParseAddr(addr.String())
	if err != nil {
		return errors.Join(fmt.Errorf("bridge %s address %s: %w", name, addr, err), deleteLink(name))
	}
	if err := netlink.AddrAdd(br, a); err != nil {
		return errors.Join(fmt.Errorf("bridge %s address %s: %w", name, addr, err), deleteLink(name))
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return errors.Join(fmt.Errorf("bridge %s up: %w", name, err), deleteLink(name))
	}
	return nil
}

// deleteLink deletes the link called name; a missing one is not an error.
func deleteLink(name string) error {
	l, err := netlink.LinkByName(name)
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
