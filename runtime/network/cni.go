package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"
	"github.com/coreos/go-iptables/iptables"
)

// The package drives the CNI plugins through libcni, the library that
// go-cni wraps: go-cni (v1.1.14) has no option for libcni's cache folder and
// would keep its result cache in /var/lib/cni, while
// libcni.NewCNIConfigWithCacheDir keeps it under StateDir/cni.

const containerIfName = "eth0"

// newCNIExec runs the plugins, logging what they write to stderr.
func newCNIExec(log *slog.Logger) invoke.Exec {
	return &invoke.DefaultExec{
		RawExec:       &invoke.RawExec{Stderr: logWriter{log: log}},
		PluginDecoder: version.PluginDecoder{},
	}
}

// logWriter turns a plugin's stderr into log records.
type logWriter struct{ log *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	if s := strings.TrimSpace(string(p)); s != "" {
		w.log.Warn("cni plugin stderr", "output", s)
	}
	return len(p), nil
}

// confLists parses the loopback and bridge configurations of n.
func (m *Manager) confLists(n Network) (lo, br *libcni.NetworkConfigList, err error) {
	lb, err := loopbackConfList(m.cfg.Prefix)
	if err != nil {
		return nil, nil, err
	}
	bb, err := bridgeConfList(m.cfg.Prefix, n, m.path(ipamDir))
	if err != nil {
		return nil, nil, err
	}
	if lo, err = libcni.ConfListFromBytes(lb); err != nil {
		return nil, nil, fmt.Errorf("cni config: %w", err)
	}
	if br, err = libcni.ConfListFromBytes(bb); err != nil {
		return nil, nil, fmt.Errorf("cni config: %w", err)
	}
	return lo, br, nil
}

// cniAdd brings up lo and eth0 in the namespace and returns eth0's address.
func (m *Manager) cniAdd(ctx context.Context, n Network, id, netns string) (netip.Addr, error) {
	lo, br, err := m.confLists(n)
	if err != nil {
		return netip.Addr{}, err
	}
	if _, err := m.cni.AddNetworkList(ctx, lo, &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: "lo"}); err != nil {
		return netip.Addr{}, fmt.Errorf("cni add loopback: %w", err)
	}
	res, err := m.cni.AddNetworkList(ctx, br, &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: containerIfName})
	if err != nil {
		return netip.Addr{}, fmt.Errorf("cni add %s: %w", br.Name, err)
	}
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("cni result: %w", err)
	}
	for _, ipc := range r.IPs {
		if a, ok := netip.AddrFromSlice(ipc.Address.IP); ok && a.Unmap().Is4() && n.Subnet.Contains(a.Unmap()) {
			return a.Unmap(), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("cni add %s: no address of %s in the result", br.Name, n.Subnet)
}

// cniDel undoes cniAdd. netns may be "" when the namespace is gone: the
// plugins then release the lease only, and sweepNAT removes the masquerade
// rules that the bridge plugin can no longer find.
func (m *Manager) cniDel(ctx context.Context, n Network, id, netns string) error {
	lo, br, err := m.confLists(n)
	if err != nil {
		return err
	}
	var errs []error
	if err := m.cni.DelNetworkList(ctx, br, &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: containerIfName}); err != nil {
		errs = append(errs, fmt.Errorf("cni del %s: %w", br.Name, err))
	}
	if err := m.cni.DelNetworkList(ctx, lo, &libcni.RuntimeConf{ContainerID: id, NetNS: netns, IfName: "lo"}); err != nil {
		errs = append(errs, fmt.Errorf("cni del loopback: %w", err))
	}
	return errors.Join(errs...)
}

// natComment parses the comment the bridge plugin puts on its masquerade
// rules, `name: "<cni name>" id: "<container id>"`, as iptables -S prints it.
func natComment(rule string) (cniNet, id, target string, ok bool) {
	_, c, found := strings.Cut(rule, `--comment "name: \"`)
	if !found {
		return "", "", "", false
	}
	cniNet, c, found = strings.Cut(c, `\" id: \"`)
	if !found {
		return "", "", "", false
	}
	id, _, found = strings.Cut(c, `\""`)
	if !found {
		return "", "", "", false
	}
	if _, t, ok := strings.Cut(rule, " -j "); ok {
		target = strings.Fields(t)[0]
	}
	return cniNet, id, target, true
}

// sweepNAT deletes the bridge plugin's masquerade rules (and their CNI-
// chains) in the nat table's POSTROUTING for which keep returns false. Only
// rules of this Manager's CNI networks (name prefix) are considered.
func (m *Manager) sweepNAT(keep func(cniNet, id string) bool) error {
	rules, err := m.fw.v4.List("nat", "POSTROUTING")
	if err != nil {
		return fmt.Errorf("list nat rules: %w", err)
	}
	ours := m.cfg.Prefix + "-"
	var errs []error
	for _, line := range rules {
		rule, ok := strings.CutPrefix(line, "-A POSTROUTING ")
		if !ok {
			continue
		}
		cniNet, id, target, ok := natComment(rule)
		if !ok || !strings.HasPrefix(cniNet, ours) || keep(cniNet, id) {
			continue
		}
		// Deleted by its spec, not its number: other programs change
		// POSTROUTING too.
		if err := m.fw.v4.DeleteIfExists("nat", "POSTROUTING", splitRule(rule)...); err != nil {
			errs = append(errs, fmt.Errorf("delete nat rule of %s: %w", id, err))
			continue
		}
		if strings.HasPrefix(target, "CNI-") {
			if err := m.fw.v4.ClearAndDeleteChain("nat", target); err != nil && !isNotExist(err) {
				errs = append(errs, fmt.Errorf("delete nat chain %s: %w", target, err))
			}
		}
	}
	return errors.Join(errs...)
}

func isNotExist(err error) bool {
	var e *iptables.Error
	return errors.As(err, &e) && e.IsNotExist()
}

// splitRule splits a rule as iptables -S prints it into arguments: words,
// or double-quoted strings with backslash escapes.
func splitRule(rule string) []string {
	var (
		args    []string
		cur     strings.Builder
		inWord  bool
		quoted  bool
		escaped bool
	)
	for _, r := range rule {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case quoted && r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
			inWord = true
		case r == ' ' && !quoted:
			if inWord {
				args = append(args, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		args = append(args, cur.String())
	}
	return args
}
