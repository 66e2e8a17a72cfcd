package portmap_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/ddns/portmap"
)

// fastConfig keeps the tests short: a two second lease renews every
// second.
func fastConfig() portmap.Config {
	return portmap.Config{Lease: 2 * time.Second, Timeout: 500 * time.Millisecond, RetryMin: 100 * time.Millisecond, RetryMax: time.Second}
}

// closedUDP is a UDP port on 127.0.0.1 where nothing listens.
func closedUDP(t *testing.T) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	a := c.LocalAddr().(*net.UDPAddr).AddrPort()
	_ = c.Close()
	return a
}

// fakeRouter is what the table tests need of a router.
type fakeRouter struct {
	cfg      portmap.Config
	protocol string
	external string
	// mapped lists the router's mappings as "443/tcp".
	mapped func() []string
	// adds counts the requests that mapped port 443.
	adds func() int
	// setResult makes a NAT-PMP or PCP router answer every MAP with code.
	setResult func(code byte)
}

func natpmpRouter(t *testing.T, pcp bool) fakeRouter {
	r := startPMPRouter(t, pcp)
	cfg := fastConfig()
	cfg.Gateway = r.addr()
	cfg.Protocols = []string{portmap.ProtoPCP, portmap.ProtoNATPMP}
	proto := portmap.ProtoNATPMP
	if pcp {
		proto = portmap.ProtoPCP
	}
	return fakeRouter{cfg: cfg, protocol: proto, external: "203.0.113.7", setResult: r.setResult,
		mapped: func() []string {
			_, m := r.snapshot()
			var out []string
			for k := range m {
				out = append(out, k)
			}
			slices.Sort(out)
			return out
		},
		adds: func() int {
			calls, _ := r.snapshot()
			n := 0
			for _, c := range calls {
				if c.Internal == 443 && c.Lifetime > 0 {
					n++
				}
			}
			return n
		}}
}

func upnpRouter(t *testing.T) (fakeRouter, *igd) {
	g := startIGD(t)
	cfg := fastConfig()
	cfg.SSDP = g.ssdpAddr()
	cfg.Protocols = []string{portmap.ProtoUPnP}
	return fakeRouter{cfg: cfg, protocol: portmap.ProtoUPnP, external: "203.0.113.9",
		mapped: func() []string {
			_, m := g.snapshot()
			var out []string
			for k := range m {
				out = append(out, strings.ToLower(k))
			}
			slices.Sort(out)
			return out
		},
		adds: func() int {
			calls, _ := g.snapshot()
			n := 0
			for _, c := range calls {
				if c.Action == "AddPortMapping" && c.Args["NewExternalPort"] == "443" {
					n++
				}
			}
			return n
		}}, g
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(within)
	for !ok() {
		select {
		case <-deadline:
			t.Fatalf("%s: not within %s", what, within)
		case <-tick.C:
		}
	}
}

// TestMapperMapsRenewsRemoves is acceptance 6: against each router, 80 and
// 443 are mapped, renewed at half the lease, one is dropped when the owner
// narrows the set, and the rest are removed when the Mapper is turned off.
func TestMapperMapsRenewsRemoves(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(*testing.T) fakeRouter
	}{
		{"nat-pmp", func(t *testing.T) fakeRouter { return natpmpRouter(t, false) }},
		{"pcp", func(t *testing.T) fakeRouter { return natpmpRouter(t, true) }},
		{"upnp", func(t *testing.T) fakeRouter { r, _ := upnpRouter(t); return r }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.start(t)
			m, err := portmap.New(r.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			t.Cleanup(func() { cancel(); <-done })

			both := []string{"443/tcp", "80/tcp"}
			waitFor(t, "80 and 443 mapped", 5*time.Second, func() bool { return slices.Equal(r.mapped(), both) })
			waitFor(t, "443 renewed", 5*time.Second, func() bool { return r.adds() >= 2 })

			st := m.Status()
			if st.Protocol != r.protocol || st.External.String() != r.external || !st.Enabled || st.LastError != "" {
				t.Errorf("got status %+v, want protocol %s, external %s, enabled, no error", st, r.protocol, r.external)
			}
			var ports []string
			for _, mp := range st.Mapped {
				ports = append(ports, mp.Port.String())
				if mp.External != mp.Port.Port || mp.Lease != 2*time.Second {
					t.Errorf("got mapping %+v, want external port %d with a 2s lease", mp, mp.Port.Port)
				}
			}
			if diff := cmp.Diff([]string{"80/tcp", "443/tcp"}, ports); diff != "" {
				t.Errorf("status mapped ports (-want +got):\n%s", diff)
			}
			addr, err := m.ExternalAddr(t.Context())
			if err != nil || addr.String() != r.external {
				t.Errorf("got ExternalAddr %s, %v, want %s", addr, err, r.external)
			}

			if err := m.SetPorts([]portmap.Port{{Port: 443, Protocol: portmap.TCP}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "80 removed", 5*time.Second, func() bool { return slices.Equal(r.mapped(), []string{"443/tcp"}) })

			cancel()
			if err := <-done; err != nil {
				t.Errorf("got Run error %v, want nil", err)
			}
			done <- nil
			if got := r.mapped(); len(got) != 0 {
				t.Errorf("got mappings %v after Run ended, want none", got)
			}
		})
	}
}

// TestPCPKeepsNonce: a PCP router renews and deletes a mapping only for
// the nonce that made it.
func TestPCPKeepsNonce(t *testing.T) {
	r := startPMPRouter(t, true)
	cfg := fastConfig()
	cfg.Gateway, cfg.Ports = r.addr(), []portmap.Port{{Port: 443, Protocol: portmap.TCP}}
	m, err := portmap.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	calls, mappings := r.snapshot()
	var nonces []string
	var lifetimes []uint32
	for _, c := range calls {
		if c.Op == 1 {
			nonces, lifetimes = append(nonces, c.Nonce), append(lifetimes, c.Lifetime)
		}
	}
	if len(nonces) != 2 || nonces[0] != nonces[1] || nonces[0] == strings.Repeat("0", 24) {
		t.Errorf("got MAP nonces %v, want the same random nonce twice", nonces)
	}
	if diff := cmp.Diff([]uint32{2, 0}, lifetimes); diff != "" {
		t.Errorf("MAP lifetimes (-want +got):\n%s", diff)
	}
	if len(mappings) != 0 || m.Status().Enabled {
		t.Errorf("got mappings %v, enabled %v after Close, want none, false", mappings, m.Status().Enabled)
	}
}

// TestMapperErrors: what the routers refuse surfaces with its code and
// name, and matches the package's sentinels.
func TestMapperErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		// setup returns the config; it may make the router fail.
		setup func(*testing.T) portmap.Config
		want  error
		text  string
	}{
		{"upnp conflict", func(t *testing.T) portmap.Config {
			r, g := upnpRouter(t)
			g.setFault("443", 718)
			return r.cfg
		}, portmap.ErrConflict, "upnp AddPortMapping 443/tcp: router answered 718 ConflictInMappingEntry"},
		{"nat-pmp refused", func(t *testing.T) portmap.Config {
			r := natpmpRouter(t, false)
			r.setResult(2)
			return r.cfg
		}, portmap.ErrRefused, "natpmp map 80/tcp: router answered 2 Not Authorized/Refused"},
		{"nat-pmp out of resources", func(t *testing.T) portmap.Config {
			r := natpmpRouter(t, false)
			r.setResult(4)
			return r.cfg
		}, portmap.ErrRefused, "router answered 4 Out of resources"},
		{"pcp no resources", func(t *testing.T) portmap.Config {
			r := natpmpRouter(t, true)
			r.setResult(8)
			return r.cfg
		}, portmap.ErrRefused, "pcp map 443/tcp: router answered 8 NO_RESOURCES"},
		{"pcp cannot provide external", func(t *testing.T) portmap.Config {
			r := natpmpRouter(t, true)
			r.setResult(11)
			return r.cfg
		}, portmap.ErrConflict, "router answered 11 CANNOT_PROVIDE_EXTERNAL"},
		{"no router", func(t *testing.T) portmap.Config {
			cfg := fastConfig()
			cfg.Gateway, cfg.SSDP = closedUDP(t), closedUDP(t)
			return cfg
		}, portmap.ErrNoRouter, "no router answered"},
		{"ssdp location elsewhere", func(t *testing.T) portmap.Config {
			r, g := upnpRouter(t)
			g.setLocation("http://192.0.2.1:5000/rootDesc.xml")
			return r.cfg
		}, portmap.ErrNoRouter, `"http://192.0.2.1:5000/rootDesc.xml" is not on the router's address 127.0.0.1`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := portmap.New(tc.setup(t))
			if err != nil {
				t.Fatal(err)
			}
			err = m.Sync(t.Context())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("got error %v, want %v containing %q", err, tc.want, tc.text)
			}
			if st := m.Status(); st.LastError != err.Error() {
				t.Errorf("got status LastError %q, want %q", st.LastError, err)
			}
		})
	}
}

// TestUPnPPermanentOnly: a router that takes only permanent leases (725)
// gets one, which the Mapper still removes on Close.
func TestUPnPPermanentOnly(t *testing.T) {
	r, g := upnpRouter(t)
	g.setFault("443", 725)
	m, err := portmap.New(r.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, mappings := g.snapshot()
	if diff := cmp.Diff(map[string]string{"80/TCP": "2", "443/TCP": "0"}, mappings); diff != "" {
		t.Errorf("leases on the router (-want +got):\n%s", diff)
	}
	if err := m.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, mappings := g.snapshot(); len(mappings) != 0 {
		t.Errorf("got mappings %v after Close, want none", mappings)
	}
}

// TestConfigErrors: a bad setting names its field.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  portmap.Config
		want string
	}{
		{"port zero", portmap.Config{Ports: []portmap.Port{{Port: 0, Protocol: portmap.TCP}}}, "Ports[0]: port 0"},
		{"protocol", portmap.Config{Ports: []portmap.Port{{Port: 443, Protocol: "sctp"}}}, `Ports[0]: protocol "sctp" must be tcp or udp`},
		{"lease", portmap.Config{Lease: time.Millisecond}, "Lease: 1ms is under a second"},
		{"router protocol", portmap.Config{Protocols: []string{"igd"}}, `Protocols[0]: "igd" must be pcp, natpmp or upnp`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := portmap.New(tc.cfg)
			if !errors.Is(err, portmap.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}
