package mdns

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

// box is a responder running in a namespace of the test LAN.
type box struct {
	r       *Responder
	addr    string
	renames []string
	mu      sync.Mutex
}

func (b *box) renamed() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.renames)
}

// startBox runs a responder called name on a new node; it stops in
// t.Cleanup (or earlier with the returned cancel).
func startBox(t *testing.T, l *lan, name string, apps ...string) (*box, context.CancelFunc) {
	t.Helper()
	ns, n := l.node()
	b := &box{addr: "10.77.0." + strconv.Itoa(n)}
	r, err := New(Config{Name: name, Interfaces: []string{"eth0"}, OnRename: func(old, new string) {
		b.mu.Lock()
		b.renames = append(b.renames, old+" -> "+new)
		b.mu.Unlock()
	}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := r.SetApps(apps); err != nil {
		t.Fatalf("SetApps: %v", err)
	}
	b.r = r
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	done := goIn(t, ns, func() { runErr = r.Run(ctx) })
	stop := func() {
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("Run: %v", runErr)
		}
	}
	t.Cleanup(stop)
	return b, stop
}

func waitState(t *testing.T, r *Responder, state string) Status {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := r.Status()
		if st.State == state {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("got state %+v, want %s", st, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// client is a querier on its own node: a one-shot (legacy) socket on a
// random port, and a listener on 5353 in the group that sees
// announcements.
type client struct {
	oneShot  *ipv4.PacketConn
	oneShot6 net.PacketConn
	listener *ipv4.PacketConn
	ifindex  int
}

func newClient(t *testing.T, l *lan) *client {
	t.Helper()
	ns, _ := l.node()
	c := &client{}
	var err error
	in(t, ns, func() {
		var nif *net.Interface
		if nif, err = net.InterfaceByName("eth0"); err != nil {
			return
		}
		c.ifindex = nif.Index
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp4", "0.0.0.0:0"); err != nil {
			return
		}
		c.oneShot = ipv4.NewPacketConn(pc)
		if err = c.oneShot.SetMulticastInterface(nif); err != nil {
			return
		}
		if pc, err = listenReuse(context.Background(), "udp4", "0.0.0.0:5353"); err != nil {
			return
		}
		c.listener = ipv4.NewPacketConn(pc)
		if err = c.listener.JoinGroup(nif, group4); err != nil {
			return
		}
		c.oneShot6, err = net.ListenPacket("udp6", "[::]:0")
	})
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	t.Cleanup(func() { c.oneShot.Close(); c.listener.Close(); c.oneShot6.Close() })
	return c
}

// ask sends a one-shot query to the group and returns every answer that
// arrives within 400 ms.
func (c *client) ask(t *testing.T, name string, qtype uint16) []*dns.Msg {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	b, _ := q.Pack()
	if _, err := c.oneShot.WriteTo(b, nil, group4); err != nil {
		t.Fatalf("send query: %v", err)
	}
	var out []*dns.Msg
	_ = c.oneShot.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	buf := make([]byte, 9000)
	for {
		n, _, _, err := c.oneShot.ReadFrom(buf)
		if err != nil {
			return out
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) == nil && m.Id == q.Id {
			out = append(out, m)
		}
	}
}

// resolve6 asks once over IPv6 (ff02::fb on eth0) and returns the
// addresses answered within 400 ms.
func (c *client) resolve6(t *testing.T, name string, qtype uint16) []string {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	b, _ := q.Pack()
	dst := &net.UDPAddr{IP: group6.IP, Port: Port, Zone: strconv.Itoa(c.ifindex)}
	if _, err := c.oneShot6.WriteTo(b, dst); err != nil {
		t.Fatalf("send query: %v", err)
	}
	var out []string
	_ = c.oneShot6.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	buf := make([]byte, 9000)
	for {
		n, _, err := c.oneShot6.ReadFrom(buf)
		if err != nil {
			return out
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || m.Id != q.Id {
			continue
		}
		for _, rr := range m.Answer {
			if a, ok := rrAddr(rr); ok {
				out = append(out, a.String())
			}
		}
	}
}

// resolve returns the addresses answered for name, sorted.
func (c *client) resolve(t *testing.T, name string, qtype uint16) []string {
	t.Helper()
	var out []string
	for _, m := range c.ask(t, name, qtype) {
		for _, rr := range m.Answer {
			if a, ok := rrAddr(rr); ok && strings.EqualFold(rr.Header().Name, name) {
				out = append(out, a.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

// heard waits up to 3 s for an unsolicited response with a record named
// name and returns that record's TTL.
func (c *client) heard(t *testing.T, name string, qtype uint16) (uint32, bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	buf := make([]byte, 9000)
	for time.Now().Before(deadline) {
		_ = c.listener.SetReadDeadline(deadline)
		n, _, _, err := c.listener.ReadFrom(buf)
		if err != nil {
			return 0, false
		}
		m := new(dns.Msg)
		if m.Unpack(buf[:n]) != nil || !m.Response {
			continue
		}
		for _, rr := range m.Answer {
			if strings.EqualFold(rr.Header().Name, name) && rr.Header().Rrtype == qtype {
				return rr.Header().Ttl, true
			}
		}
	}
	return 0, false
}

func TestResolveBoxAndApp(t *testing.T) {
	l := newLAN(t)
	b, _ := startBox(t, l, "hearth", "photos")
	c := newClient(t, l)
	waitState(t, b.r, StateRunning)

	tests := []struct {
		name  string
		qname string
		qtype uint16
		want  []string
	}{
		{"box A", "hearth.local.", dns.TypeA, []string{"10.77.0.1"}},
		{"box AAAA", "hearth.local.", dns.TypeAAAA, []string{"fd77::1"}},
		{"box ANY", "HEARTH.local.", dns.TypeANY, []string{"10.77.0.1", "fd77::1"}},
		{"app A", "photos.hearth.local.", dns.TypeA, []string{"10.77.0.1"}},
		{"unknown app", "music.hearth.local.", dns.TypeA, nil},
		{"other host", "printer.local.", dns.TypeA, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, c.resolve(t, tt.qname, tt.qtype)); diff != "" {
				t.Errorf("addresses of %s (-want +got):\n%s", tt.qname, diff)
			}
		})
	}
	t.Run("over IPv6", func(t *testing.T) {
		got := c.resolve6(t, "photos.hearth.local.", dns.TypeAAAA)
		if diff := cmp.Diff([]string{"fd77::1"}, got); diff != "" {
			t.Errorf("AAAA over IPv6 (-want +got):\n%s", diff)
		}
	})
	t.Run("legacy answers echo the question with a short TTL", func(t *testing.T) {
		ms := c.ask(t, "hearth.local.", dns.TypeA)
		if len(ms) != 1 || len(ms[0].Question) != 1 || len(ms[0].Answer) != 1 || ms[0].Answer[0].Header().Ttl > legacyTTL {
			t.Fatalf("got %v, want one answer with the question and TTL <= %d", ms, legacyTTL)
		}
	})
}

func TestBrowse(t *testing.T) {
	l := newLAN(t)
	b, _ := startBox(t, l, "hearth")
	c := newClient(t, l)
	waitState(t, b.r, StateRunning)

	var types []string
	for _, m := range c.ask(t, servicesName, dns.TypePTR) {
		for _, rr := range m.Answer {
			types = append(types, rr.(*dns.PTR).Ptr)
		}
	}
	if diff := cmp.Diff([]string{"_http._tcp.local.", "_https._tcp.local."}, types); diff != "" {
		t.Errorf("service types (-want +got):\n%s", diff)
	}
	for _, tt := range []struct {
		typ  string
		port uint16
	}{{"_http._tcp.local.", 80}, {"_https._tcp.local.", 443}} {
		t.Run(tt.typ, func(t *testing.T) {
			ms := c.ask(t, tt.typ, dns.TypePTR)
			if len(ms) != 1 || len(ms[0].Answer) != 1 {
				t.Fatalf("got %v, want one answer", ms)
			}
			inst := ms[0].Answer[0].(*dns.PTR).Ptr
			if want := "hearth." + tt.typ; inst != want {
				t.Errorf("got instance %s, want %s", inst, want)
			}
			var srv *dns.SRV
			var addr string
			for _, rr := range ms[0].Extra {
				switch v := rr.(type) {
				case *dns.SRV:
					srv = v
				case *dns.A:
					addr = v.A.String()
				}
			}
			if srv == nil || srv.Target != "hearth.local." || srv.Port != tt.port || addr != "10.77.0.1" {
				t.Errorf("got SRV %v and A %q in the additional section, want hearth.local.:%d and 10.77.0.1", srv, addr, tt.port)
			}
		})
	}
}

func TestConflictRenames(t *testing.T) {
	l := newLAN(t)
	first, _ := startBox(t, l, "hearth")
	c := newClient(t, l)
	waitState(t, first.r, StateRunning)
	second, _ := startBox(t, l, "hearth")
	st := waitState(t, second.r, StateRunning)
	if st.Name != "hearth-2" || st.Conflicts != 1 {
		t.Errorf("second responder: got %+v, want name hearth-2 after 1 conflict", st)
	}
	if diff := cmp.Diff([]string{"hearth -> hearth-2"}, second.renamed()); diff != "" {
		t.Errorf("renames reported (-want +got):\n%s", diff)
	}
	if st := first.r.Status(); st.Name != "hearth" || st.Conflicts != 0 {
		t.Errorf("first responder: got %+v, want hearth without conflicts", st)
	}
	if diff := cmp.Diff([]string{"10.77.0.1"}, c.resolve(t, "hearth.local.", dns.TypeA)); diff != "" {
		t.Errorf("hearth.local (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"10.77.0.3"}, c.resolve(t, "hearth-2.local.", dns.TypeA)); diff != "" {
		t.Errorf("hearth-2.local (-want +got):\n%s", diff)
	}
}

// Two responders probing for the same name at once: the tie-break lets one
// keep it and the other renames.
func TestSimultaneousProbes(t *testing.T) {
	l := newLAN(t)
	a, _ := startBox(t, l, "dup")
	b, _ := startBox(t, l, "dup")
	names := []string{waitState(t, a.r, StateRunning).Name, waitState(t, b.r, StateRunning).Name}
	slices.Sort(names)
	if diff := cmp.Diff([]string{"dup", "dup-2"}, names); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}

func TestAnnounceAndGoodbye(t *testing.T) {
	l := newLAN(t)
	c := newClient(t, l)
	b, stop := startBox(t, l, "hearth", "photos")
	if ttl, ok := c.heard(t, "photos.hearth.local.", dns.TypeA); !ok || ttl != hostTTL {
		t.Fatalf("announcement at start: got TTL %d, %v; want %d", ttl, ok, hostTTL)
	}
	waitState(t, b.r, StateRunning)
	if err := b.r.SetApps([]string{"photos", "music"}); err != nil {
		t.Fatal(err)
	}
	if ttl, ok := c.heard(t, "music.hearth.local.", dns.TypeA); !ok || ttl != hostTTL {
		t.Errorf("new app announced: got TTL %d, %v; want %d", ttl, ok, hostTTL)
	}
	if err := b.r.SetApps([]string{"photos"}); err != nil {
		t.Fatal(err)
	}
	if ttl, ok := c.heard(t, "music.hearth.local.", dns.TypeA); !ok || ttl != 0 {
		t.Errorf("removed app's goodbye: got TTL %d, %v; want 0", ttl, ok)
	}
	stop()
	if ttl, ok := c.heard(t, "hearth.local.", dns.TypeA); !ok || ttl != 0 {
		t.Errorf("goodbye on stop: got TTL %d, %v; want 0", ttl, ok)
	}
	if st := b.r.Status(); st.State != StateStopped {
		t.Errorf("got state %s, want %s", st.State, StateStopped)
	}
}

func TestDefersToAvahi(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Name: "hearth", AvahiPIDFile: pidFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(t.Context()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if st := r.Status(); st.State != StateDeferred || !strings.Contains(st.Detail, "avahi") {
		t.Errorf("got %+v, want deferred to avahi", st)
	}
	// A stale pid file (no such process) does not count.
	if err := os.WriteFile(pidFile, []byte("2147483000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if running, _ := AvahiRunning(pidFile); running {
		t.Errorf("stale pid file: got running, want not")
	}
	if running, _ := AvahiRunning(filepath.Join(t.TempDir(), "none")); running {
		t.Errorf("no pid file: got running, want not")
	}
}

func TestNextName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"hearth", "hearth-2"},
		{"hearth-2", "hearth-3"},
		{"hearth-9", "hearth-10"},
		{"my-box", "my-box-2"},
		{"box-1", "box-1-2"},
		{"box-02", "box-02-2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := nextName(tt.in); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTieBreak(t *testing.T) {
	a := func(ips ...string) []dns.RR {
		var out []netip.Addr
		for _, ip := range ips {
			out = append(out, netip.MustParseAddr(ip))
		}
		return addrRecords("x.local.", out, dns.TypeANY, hostTTL)
	}
	tests := []struct {
		name         string
		ours, theirs []dns.RR
		want         int
	}{
		{"same records (our own probe)", a("10.0.0.1"), a("10.0.0.1"), 0},
		{"higher address wins", a("10.0.0.2"), a("10.0.0.1"), 1},
		{"lower address loses", a("10.0.0.1"), a("10.0.0.2"), -1},
		{"AAAA sorts after A", a("10.0.0.1"), a("fd00::1"), -1},
		{"more records win when the rest is equal", a("10.0.0.1", "fd00::1"), a("10.0.0.1"), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tieBreak(tt.ours, tt.theirs); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no name", Config{}, "name"},
		{"two labels", Config{Name: "a.b"}, "name"},
		{"upper case", Config{Name: "Hearth"}, "name"},
		{"bad service", Config{Name: "h", Services: []Service{{Type: "http", Port: 80}}}, "services[0]"},
		{"no port", Config{Name: "h", Services: []Service{{Type: "_http._tcp"}}}, "services[0]"},
		{"negative refresh", Config{Name: "h", Refresh: -1}, "refresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
	r, _ := New(Config{Name: "h"})
	if err := r.SetApps([]string{"ok", "not ok"}); !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), "apps[1]") {
		t.Errorf("SetApps: got %v, want %v naming apps[1]", err, ErrInvalidConfig)
	}
	if err := r.SetName("-x"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SetName: got %v, want %v", err, ErrInvalidConfig)
	}
}
