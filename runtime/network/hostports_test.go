package network

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNormalizeHostPorts(t *testing.T) {
	many := make([]uint16, MaxHostPorts+1)
	for i := range many {
		many[i] = uint16(1000 + i)
	}
	for _, tc := range []struct {
		name    string
		in      []uint16
		want    []uint16
		wantErr bool
	}{
		{"none", nil, nil, false},
		{"empty", []uint16{}, nil, false},
		{"sorted and deduplicated", []uint16{6379, 5432, 6379}, []uint16{5432, 6379}, false},
		{"zero", []uint16{0, 5432}, nil, true},
		{"too many", many, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := normalizeHostPorts(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestHostPorts proves that a network reaches exactly the gateway ports it
// was given, that another network does not, and that taking a port away
// closes it again.
func TestHostPorts(t *testing.T) {
	e := newEnv(t, testPool)
	m := e.manager(t)
	ctx := context.Background()

	open := serveHello(t, "", "0.0.0.0:0")
	closed := serveHello(t, "", "0.0.0.0:0")
	_, openPort, _ := net.SplitHostPort(open)
	_, closedPort, _ := net.SplitHostPort(closed)
	p, err := strconv.ParseUint(openPort, 10, 16)
	if err != nil {
		t.Fatal(err)
	}
	app, err := m.Ensure(ctx, Spec{Name: "app", HostPorts: []uint16{uint16(p), uint16(p)}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]uint16{uint16(p)}, app.HostPorts); diff != "" {
		t.Errorf("HostPorts (-want +got):\n%s", diff)
	}
	other, err := m.Ensure(ctx, Spec{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ensure(ctx, Spec{Name: "bad", HostPorts: []uint16{0}}); err == nil {
		t.Errorf("Ensure with port 0: got no error, want one")
	}
	a1, err := m.Attach(ctx, "app", "a1", nil)
	if err != nil {
		t.Fatal(err)
	}
	o1, err := m.Attach(ctx, "other", "o1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := firewallCurrent(t, m); err != nil {
		t.Errorf("firewall: %v", err)
	}
	reach := func(t *testing.T, from, to string, want bool) {
		t.Helper()
		err := greet(t, from, to)
		if want && err != nil {
			t.Errorf("%s -> %s: got %v, want a connection", from, to, err)
		}
		if !want && err == nil {
			t.Errorf("%s -> %s: got a connection, want none", from, to)
		}
	}
	appGW := func(port string) string { return net.JoinHostPort(app.Gateway.String(), port) }
	t.Run("the given port is open", func(t *testing.T) { reach(t, a1.NetNS, appGW(openPort), true) })
	t.Run("other ports stay closed", func(t *testing.T) { reach(t, a1.NetNS, appGW(closedPort), false) })
	t.Run("only on the network's own gateway", func(t *testing.T) {
		reach(t, a1.NetNS, net.JoinHostPort(other.Gateway.String(), openPort), false)
	})
	t.Run("another network does not get it", func(t *testing.T) {
		reach(t, o1.NetNS, net.JoinHostPort(other.Gateway.String(), openPort), false)
		reach(t, o1.NetNS, appGW(openPort), false)
	})
	t.Run("taking the port away closes it", func(t *testing.T) {
		if _, err := m.Ensure(ctx, Spec{Name: "app"}); err != nil {
			t.Fatal(err)
		}
		if err := firewallCurrent(t, m); err != nil {
			t.Errorf("firewall: %v", err)
		}
		reach(t, a1.NetNS, appGW(openPort), false)
	})
	for _, id := range []string{"a1", "o1"} {
		if err := m.Detach(ctx, id); err != nil {
			t.Errorf("Detach(%s): %v", id, err)
		}
	}
}
