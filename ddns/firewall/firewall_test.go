package firewall_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netns"

	"github.com/hearthbox/hearth/ddns/firewall"
	"github.com/hearthbox/hearth/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// lab is two network namespaces joined by a veth pair: the box (where the
// table lives and servers listen) and a client. Each side has a
// public-looking address (198.51.100.0/24, TEST-NET-2) and a LAN one
// (192.168.77.0/24).
type lab struct {
	box, client string // namespace names, under /run/netns
}

const (
	boxPublic    = "198.51.100.1"
	clientPublic = "198.51.100.2"
	boxLAN       = "192.168.77.1"
	clientLAN    = "192.168.77.2"
)

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", name, args, err, out)
	}
	return string(out)
}

func newLab(t *testing.T) lab {
	t.Helper()
	testenv.Need(t, "ip", "nft", "iptables")
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	l := lab{box: "hfwb-" + tag, client: "hfwc-" + tag}
	for _, ns := range []string{l.box, l.client} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "-n", l.box, "link", "add", "hb0", "type", "veth", "peer", "name", "hc0", "netns", l.client)
	for _, a := range []struct{ ns, dev, public, lan string }{{l.box, "hb0", boxPublic, boxLAN}, {l.client, "hc0", clientPublic, clientLAN}} {
		run(t, "ip", "-n", a.ns, "addr", "add", a.public+"/24", "dev", a.dev)
		run(t, "ip", "-n", a.ns, "addr", "add", a.lan+"/24", "dev", a.dev)
		run(t, "ip", "-n", a.ns, "link", "set", a.dev, "up")
	}
	// The kernel starts a veth's queue (and says UP) a moment after the
	// link is set up; packets sent before are dropped.
	for _, a := range []struct{ ns, dev string }{{l.box, "hb0"}, {l.client, "hc0"}} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(run(t, "ip", "-n", a.ns, "-br", "link", "show", a.dev), " UP ") {
			if time.Now().After(deadline) {
				t.Fatalf("%s in %s is not up after 5s", a.dev, a.ns)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return l
}

func (l lab) path(ns string) string { return filepath.Join("/run/netns", ns) }

// in runs fn on a thread switched to namespace ns: sockets made there stay
// in it.
func in(t *testing.T, path string, fn func()) {
	t.Helper()
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	ns, err := netns.GetFromPath(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	if err := netns.Set(ns); err != nil {
		t.Fatal(err)
	}
	fn()
	if err := netns.Set(orig); err != nil {
		t.Fatalf("back to the test's namespace: %v", err) // the thread stays locked and dies
	}
	runtime.UnlockOSThread()
}

// serve listens on every TCP port in the box and accepts until the test
// ends.
func (l lab) serve(t *testing.T, ports ...int) {
	t.Helper()
	for _, p := range ports {
		var wg sync.WaitGroup
		var ln net.Listener
		in(t, l.path(l.box), func() {
			var err error
			if ln, err = net.Listen("tcp", ":"+strconv.Itoa(p)); err != nil {
				t.Fatal(err)
			}
		})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_ = c.Close()
			}
		}()
		t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	}
}

// reach reports whether the client, from source address from, connects to
// the box's address to on port.
func (l lab) reach(t *testing.T, from, to string, port int) bool {
	t.Helper()
	var c net.Conn
	var err error
	in(t, l.path(l.client), func() {
		d := net.Dialer{Timeout: 300 * time.Millisecond, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err = d.Dial("tcp", net.JoinHostPort(to, strconv.Itoa(port)))
	})
	if err == nil {
		_ = c.Close()
		return true
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("dial %s:%d from %s: got %v, want success or a timeout (a drop)", to, port, from, err)
	}
	return false
}

func (l lab) listTable(t *testing.T) string {
	t.Helper()
	return run(t, "ip", "netns", "exec", l.box, "nft", "list", "table", "inet", "hearth")
}

// Ports of the lab: web (from the WebPorts), one an app declared and the
// owner granted, one granted LAN-only, one no app declared, the admin port.
const (
	webPort     = 443
	grantedPort = 9000
	lanOnlyPort = 9001
	undeclared  = 8080
	adminPort   = 8443
)

// TestFirewallInNamespace is acceptance 5: in a fresh network namespace, a
// port no app declared is closed, a granted port opens, the admin port
// refuses a non-LAN source and accepts a LAN one.
func TestFirewallInNamespace(t *testing.T) {
	l := newLab(t)
	l.serve(t, webPort, grantedPort, lanOnlyPort, undeclared, adminPort)
	// Without the table, everything answers: the test sees what changes.
	if !l.reach(t, clientPublic, boxPublic, undeclared) {
		t.Fatalf("port %d closed before any firewall: the lab is broken", undeclared)
	}
	// A rule of the runtime's kind in iptables-nft's own table must survive.
	run(t, "ip", "netns", "exec", l.box, "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "9999", "-j", "ACCEPT")

	fw, err := firewall.New(firewall.Config{AdminPorts: []uint16{adminPort}, NoOwnSubnets: true,
		AppInterfaces: []string{"hearth"}, NetNS: l.path(l.box)})
	if err != nil {
		t.Fatal(err)
	}
	granted := firewall.Rules{Ports: []firewall.Port{{Port: grantedPort, Protocol: firewall.TCP}}}
	if err := fw.Apply(t.Context(), granted); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		from, to string
		port     int
		want     bool
	}{
		{"web from anywhere", clientPublic, boxPublic, webPort, true},
		{"undeclared port closed", clientPublic, boxPublic, undeclared, false},
		{"undeclared port closed to the LAN too", clientLAN, boxLAN, undeclared, false},
		{"granted port open", clientPublic, boxPublic, grantedPort, true},
		{"port not granted", clientLAN, boxLAN, lanOnlyPort, false},
		{"admin refuses a public source", clientPublic, boxPublic, adminPort, false},
		{"admin refuses a public source on the LAN address", clientPublic, boxLAN, adminPort, false},
		{"admin accepts a LAN source", clientLAN, boxLAN, adminPort, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := l.reach(t, tc.from, tc.to, tc.port); got != tc.want {
				t.Errorf("got reachable %v from %s to %s:%d, want %v", got, tc.from, tc.to, tc.port, tc.want)
			}
		})
	}

	t.Run("lan-only grant and opened admin", func(t *testing.T) {
		r := firewall.Rules{AdminOpen: true, Ports: []firewall.Port{{Port: lanOnlyPort, Protocol: firewall.TCP, LANOnly: true}}}
		if err := fw.Apply(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			from string
			port int
			want bool
		}{{clientLAN, lanOnlyPort, true}, {clientPublic, lanOnlyPort, false}, {clientPublic, adminPort, true}, {clientPublic, grantedPort, false}} {
			if got := l.reach(t, c.from, boxPublic, c.port); got != c.want {
				t.Errorf("got reachable %v from %s on %d, want %v", got, c.from, c.port, c.want)
			}
		}
	})

	if out := run(t, "ip", "netns", "exec", l.box, "iptables", "-S", "INPUT"); !strings.Contains(out, "--dport 9999 -j ACCEPT") {
		t.Errorf("got iptables INPUT\n%s\nwant the rule added before the firewall still there", out)
	}
}

// TestFirewallIdempotent: applying the same rules twice gives the same
// listing, the one in testdata/ruleset.golden, and a table deleted behind
// the Firewall's back comes back on the next Apply.
func TestFirewallIdempotent(t *testing.T) {
	l := newLab(t)
	cfg := firewall.Config{AdminPorts: []uint16{22, adminPort}, AppInterfaces: []string{"hearth"}, UPnP: true, NetNS: l.path(l.box),
		LAN: append(firewall.DefaultLAN(), netip.MustParsePrefix("192.168.77.0/25"), netip.MustParsePrefix("10.9.0.0/16"))}
	rules := firewall.Rules{Ports: []firewall.Port{
		{Port: grantedPort, Protocol: firewall.TCP}, {Port: 51820, Protocol: firewall.UDP},
		{Port: lanOnlyPort, Protocol: firewall.TCP, LANOnly: true}, {Port: 1900, Protocol: firewall.UDP, LANOnly: true},
		{Port: grantedPort, Protocol: firewall.TCP, LANOnly: true}}}
	fw, err := firewall.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := fw.Apply(t.Context(), rules); err != nil {
		t.Fatal(err)
	}
	first := l.listTable(t)
	golden := filepath.Join("testdata", "ruleset.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(first), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), first); diff != "" {
		t.Errorf("table (-golden +got):\n%s", diff)
	}
	// A second Firewall knows nothing of the first write: it replaces the
	// table, which must come out the same.
	again, err := firewall.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := again.Apply(t.Context(), rules); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, l.listTable(t)); diff != "" {
			t.Errorf("apply %d: table (-first +again):\n%s", i+2, diff)
		}
	}
	run(t, "ip", "netns", "exec", l.box, "nft", "delete", "table", "inet", "hearth")
	if err := again.Apply(t.Context(), rules); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(first, l.listTable(t)); diff != "" {
		t.Errorf("after deletion: table (-first +again):\n%s", diff)
	}
	if err := again.Remove(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", l.box, "nft", "list", "table", "inet", "hearth").CombinedOutput(); err == nil {
		t.Errorf("got table after Remove:\n%s\nwant none", out)
	}
}

// TestOwnSubnets: the box's own subnet counts as LAN unless NoOwnSubnets.
func TestOwnSubnets(t *testing.T) {
	l := newLab(t)
	l.serve(t, adminPort)
	for _, tc := range []struct {
		name string
		no   bool
		want bool
	}{{"counted", false, true}, {"left out", true, false}} {
		t.Run(tc.name, func(t *testing.T) {
			fw, err := firewall.New(firewall.Config{AdminPorts: []uint16{adminPort}, NoOwnSubnets: tc.no, NetNS: l.path(l.box)})
			if err != nil {
				t.Fatal(err)
			}
			if err := fw.Apply(t.Context(), firewall.Rules{}); err != nil {
				t.Fatal(err)
			}
			if got := l.reach(t, clientPublic, boxPublic, adminPort); got != tc.want {
				t.Errorf("got admin reachable %v from %s, a neighbour on the box's own /24, want %v", got, clientPublic, tc.want)
			}
		})
	}
}

// TestInvalid: a bad setting or rule names its field.
func TestInvalid(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  firewall.Config
		r    firewall.Rules
		want string
	}{
		{"table", firewall.Config{Table: "Hearth!"}, firewall.Rules{}, `Table: "Hearth!"`},
		{"admin port", firewall.Config{AdminPorts: []uint16{0}}, firewall.Rules{}, "AdminPorts[0]: port 0"},
		{"lan everything", firewall.Config{LAN: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}, firewall.Rules{}, `LAN[0]: "0.0.0.0/0"`},
		{"app interface", firewall.Config{AppInterfaces: []string{"lo"}}, firewall.Rules{}, `AppInterfaces[0]: "lo"`},
		{"rule port", firewall.Config{}, firewall.Rules{Ports: []firewall.Port{{Port: 0, Protocol: firewall.TCP}}}, "Ports[0].Port: port 0"},
		{"rule protocol", firewall.Config{}, firewall.Rules{Ports: []firewall.Port{{Port: 1, Protocol: "sctp"}}}, `Ports[0].Protocol: "sctp"`},
		{"namespace", firewall.Config{NetNS: "/run/netns/hearth-no-such"}, firewall.Rules{}, "NetNS /run/netns/hearth-no-such does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw, err := firewall.New(tc.cfg)
			if err == nil {
				err = fw.Apply(context.Background(), tc.r)
			}
			if !errors.Is(err, firewall.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
