package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netns"
)

// Outside is a test host beyond the box: a network namespace joined to the
// host by a veth pair, so that traffic from a container to it crosses the
// host's FORWARD path like traffic to the internet would.
type Outside struct {
	// Addr is the HTTP server's address inside the namespace.
	Addr netip.AddrPort
}

var outsideSeq atomic.Uint32

// StartOutsideHost makes the namespace, serves h in it, and removes it all
// in t.Cleanup. Its addresses are in 198.18.0.0/15, the range set aside for
// such tests, and exist only on this machine.
func StartOutsideHost(t testing.TB, h http.Handler) Outside {
	t.Helper()
	Need(t, "ip")
	var rnd [3]byte
	_, _ = rand.Read(rnd[:])
	tag := hex.EncodeToString(rnd[:])
	nsName, hostIf := "hout-"+tag, "hov"+tag
	n := outsideSeq.Add(1) % 64
	hostIP := fmt.Sprintf("198.18.%d.%d", rnd[0], n*4+1)
	peerIP := fmt.Sprintf("198.18.%d.%d", rnd[0], n*4+2)
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", nsName)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", nsName).Run() })
	ip("link", "add", hostIf, "type", "veth", "peer", "name", "eth0", "netns", nsName)
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", hostIf).Run() })
	ip("addr", "add", hostIP+"/30", "dev", hostIf)
	ip("link", "set", hostIf, "up")
	ip("-n", nsName, "addr", "add", peerIP+"/30", "dev", "eth0")
	ip("-n", nsName, "link", "set", "eth0", "up")
	ip("-n", nsName, "link", "set", "lo", "up")
	ip("-n", nsName, "route", "add", "default", "via", hostIP)

	ln, err := listenIn(nsName, peerIP+":80")
	if err != nil {
		t.Fatalf("listen in %s: %v", nsName, err)
	}
	srv := &http.Server{Handler: h}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("outside server: %v", err)
		}
	})
	return Outside{Addr: netip.MustParseAddrPort(peerIP + ":80")}
}

// listenIn opens a TCP listener inside the named namespace; the socket stays
// there when the thread switches back. The switch happens on a goroutine of
// its own whose thread is thrown away if it cannot switch back.
func listenIn(nsName, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer orig.Close()
		target, err := netns.GetFromName(nsName)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer target.Close()
		if err := netns.Set(target); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread() // otherwise the locked thread dies with this goroutine
		}
		ch <- result{ln, lerr}
	}()
	r := <-ch
	return r.ln, r.err
}
