package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"github.com/vishvananda/netlink"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
)

// TestIsolation builds two networks, "front" with egress and "back" without,
// and an outside host, and checks who reaches whom.
func TestIsolation(t *testing.T) {
	out := outsideAddr.Addr()
	upstream := startUpstream(t, out)
	e := newEnv(t, testPool, upstream)
	m := e.manager(t)
	ctx := context.Background()

	front, err := m.Ensure(ctx, Spec{Name: "front", Egress: true})
	if err != nil {
		t.Fatal(err)
	}
	back, err := m.Ensure(ctx, Spec{Name: "back"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := m.Ensure(ctx, Spec{Name: "front", Egress: true})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(front, again, equateNetip); diff != "" {
		t.Errorf("second Ensure changed the network (-first +second):\n%s", diff)
	}
	if front.Subnet.Overlaps(back.Subnet) || !testPool.Contains(front.Subnet.Addr()) || !testPool.Contains(back.Subnet.Addr()) {
		t.Fatalf("got subnets %s and %s, want two disjoint ones in %s", front.Subnet, back.Subnet, testPool)
	}

	a1, err := m.Attach(ctx, "front", "a1", []string{"web"})
	if err != nil {
		t.Fatal(err)
	}
	a2, err := m.Attach(ctx, "front", "a2", []string{"worker"})
	if err != nil {
		t.Fatal(err)
	}
	b1, err := m.Attach(ctx, "back", "b1", []string{"db"})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := m.Attach(ctx, "front", "a1", []string{"web"}); err != nil || a.IP != a1.IP {
		t.Errorf("second Attach: got %v, %v, want %v and no error", a.IP, err, a1.IP)
	}
	if _, err := m.Attach(ctx, "back", "a1", nil); !errors.Is(err, ErrInUse) {
		t.Errorf("Attach to a second network: got %v, want ErrInUse", err)
	}
	if got, ok := m.Attachment("a2"); !ok || got.IP != a2.IP || got.NetNS != filepath.Join(e.cfg.StateDir, "netns", "a2") {
		t.Errorf("Attachment(a2): got %+v, %v", got, ok)
	}
	if err := firewallCurrent(t, m); err != nil {
		t.Errorf("firewall after Ensure: %v", err)
	}
	rc, err := m.ResolvConf("front")
	if err != nil || string(rc) != "nameserver "+front.Gateway.String()+"\noptions ndots:0\n" {
		t.Errorf("ResolvConf: got %q, %v", rc, err)
	}

	port := "8080"
	serveHello(t, a1.NetNS, net.JoinHostPort(a1.IP.String(), port))
	serveHello(t, b1.NetNS, net.JoinHostPort(b1.IP.String(), port))
	outsideNS := outside(t)
	outsideSvc := serveHello(t, outsideNS, net.JoinHostPort(out.String(), "9090"))
	hostSvc := serveHello(t, "", "0.0.0.0:0")
	_, hostPort, _ := net.SplitHostPort(hostSvc)
	hostSvc6 := serveHello(t, "", "[::]:0")
	_, hostPort6, _ := net.SplitHostPort(hostSvc6)
	frontDNS := net.JoinHostPort(front.Gateway.String(), "53")
	backDNS := net.JoinHostPort(back.Gateway.String(), "53")

	reach := func(t *testing.T, from, to string, want bool) {
		t.Helper()
		err := greet(t, from, to)
		if want && err != nil {
			t.Errorf("%s -> %s: got %v, want a connection", filepath.Base(from), to, err)
		}
		if !want && err == nil {
			t.Errorf("%s -> %s: got a connection, want none", filepath.Base(from), to)
		}
	}
	resolve := func(t *testing.T, from, server, name string, wantRcode int, want ...string) {
		t.Helper()
		resp, err := query(t, from, server, name, dns.TypeA)
		if err != nil {
			t.Errorf("%s asks %s for %s: %v", filepath.Base(from), server, name, err)
			return
		}
		if resp.Rcode != wantRcode {
			t.Errorf("%s asks %s for %s: got rcode %s, want %s", filepath.Base(from), server, name, dns.RcodeToString[resp.Rcode], dns.RcodeToString[wantRcode])
		}
		if diff := cmp.Diff(want, aRecords(resp)); diff != "" {
			t.Errorf("%s asks %s for %s (-want +got):\n%s", filepath.Base(from), server, name, diff)
		}
	}
	web := net.JoinHostPort(a1.IP.String(), port)
	db := net.JoinHostPort(b1.IP.String(), port)

	t.Run("members of a network talk", func(t *testing.T) {
		reach(t, a2.NetNS, web, true)
		resolve(t, a2.NetNS, frontDNS, "web", dns.RcodeSuccess, a1.IP.String())
		resolve(t, a2.NetNS, frontDNS, "WEB.front", dns.RcodeSuccess, a1.IP.String())
		resolve(t, a1.NetNS, frontDNS, "worker", dns.RcodeSuccess, a2.IP.String())
	})
	t.Run("networks are apart", func(t *testing.T) {
		reach(t, b1.NetNS, web, false)
		reach(t, a1.NetNS, db, false)
		// back's responder does not know front's names, and front's is out of reach.
		resolve(t, b1.NetNS, backDNS, "web", dns.RcodeRefused)
		if _, err := query(t, a1.NetNS, backDNS, "db", dns.TypeA); err == nil {
			t.Errorf("a1 asks back's DNS: got an answer, want none")
		}
	})
	t.Run("the host reaches containers, not the reverse", func(t *testing.T) {
		reach(t, "", web, true)
		reach(t, "", db, true)
		reach(t, a1.NetNS, net.JoinHostPort(front.Gateway.String(), hostPort), false)
		reach(t, a1.NetNS, net.JoinHostPort(back.Gateway.String(), hostPort), false)
		reach(t, b1.NetNS, net.JoinHostPort(back.Gateway.String(), hostPort), false)
		reach(t, a1.NetNS, net.JoinHostPort(outsideHost.Addr().String(), hostPort), false)
	})
	t.Run("no IPv6 to the host", func(t *testing.T) {
		ll := linkLocal(t, front.Bridge)
		reach(t, a1.NetNS, net.JoinHostPort(ll+"%eth0", hostPort6), false)
	})
	t.Run("outsiders get no DNS", func(t *testing.T) {
		resolve(t, outsideNS, frontDNS, "web", dns.RcodeRefused)
	})
	t.Run("egress on", func(t *testing.T) {
		reach(t, a1.NetNS, outsideSvc, true)
		resolve(t, a1.NetNS, frontDNS, "outside.test", dns.RcodeSuccess, out.String())
	})
	t.Run("egress off", func(t *testing.T) {
		reach(t, b1.NetNS, outsideSvc, false)
		resolve(t, b1.NetNS, backDNS, "outside.test", dns.RcodeRefused)
	})
	t.Run("egress toggles", func(t *testing.T) {
		if _, err := m.Ensure(ctx, Spec{Name: "back", Egress: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Ensure(ctx, Spec{Name: "front", Egress: false}); err != nil {
			t.Fatal(err)
		}
		if err := firewallCurrent(t, m); err != nil {
			t.Errorf("firewall after toggling: %v", err)
		}
		reach(t, b1.NetNS, outsideSvc, true)
		resolve(t, b1.NetNS, backDNS, "outside.test", dns.RcodeSuccess, out.String())
		reach(t, a1.NetNS, outsideSvc, false)
		resolve(t, a1.NetNS, frontDNS, "outside.test", dns.RcodeRefused)
		// Still apart, whatever the egress.
		reach(t, b1.NetNS, web, false)
		reach(t, a2.NetNS, web, true)
	})
	t.Run("detach and remove", func(t *testing.T) {
		if err := m.Remove(ctx, "front"); !errors.Is(err, ErrInUse) {
			t.Errorf("Remove with attachments: got %v, want ErrInUse", err)
		}
		for _, id := range []string{"a1", "a2", "a2"} { // twice: Detach is idempotent
			if err := m.Detach(ctx, id); err != nil {
				t.Errorf("Detach(%s): %v", id, err)
			}
		}
		resolve(t, b1.NetNS, backDNS, "db", dns.RcodeSuccess, b1.IP.String())
		if err := m.Remove(ctx, "front"); err != nil {
			t.Fatal(err)
		}
		if err := m.Remove(ctx, "front"); err != nil {
			t.Errorf("second Remove: got %v, want nil", err)
		}
		if _, err := m.Get("front"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get after Remove: got %v, want ErrNotFound", err)
		}
		if _, err := netlinksafe.LinkByName(front.Bridge); err == nil {
			t.Errorf("bridge %s still there", front.Bridge)
		}
		if err := firewallCurrent(t, m); err != nil {
			t.Errorf("firewall after Remove: %v", err)
		}
		for _, cmd := range []string{"iptables-save", "ip6tables-save"} {
			if s := saveRules(t, cmd); strings.Contains(s, front.Bridge+" ") {
				t.Errorf("%s still mentions %s", cmd, front.Bridge)
			}
		}
	})
}

// linkLocal waits for the bridge's IPv6 link-local address to leave the
// tentative state and returns it.
func linkLocal(t *testing.T, bridge string) string {
	t.Helper()
	l, err := netlinksafe.LinkByName(bridge)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		addrs, err := netlinksafe.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range addrs {
			if a.IP.IsLinkLocalUnicast() && a.Flags&0x40 == 0 { // IFA_F_TENTATIVE
				return a.IP.String()
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("bridge %s has no usable IPv6 link-local address", bridge)
	return ""
}

func TestCrashCleanup(t *testing.T) {
	e := newEnv(t, testPool)
	ctx := context.Background()
	m1 := e.manager(t)
	n, err := m1.Ensure(ctx, Spec{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	c1, err := m1.Attach(ctx, "app", "c1", []string{"one"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := m1.Attach(ctx, "app", "c2", []string{"two"})
	if err != nil {
		t.Fatal(err)
	}
	leases := filepath.Join(e.cfg.StateDir, "ipam", cniName(e.cfg.Prefix, "app"))
	lease1 := filepath.Join(leases, c1.IP.String())
	cache1 := filepath.Join(e.cfg.StateDir, "cni", "results", cniName(e.cfg.Prefix, "app")+"-c1-eth0")
	for _, p := range []string{lease1, cache1, c1.NetNS} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("after Attach: %v", err)
		}
	}
	if got := natRulesOf(t, m1, "app", "c1"); len(got) == 0 {
		t.Fatalf("after Attach: no masquerade rule for c1 in the nat table")
	}

	// The crash: the process dies, which stops its DNS responders and
	// nothing else. Leftovers of other crashes, and a flushed chain, join in.
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	strayNS := filepath.Join(e.cfg.StateDir, "netns", "stray")
	if err := newNetNS(strayNS); err != nil {
		t.Fatal(err)
	}
	strayLease := filepath.Join(leases, "10.231.0.250")
	strayCache := filepath.Join(e.cfg.StateDir, "cni", "results", cniName(e.cfg.Prefix, "app")+"-stray-eth0")
	strayIPAM := filepath.Join(e.cfg.StateDir, "ipam", cniName(e.cfg.Prefix, "gone"))
	for path, data := range map[string]string{
		strayLease:                             "stray\r\neth0",
		strayCache:                             `{"kind":"cniCacheV1","containerId":"stray","networkName":"` + cniName(e.cfg.Prefix, "app") + `","ifName":"eth0"}`,
		filepath.Join(strayIPAM, "10.231.9.2"): "old\r\neth0",
	} {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	strayBridge := e.cfg.Prefix + "ff"
	if err := netlink.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: strayBridge}}); err != nil {
		t.Fatal(err)
	}
	if err := m1.fw.v4.ClearChain("filter", m1.fw.forward); err != nil {
		t.Fatal(err)
	}
	// A crash inside Attach: the record is written, the namespace made, CNI
	// ADD never ran.
	half := Attachment{ContainerID: "c3", Network: "app", NetNS: filepath.Join(e.cfg.StateDir, "netns", "c3")}
	if err := writeJSON(filepath.Join(e.cfg.StateDir, "attachments", "c3.json"), half); err != nil {
		t.Fatal(err)
	}
	if err := newNetNS(half.NetNS); err != nil {
		t.Fatal(err)
	}

	m2 := e.manager(t)
	t.Run("names follow the restart", func(t *testing.T) {
		resp, err := query(t, c2.NetNS, net.JoinHostPort(n.Gateway.String(), "53"), "one", dns.TypeA)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{c1.IP.String()}, aRecords(resp)); diff != "" {
			t.Errorf("c2 asks for one (-want +got):\n%s", diff)
		}
	})
	if err := m2.Cleanup(ctx, func(id string) bool { return id == "c2" }); err != nil {
		t.Fatalf("Cleanup: %v", err)
	}
	t.Run("dead container is gone", func(t *testing.T) {
		for _, p := range []string{c1.NetNS, lease1, cache1, filepath.Join(e.cfg.StateDir, "attachments", "c1.json"), half.NetNS, filepath.Join(e.cfg.StateDir, "attachments", "c3.json")} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: got %v, want it gone", p, err)
			}
		}
		if got := natRulesOf(t, m2, "app", "c1"); len(got) != 0 {
			t.Errorf("nat rules of c1: got %q, want none", got)
		}
		if _, ok := m2.Attachment("c1"); ok {
			t.Errorf("Attachment(c1): still there")
		}
	})
	t.Run("live container stays", func(t *testing.T) {
		if a, ok := m2.Attachment("c2"); !ok || a.IP != c2.IP {
			t.Errorf("Attachment(c2): got %+v, %v, want IP %s", a, ok, c2.IP)
		}
		if _, err := os.Stat(filepath.Join(leases, c2.IP.String())); err != nil {
			t.Errorf("lease of c2: %v", err)
		}
		if !isNetNS(c2.NetNS) {
			t.Errorf("netns of c2 is gone")
		}
		if got := natRulesOf(t, m2, "app", "c2"); len(got) != 1 {
			t.Errorf("nat rules of c2: got %q, want one", got)
		}
	})
	t.Run("strays are gone", func(t *testing.T) {
		for _, p := range []string{strayNS, strayLease, strayCache, strayIPAM} {
			if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: got %v, want it gone", p, err)
			}
		}
		if _, err := netlinksafe.LinkByName(strayBridge); err == nil {
			t.Errorf("bridge %s: still there", strayBridge)
		}
		if err := firewallCurrent(t, m2); err != nil {
			t.Errorf("firewall not rebuilt: %v", err)
		}
	})
	t.Run("remove after the last detach leaves nothing", func(t *testing.T) {
		if err := m2.Remove(ctx, "app"); !errors.Is(err, ErrInUse) {
			t.Errorf("Remove with c2 attached: got %v, want ErrInUse", err)
		}
		if err := m2.Cleanup(ctx, func(string) bool { return false }); err != nil {
			t.Fatalf("Cleanup: %v", err)
		}
		if err := m2.Remove(ctx, "app"); err != nil {
			t.Fatalf("Remove: %v", err)
		}
		if _, err := netlinksafe.LinkByName(n.Bridge); err == nil {
			t.Errorf("bridge %s: still there", n.Bridge)
		}
		for _, cmd := range []string{"iptables-save", "ip6tables-save"} {
			s := saveRules(t, cmd)
			for _, what := range []string{n.Bridge, m2.fw.forward, m2.fw.input, cniName(e.cfg.Prefix, "app")} {
				if strings.Contains(s, what) {
					t.Errorf("%s still mentions %s", cmd, what)
				}
			}
		}
		for _, dir := range []string{"netns", "attachments", "networks", "ipam"} {
			entries, err := os.ReadDir(filepath.Join(e.cfg.StateDir, dir))
			if err != nil || len(entries) != 0 {
				t.Errorf("%s: got %v, %v, want an empty folder", dir, entries, err)
			}
		}
	})
}

func TestPoolExhaustion(t *testing.T) {
	pool := netip.MustParsePrefix("10.231.254.0/23") // room for two /24
	e := newEnv(t, pool)
	m := e.manager(t)
	ctx := context.Background()

	// A subnet routed on the host is skipped.
	dummy := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "hd" + randomHex(t, 3)}}
	if err := netlink.LinkAdd(dummy); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netlink.LinkDel(dummy) })
	if err := netlink.AddrAdd(dummy, &netlink.Addr{IPNet: ipNet(netip.MustParsePrefix("10.231.254.1/24"))}); err != nil {
		t.Fatal(err)
	}
	if err := netlink.LinkSetUp(dummy); err != nil {
		t.Fatal(err)
	}
	a, err := m.Ensure(ctx, Spec{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if want := netip.MustParsePrefix("10.231.255.0/24"); a.Subnet != want {
		t.Errorf("got subnet %s, want %s (the routed one skipped)", a.Subnet, want)
	}
	if _, err := m.Ensure(ctx, Spec{Name: "b"}); !errors.Is(err, ErrPoolExhausted) {
		t.Errorf("Ensure with the pool full: got %v, want ErrPoolExhausted", err)
	}
	if err := netlink.LinkDel(dummy); err != nil {
		t.Fatal(err)
	}
	b, err := m.Ensure(ctx, Spec{Name: "b"})
	if err != nil {
		t.Fatalf("Ensure once the route is gone: %v", err)
	}
	if want := netip.MustParsePrefix("10.231.254.0/24"); b.Subnet != want {
		t.Errorf("got subnet %s, want %s", b.Subnet, want)
	}
	if _, err := m.Ensure(ctx, Spec{Name: "c"}); !errors.Is(err, ErrPoolExhausted) {
		t.Errorf("Ensure with the pool full: got %v, want ErrPoolExhausted", err)
	}
	if err := m.Remove(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	c, err := m.Ensure(ctx, Spec{Name: "c"})
	if err != nil {
		t.Fatalf("Ensure after a Remove: %v", err)
	}
	if c.Subnet != a.Subnet {
		t.Errorf("got subnet %s, want the freed %s", c.Subnet, a.Subnet)
	}
	// The lease outlives the Manager.
	got, err := e.manager(t).Get("c")
	if err != nil || !cmp.Equal(got, c, equateNetip) {
		t.Errorf("Get after restart: got %+v, %v, want %+v", got, err, c)
	}
}

// TestConcurrentAttach attaches containers from several goroutines while
// others read, for the race detector and for distinct addresses.
func TestConcurrentAttach(t *testing.T) {
	e := newEnv(t, testPool)
	m := e.manager(t)
	ctx := context.Background()
	if _, err := m.Ensure(ctx, Spec{Name: "busy"}); err != nil {
		t.Fatal(err)
	}
	const n = 4
	ips := make([]netip.Addr, n)
	errs := make([]error, n)
	var attachers, readers sync.WaitGroup
	for i := range n {
		attachers.Go(func() {
			a, err := m.Attach(ctx, "busy", fmt.Sprintf("c%d", i), []string{fmt.Sprintf("svc%d", i)})
			ips[i], errs[i] = a.IP, err
		})
	}
	stop := make(chan struct{})
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = m.List()
			_, _ = m.Get("busy")
			_, _ = m.Attachment("c0")
			_, _ = m.ResolvConf("busy")
		}
	})
	attachers.Wait()
	close(stop)
	readers.Wait()
	seen := map[netip.Addr]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Attach c%d: %v", i, errs[i])
		}
		if seen[ips[i]] {
			t.Errorf("address %s given twice", ips[i])
		}
		seen[ips[i]] = true
	}
	for i := range n {
		if err := m.Detach(ctx, fmt.Sprintf("c%d", i)); err != nil {
			t.Errorf("Detach c%d: %v", i, err)
		}
	}
}

// TestAttachRollsBack fills a /30 (room for one container) and checks that
// the failed second Attach leaves nothing behind.
func TestAttachRollsBack(t *testing.T) {
	e := newEnv(t, testPool)
	e.cfg.SubnetBits = 30
	m := e.manager(t)
	ctx := context.Background()
	if _, err := m.Ensure(ctx, Spec{Name: "tiny"}); err != nil {
		t.Fatal(err)
	}
	c1, err := m.Attach(ctx, "tiny", "c1", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Attach(ctx, "tiny", "c2", nil)
	if err == nil || !strings.Contains(err.Error(), "no IP addresses available") {
		t.Fatalf("second Attach to a full /30: got %v, want host-local's \"no IP addresses available\"", err)
	}
	if _, ok := m.Attachment("c2"); ok {
		t.Errorf("Attachment(c2): got one after a failed Attach")
	}
	for _, p := range []string{filepath.Join(e.cfg.StateDir, "attachments", "c2.json"), filepath.Join(e.cfg.StateDir, "netns", "c2")} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: got %v, want it gone", p, err)
		}
	}
	if got := natRulesOf(t, m, "tiny", "c2"); len(got) != 0 {
		t.Errorf("nat rules of c2: got %q, want none", got)
	}
	if a, ok := m.Attachment("c1"); !ok || a.IP != c1.IP || !isNetNS(c1.NetNS) {
		t.Errorf("Attachment(c1): got %+v, %v, want it intact", a, ok)
	}
}
