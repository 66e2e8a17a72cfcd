package agent

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/ddns/discover"
	"github.com/hearthbox/hearth/ddns/mdns"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136/rfc2136test"
	"github.com/hearthbox/hearth/proxy"
)

const (
	reachKey    = "hearth-test."
	reachSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
)

// fixedAddr is a Discoverer with one answer: discovery has its own tests.
type fixedAddr struct{ res discover.Result }

func (f fixedAddr) Discover(context.Context) (discover.Result, error) { return f.res, nil }

// lanNames records what the responder is told.
type lanNames struct {
	mu    sync.Mutex
	names []string
	st    mdns.Status
}

func (l *lanNames) SetApps(apps []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = apps
	return nil
}

func (l *lanNames) Status() mdns.Status { return l.st }

func newTestReach(t *testing.T, dnsSrv *rfc2136test.Server, m MDNS, found discover.Result) *Reach {
	t.Helper()
	store, err := state.Open(filepath.Join(t.TempDir(), "state.db"), state.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	cfg := ReachConfig{Store: store, MDNS: m, MDNSOff: "--mdns=false", BoxName: "hearth", Discoverer: fixedAddr{found}}
	if dnsSrv != nil {
		_, port, _ := net.SplitHostPort(dnsSrv.Addr)
		cfg.Resolver, cfg.AuthorityPort = dnsSrv.Addr, port
	}
	r, err := NewReach(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// SetDDNS with an RFC 2136 server: the updater starts, sets the address,
// verifies it, and the status shows it without the secret.
func TestReachUpdates(t *testing.T) {
	srv := rfc2136test.Start(t, rfc2136test.Config{Zone: "box.test.", KeyName: reachKey, Secret: reachSecret})
	srv.Add(t, "ns.box.test. 60 IN A 127.0.0.1")
	r := newTestReach(t, srv, nil, discover.Result{IPv4: netip.MustParseAddr("198.51.100.7")})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	st, err := r.SetDDNS(ctx, api.SetDDNSRequest{Enabled: true, Provider: "rfc2136", Zone: "box.test", Name: "home", TTL: 60,
		Credentials: map[string]string{"server": srv.Addr, "key_name": reachKey, "secret": reachSecret}})
	if err != nil {
		t.Fatalf("SetDDNS: %v", err)
	}
	if b, _ := json.Marshal(st); strings.Contains(string(b), reachSecret) {
		t.Errorf("status shows the secret: %s", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !st.Update.Verified && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		st, _ = r.DDNSStatus(ctx)
	}
	if st.Update.IPv4 != "198.51.100.7" || !st.Update.Verified || st.Update.FQDN != "home.box.test." {
		t.Errorf("got update %+v, want home.box.test. verified at 198.51.100.7", st.Update)
	}
	if srv.Updates() != 1 {
		t.Errorf("got %d updates, want 1", srv.Updates())
	}
	if diff := cmp.Diff([]string{"key_name", "secret", "server"}, st.Settings.CredentialKeys); diff != "" {
		t.Errorf("credential keys (-want +got):\n%s", diff)
	}
	if st.MDNS.State != "off" || st.MDNS.Detail != "--mdns=false" {
		t.Errorf("got mdns %+v, want off", st.MDNS)
	}

	// Settings again without credentials keep the stored ones.
	st, err = r.SetDDNS(ctx, api.SetDDNSRequest{Enabled: true, Provider: "rfc2136", Zone: "box.test", Name: "home"})
	if err != nil {
		t.Fatalf("SetDDNS without credentials: %v", err)
	}
	if len(st.Settings.CredentialKeys) != 3 {
		t.Errorf("got credential keys %v, want the stored three", st.Settings.CredentialKeys)
	}
}

func TestSetDDNSValidates(t *testing.T) {
	tests := []struct {
		name  string
		req   api.SetDDNSRequest
		field string
	}{
		{"unknown provider", api.SetDDNSRequest{Enabled: true, Provider: "route53", Zone: "a.example"}, "provider"},
		{"missing token", api.SetDDNSRequest{Enabled: true, Provider: "desec", Zone: "a.dedyn.io"}, "credentials.token"},
		{"missing rfc2136 secret", api.SetDDNSRequest{Enabled: true, Provider: "rfc2136", Zone: "a.example",
			Credentials: map[string]string{"server": "ns1.a.example", "key_name": "k."}}, "credentials.secret"},
		{"ttl too long", api.SetDDNSRequest{Enabled: true, Provider: "desec", Zone: "a.dedyn.io", TTL: 3600,
			Credentials: map[string]string{"token": "t"}}, "ttl"},
		{"name outside the zone", api.SetDDNSRequest{Enabled: true, Provider: "desec", Zone: "a.dedyn.io", Name: "b.example.",
			Credentials: map[string]string{"token": "t"}}, "name"},
		{"checker over http", api.SetDDNSRequest{Provider: "desec", Zone: "a.dedyn.io", CheckerURL: "http://check.example/",
			Credentials: map[string]string{"token": "t"}}, "checker_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestReach(t, nil, nil, discover.Result{})
			_, err := r.SetDDNS(t.Context(), tt.req)
			if !errors.Is(err, api.ErrInvalid) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, api.ErrInvalid, tt.field)
			}
			if d, _ := r.cfg.Store.DDNS(); d.Provider != "" {
				t.Errorf("got stored settings %+v after a refusal, want none", d)
			}
		})
	}
}

func TestReachAdvice(t *testing.T) {
	m := &lanNames{st: mdns.Status{State: mdns.StateRunning, Name: "hearth-2"}}
	r := newTestReach(t, nil, m, discover.Result{})
	r.found = discover.Result{CGNAT: true, Advice: discover.AdviceCGNAT}
	st, err := r.DDNSStatus(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !st.CGNAT || len(st.Advice) != 2 || st.Advice[0] != discover.AdviceCGNAT || !strings.Contains(st.Advice[1], "hearth-2.local") {
		t.Errorf("got CGNAT %v advice %q, want CGNAT advice and the rename", st.CGNAT, st.Advice)
	}
	if st.MDNS.Name != "hearth-2" {
		t.Errorf("got mdns %+v, want hearth-2", st.MDNS)
	}
}

type appliedRoutes struct{ n int }

func (a *appliedRoutes) Apply(context.Context, []proxy.Route) error { a.n++; return nil }

func TestWithMDNS(t *testing.T) {
	m := &lanNames{}
	inner := &appliedRoutes{}
	p := WithMDNS(inner, m, "hearth")
	routes := []proxy.Route{
		{ID: "photos", Hosts: []string{"photos.hearth.local", "photos.example.net"},
			OldHosts: []proxy.Redirect{{Host: "pics.hearth.local"}}},
		{ID: "notes", Hosts: []string{"notes.hearth.local"}},
		{ID: "deep", Hosts: []string{"a.b.hearth.local"}},
	}
	if err := p.Apply(t.Context(), routes); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"photos", "pics", "notes"}, m.names); diff != "" {
		t.Errorf("names given to mDNS (-want +got):\n%s", diff)
	}
	if inner.n != 1 {
		t.Errorf("got %d applies on the proxy, want 1", inner.n)
	}
}
