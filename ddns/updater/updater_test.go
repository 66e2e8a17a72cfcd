package updater

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthbox/hearth/ddns/discover"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136/rfc2136test"
	"github.com/miekg/dns"
)

const (
	zone   = "box.test."
	key    = "hearth-test."
	secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
	wrong  = "d3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmctd3Jvbmc="
)

// start serves the zone with an NS host whose address is the server
// itself, so that verification finds it by an NS lookup like in the wild:
// the test server is both the resolver and the authority.
func start(t *testing.T, records ...string) *rfc2136test.Server {
	t.Helper()
	srv := rfc2136test.Start(t, rfc2136test.Config{Zone: zone, KeyName: key, Secret: secret})
	srv.Add(t, append([]string{"ns.box.test. 60 IN A 127.0.0.1"}, records...)...)
	return srv
}

func newUpdater(t *testing.T, srv *rfc2136test.Server, keySecret string) *Updater {
	t.Helper()
	p, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, KeyName: key, Secret: keySecret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("rfc2136.New: %v", err)
	}
	_, port, _ := net.SplitHostPort(srv.Addr)
	u, err := New(Config{
		Provider: p, Zone: "box.test", Name: "home", TTL: 60 * time.Second,
		Resolver: srv.Addr, AuthorityPort: port, VerifyTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return u
}

func addrs(v4, v6 string) Addresses {
	var a Addresses
	if v4 != "" {
		a.IPv4 = netip.MustParseAddr(v4)
	}
	if v6 != "" {
		a.IPv6 = netip.MustParseAddr(v6)
	}
	return a
}

func data(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		f := strings.Fields(rr.String())
		out = append(out, f[1]+" "+f[len(f)-1])
	}
	return out
}

// Acceptance 1: the RFC 2136 updater against an in-process server with
// TSIG.
func TestRFC2136(t *testing.T) {
	t.Run("wrong key is refused and the error shows in Status", func(t *testing.T) {
		srv := start(t, "home.box.test. 60 IN A 198.51.100.7")
		u := newUpdater(t, srv, wrong)
		err := u.Update(t.Context(), addrs("198.51.100.8", ""))
		if !errors.Is(err, rfc2136.ErrRejected) {
			t.Fatalf("got %v, want %v", err, rfc2136.ErrRejected)
		}
		st := u.Status()
		if st.LastError == "" || st.Verified || st.Failures != 1 {
			t.Errorf("got status %+v, want the error, not verified, 1 failure", st)
		}
		if n := srv.Updates(); n != 0 {
			t.Errorf("got %d updates applied, want 0", n)
		}
		if got := data(srv.Lookup("home.box.test.", dns.TypeA)); len(got) != 1 || got[0] != "60 198.51.100.7" {
			t.Errorf("got %v, want the old record untouched", got)
		}
	})

	t.Run("unchanged address sends nothing", func(t *testing.T) {
		srv := start(t, "home.box.test. 60 IN A 198.51.100.7", "home.box.test. 60 IN AAAA 2001:db8::7")
		u := newUpdater(t, srv, secret)
		for i := range 3 {
			if err := u.Update(t.Context(), addrs("198.51.100.7", "2001:db8::7")); err != nil {
				t.Fatalf("Update %d: %v", i, err)
			}
		}
		if n := srv.Updates(); n != 0 {
			t.Errorf("got %d UPDATE messages, want 0", n)
		}
		if q := srv.Queries(); len(q) != 0 {
			t.Errorf("got queries %v, want none (nothing to verify)", q)
		}
		if st := u.Status(); !st.Verified || st.LastError != "" || !st.LastUpdate.IsZero() {
			t.Errorf("got status %+v, want verified, no error, never updated", st)
		}
	})

	t.Run("changed address sends one update, then verifies it", func(t *testing.T) {
		srv := start(t, "home.box.test. 60 IN A 198.51.100.7", "home.box.test. 60 IN AAAA 2001:db8::7")
		u := newUpdater(t, srv, secret)
		if err := u.Update(t.Context(), addrs("198.51.100.8", "2001:db8::8")); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if n := srv.Updates(); n != 1 {
			t.Errorf("got %d UPDATE messages, want 1", n)
		}
		for _, c := range []struct {
			t    uint16
			want string
		}{{dns.TypeA, "60 198.51.100.8"}, {dns.TypeAAAA, "60 2001:db8::8"}} {
			if got := data(srv.Lookup("home.box.test.", c.t)); len(got) != 1 || got[0] != c.want {
				t.Errorf("got %v, want [%s]", got, c.want)
			}
		}
		wantQ := []string{"box.test. NS", "ns.box.test. A", "ns.box.test. AAAA", "home.box.test. A", "home.box.test. AAAA"}
		if got := srv.Queries(); strings.Join(got, ",") != strings.Join(wantQ, ",") {
			t.Errorf("got queries %v, want %v (NS lookup, then the authority asked)", got, wantQ)
		}
		st := u.Status()
		if !st.Verified || st.LastUpdate.IsZero() || st.IPv4.String() != "198.51.100.8" || st.Name != "home.box.test." {
			t.Errorf("got status %+v, want verified and updated at 198.51.100.8", st)
		}
		// The same address again: remembered, nothing sent or read.
		if err := u.Update(t.Context(), addrs("198.51.100.8", "2001:db8::8")); err != nil {
			t.Fatalf("Update again: %v", err)
		}
		if n := srv.Updates(); n != 1 {
			t.Errorf("got %d UPDATE messages after the same address, want still 1", n)
		}
	})

	t.Run("IPv4 only leaves AAAA alone", func(t *testing.T) {
		srv := start(t, "home.box.test. 60 IN AAAA 2001:db8::7")
		u := newUpdater(t, srv, secret)
		if err := u.Update(t.Context(), addrs("198.51.100.9", "")); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if got := data(srv.Lookup("home.box.test.", dns.TypeAAAA)); len(got) != 1 {
			t.Errorf("got AAAA %v, want the old one kept", got)
		}
		if got := data(srv.Lookup("home.box.test.", dns.TypeA)); len(got) != 1 || got[0] != "60 198.51.100.9" {
			t.Errorf("got A %v, want [60 198.51.100.9]", got)
		}
	})
}

// An authority that never shows the change: the update is reported as not
// verified, and the next pass compares with the zone again.
func TestNotVerified(t *testing.T) {
	srv := start(t)
	stale := rfc2136test.Start(t, rfc2136test.Config{Zone: zone, KeyName: key, Secret: secret})
	stale.Add(t, "home.box.test. 60 IN A 198.51.100.1")
	p, err := rfc2136.New(rfc2136.Config{Server: srv.Addr, KeyName: key, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	u, err := New(Config{Provider: p, Zone: zone, Name: "home", Authorities: []string{srv.Addr, stale.Addr}, VerifyTimeout: 2500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	err = u.Update(t.Context(), addrs("198.51.100.2", ""))
	if !errors.Is(err, ErrNotVerified) || !strings.Contains(err.Error(), stale.Addr) {
		t.Fatalf("got %v, want %v naming %s", err, ErrNotVerified, stale.Addr)
	}
	if st := u.Status(); st.Verified || st.LastUpdate.IsZero() {
		t.Errorf("got status %+v, want updated but not verified", st)
	}
	if n := srv.Updates(); n != 1 {
		t.Errorf("got %d updates, want 1", n)
	}
	// Next pass reads the zone, finds the address there, sends nothing.
	before := len(srv.Queries())
	if err := u.Update(t.Context(), addrs("198.51.100.2", "")); err != nil {
		t.Fatalf("second Update: %v", err)
	}
	if n := srv.Updates(); n != 1 {
		t.Errorf("got %d updates after the second pass, want still 1", n)
	}
	if len(srv.Queries()) != before {
		t.Errorf("second pass asked the authorities again; it had nothing to verify")
	}
}

type discoverer struct {
	mu  sync.Mutex
	res discover.Result
	err error
	n   int
}

func (d *discoverer) Discover(context.Context) (discover.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	return d.res, d.err
}

func (d *discoverer) calls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

func TestRunBacksOffAndReports(t *testing.T) {
	srv := start(t)
	u := newUpdater(t, srv, secret)
	u.cfg.MinBackoff, u.cfg.MaxBackoff = time.Hour, 4*time.Hour
	d := &discoverer{res: discover.Result{
		Err4: discover.ErrNoAnswer, Err6: discover.ErrNoAnswer, CGNAT: true, Advice: discover.AdviceCGNAT,
	}}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx, d) }()
	deadline := time.Now().Add(5 * time.Second)
	for u.Status().Failures < 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := u.Status()
	if st.Failures != 1 || !strings.Contains(st.LastError, "no public address") || st.Advice != discover.AdviceCGNAT {
		t.Errorf("got status %+v, want one failure, no address, CGNAT advice", st)
	}
	if wait := time.Until(st.NextTry); wait < 29*time.Minute || wait > time.Hour {
		t.Errorf("next try in %s, want 30 to 60 min (first backoff with jitter)", wait)
	}
	// A trigger runs a pass now; with an address it succeeds.
	d.mu.Lock()
	d.res = discover.Result{IPv4: netip.MustParseAddr("198.51.100.5")}
	d.mu.Unlock()
	u.Trigger()
	for u.Status().Failures != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st = u.Status()
	if st.Failures != 0 || st.LastError != "" || !st.Verified || st.Advice != "" {
		t.Errorf("got status %+v, want a good pass", st)
	}
	if wait := time.Until(st.NextTry); wait < 4*time.Minute || wait > 5*time.Minute {
		t.Errorf("next try in %s, want the 5 min interval", wait)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: got %v, want nil", err)
	}
	if d.calls() != 2 {
		t.Errorf("got %d discoveries, want 2", d.calls())
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		jitter float64
		want   time.Duration
	}{
		{"first failure, least jitter", 1, 0, 15 * time.Second},
		{"first failure, most jitter", 1, 1, 30 * time.Second},
		{"third failure doubles twice", 3, 1, 2 * time.Minute},
		{"capped", 30, 1, 30 * time.Minute},
		{"capped, least jitter", 1000, 0, 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Backoff(tt.n, 30*time.Second, 30*time.Minute, tt.jitter); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestConfigValidation(t *testing.T) {
	p, _ := rfc2136.New(rfc2136.Config{Server: "127.0.0.1:53", KeyName: key, Secret: secret})
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no provider", Config{Zone: zone, Name: "@"}, "provider"},
		{"no zone", Config{Provider: p, Name: "@"}, "zone"},
		{"no name", Config{Provider: p, Zone: zone}, "name"},
		{"name outside the zone", Config{Provider: p, Zone: zone, Name: "example.com."}, "name"},
		{"ttl too long", Config{Provider: p, Zone: zone, Name: "@", TTL: time.Hour}, "ttl"},
		{"ttl too short", Config{Provider: p, Zone: zone, Name: "@", TTL: time.Millisecond}, "ttl"},
		{"bad authority", Config{Provider: p, Zone: zone, Name: "@", Authorities: []string{"ns1"}}, "authorities[0]"},
		{"bad resolver", Config{Provider: p, Zone: zone, Name: "@", Resolver: "8.8.8.8"}, "resolver"},
		{"backoff upside down", Config{Provider: p, Zone: zone, Name: "@", MinBackoff: time.Hour, MaxBackoff: time.Minute}, "max_backoff"},
		{"negative interval", Config{Provider: p, Zone: zone, Name: "@", Interval: -time.Second}, "interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
}
