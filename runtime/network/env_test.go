package network

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/hearthbox/hearth/internal/testenv"
)

// equateNetip compares netip values with ==.
var equateNetip = cmpopts.EquateComparable(netip.Addr{}, netip.Prefix{})

// testPool is this package's share of the test address space (10.232.0.0/16
// and up belong to other packages).
var testPool = netip.MustParsePrefix("10.231.0.0/16")

// Addresses of the "outside" namespace, joined to the host by a veth pair.
var (
	outsideHost = netip.MustParsePrefix("198.18.0.1/30")
	outsideAddr = netip.MustParsePrefix("198.18.0.2/30")
)

// needHost fails (CI) or skips the test unless it runs as root with the CNI
// plugins and iptables at hand.
func needHost(t *testing.T) {
	t.Helper()
	testenv.Need(t, "iptables", "ip6tables")
	for _, p := range []string{"bridge", "host-local", "loopback"} {
		if _, err := os.Stat(filepath.Join("/usr/lib/cni", p)); err != nil {
			testenv.Unavailable(t, fmt.Sprintf("CNI plugin %s not in /usr/lib/cni (apt-get install containernetworking-plugins)", p))
		}
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// env is one test's state directory and prefix. Whatever the test makes
// under them is removed in t.Cleanup, even when the test fails.
type env struct {
	cfg Config
}

func newEnv(t *testing.T, pool netip.Prefix, upstreams ...string) *env {
	t.Helper()
	needHost(t)
	e := &env{cfg: Config{
		StateDir:   t.TempDir(),
		Pool:       pool,
		SubnetBits: 24,
		Prefix:     "ht" + randomHex(t, 2),
		Upstreams:  upstreams,
	}}
	if len(upstreams) == 0 {
		e.cfg.Upstreams = []string{"127.0.0.1:9"} // never asked: tests that forward pass their own
	}
	t.Cleanup(func() { e.teardown(t) })
	return e
}

// manager makes a Manager on the env's state directory, closed in t.Cleanup.
func (e *env) manager(t *testing.T) *Manager {
	t.Helper()
	m, err := New(context.Background(), e.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// teardown detaches and removes everything with a fresh Manager, then sweeps
// the host for anything with the env's prefix that is still there.
func (e *env) teardown(t *testing.T) {
	ctx := context.Background()
	if m, err := New(ctx, e.cfg); err != nil {
		t.Errorf("teardown: %v", err)
	} else {
		if err := m.Cleanup(ctx, func(string) bool { return false }); err != nil {
			t.Errorf("teardown cleanup: %v", err)
		}
		for _, n := range m.List() {
			if err := m.Remove(ctx, n.Name); err != nil {
				t.Errorf("teardown: %v", err)
			}
		}
		_ = m.sweepNAT(func(string, string) bool { return false })
		_ = m.fw.remove()
		_ = m.Close()
	}
	if links, err := netlinksafe.LinkList(); err == nil {
		for _, l := range links {
			if strings.HasPrefix(l.Attrs().Name, e.cfg.Prefix) {
				_ = netlink.LinkDel(l)
			}
		}
	}
	if entries, err := os.ReadDir(filepath.Join(e.cfg.StateDir, netnsDir)); err == nil {
		for _, en := range entries {
			_ = removeNetNS(filepath.Join(e.cfg.StateDir, netnsDir, en.Name()))
		}
	}
}

// inNS runs f with the calling goroutine's thread in the namespace at path;
// sockets opened in f stay in it.
func inNS(t *testing.T, path string, f func() error) error {
	t.Helper()
	h, err := ns.GetNS(path)
	if err != nil {
		t.Fatalf("open netns %s: %v", path, err)
	}
	defer h.Close()
	return h.Do(func(ns.NetNS) error { return f() })
}

// serveHello listens on addr inside the namespace at path (the host's when
// path is "") and greets every connection with "hello\n".
func serveHello(t *testing.T, path, addr string) string {
	t.Helper()
	var ln net.Listener
	listen := func() (err error) {
		ln, err = net.Listen("tcp", addr)
		return err
	}
	var err error
	if path == "" {
		err = listen()
	} else {
		err = inNS(t, path, listen)
	}
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "hello\n")
			_ = c.Close()
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// dialTimeout bounds the dials that are expected to be dropped.
const dialTimeout = 500 * time.Millisecond

// greet dials addr from the namespace at path (the host's when "") and
// reads the greeting; an error means no connection.
func greet(t *testing.T, path, addr string) error {
	t.Helper()
	dial := func() error {
		c, err := net.DialTimeout("tcp", addr, dialTimeout)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(dialTimeout))
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if line != "hello\n" {
			return fmt.Errorf("got greeting %q, want %q", line, "hello\n")
		}
		return nil
	}
	if path == "" {
		return dial()
	}
	return inNS(t, path, dial)
}

// query asks server from the namespace at path.
func query(t *testing.T, path, server, name string, qtype uint16) (*dns.Msg, error) {
	t.Helper()
	var resp *dns.Msg
	err := inNS(t, path, func() (err error) {
		c := &dns.Client{Timeout: dialTimeout}
		resp, _, err = c.Exchange(new(dns.Msg).SetQuestion(dns.Fqdn(name), qtype), server)
		return err
	})
	return resp, err
}

// outside makes a namespace joined to the host by a veth pair: the host side
// has 198.18.0.1/30, the namespace 198.18.0.2/30 and a default route back.
func outside(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "outside")
	if err := newNetNS(path); err != nil {
		t.Fatal(err)
	}
	hostName, peerName := "vo"+randomHex(t, 3), "vp"+randomHex(t, 3)
	t.Cleanup(func() {
		if l, err := netlinksafe.LinkByName(hostName); err == nil {
			_ = netlink.LinkDel(l)
		}
		if err := removeNetNS(path); err != nil {
			t.Error(err)
		}
	})
	nsh, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer nsh.Close()
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: hostName}, PeerName: peerName, PeerNamespace: netlink.NsFd(int(nsh))}
	if err := netlink.LinkAdd(veth); err != nil {
		t.Fatalf("add veth: %v", err)
	}
	host, err := netlinksafe.LinkByName(hostName)
	if err != nil {
		t.Fatal(err)
	}
	if err := netlink.AddrAdd(host, &netlink.Addr{IPNet: ipNet(outsideHost)}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		t.Fatal(err)
	}
	nh, err := netlink.NewHandleAt(nsh)
	if err != nil {
		t.Fatal(err)
	}
	defer nh.Close()
	peer, err := nh.LinkByName(peerName)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := nh.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []error{
		nh.AddrAdd(peer, &netlink.Addr{IPNet: ipNet(outsideAddr)}),
		nh.LinkSetUp(peer),
		nh.LinkSetUp(lo),
		nh.RouteAdd(&netlink.Route{Gw: outsideHost.Addr().AsSlice()}),
	} {
		if step != nil {
			t.Fatalf("set up outside namespace: %v", step)
		}
	}
	return path
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// saveRules returns iptables-save (or ip6tables-save) output.
func saveRules(t *testing.T, cmd string) string {
	t.Helper()
	out, err := exec.Command(cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

// natChainsOf returns the CNI masquerade rules for a container.
func natRulesOf(t *testing.T, m *Manager, network, id string) []string {
	t.Helper()
	rules, err := m.fw.v4.List("nat", "POSTROUTING")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rules {
		if n, i, _, ok := natComment(r); ok && n == cniName(m.cfg.Prefix, network) && i == id {
			out = append(out, r)
		}
	}
	return out
}

// firewallCurrent reports whether every chain holds exactly its rules.
func firewallCurrent(t *testing.T, m *Manager) error {
	t.Helper()
	var nets []Network
	for _, n := range m.sortedNets() {
		nets = append(nets, n.Network)
	}
	var errs []error
	for _, s := range m.fw.specs(nets) {
		got, err := listRules(s.ipt, s.chain)
		if err != nil {
			return err
		}
		if want := joinRules(s.rules); strings.Join(got, "\n") != strings.Join(want, "\n") {
			errs = append(errs, fmt.Errorf("chain %s (%v): got\n%s\nwant\n%s", s.chain, s.ipt.Proto(), strings.Join(got, "\n"), strings.Join(want, "\n")))
		}
	}
	return errors.Join(errs...)
}
