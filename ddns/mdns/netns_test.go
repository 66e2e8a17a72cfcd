package mdns

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"runtime"
	"testing"

	"github.com/hearthbox/hearth/internal/testenv"
	"github.com/vishvananda/netns"
)

// lan is a test LAN: a bridge in a namespace of its own, and nodes, each a
// namespace whose eth0 is a veth port of the bridge with 10.77.0.<n>/24
// and fd77::<n>/64. Everything goes in t.Cleanup.
type lan struct {
	t       *testing.T
	tag     string
	switch_ string
	n       int
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %v: %v: %s", args, err, out)
	}
}

func newLAN(t *testing.T) *lan {
	t.Helper()
	testenv.Need(t, "ip")
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	l := &lan{t: t, tag: hex.EncodeToString(rnd[:])}
	l.switch_ = "hmdns-" + l.tag + "-sw"
	ipCmd(t, "netns", "add", l.switch_)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", l.switch_).Run() })
	ipCmd(t, "-n", l.switch_, "link", "add", "br0", "type", "bridge", "mcast_snooping", "0")
	ipCmd(t, "-n", l.switch_, "link", "set", "br0", "up")
	return l
}

// node adds a namespace on the LAN and returns its name and number.
func (l *lan) node() (string, int) {
	t := l.t
	t.Helper()
	l.n++
	ns := fmt.Sprintf("hmdns-%s-%d", l.tag, l.n)
	port := fmt.Sprintf("p%d", l.n)
	ipCmd(t, "netns", "add", ns)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	ipCmd(t, "-n", l.switch_, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
	ipCmd(t, "-n", l.switch_, "link", "set", port, "master", "br0", "up")
	ipCmd(t, "-n", ns, "link", "set", "eth0", "addrgenmode", "none")
	ipCmd(t, "-n", ns, "addr", "add", fmt.Sprintf("10.77.0.%d/24", l.n), "dev", "eth0")
	ipCmd(t, "-n", ns, "addr", "add", fmt.Sprintf("fd77::%d/64", l.n), "dev", "eth0", "nodad")
	ipCmd(t, "-n", ns, "link", "set", "eth0", "up")
	ipCmd(t, "-n", ns, "link", "set", "lo", "up")
	return ns, l.n
}

// goIn runs fn on a goroutine whose thread is in namespace ns; the thread
// is thrown away afterwards. The returned channel closes when fn returns.
func goIn(t *testing.T, ns string, fn func()) <-chan struct{} {
	t.Helper()
	target, err := netns.GetFromName(ns)
	if err != nil {
		t.Fatalf("netns %s: %v", ns, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer target.Close()
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := netns.Set(target); err != nil {
			t.Errorf("enter netns %s: %v", ns, err)
			return
		}
		fn()
	}()
	return done
}

// in runs fn in namespace ns and waits for it.
func in(t *testing.T, ns string, fn func()) {
	t.Helper()
	<-goIn(t, ns, fn)
}
