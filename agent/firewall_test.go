package agent

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
)

// withPorts is the sample manifest with published ports, which need the
// "ports" permission.
func withPorts(t *testing.T) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(sampleManifest(t), &doc); err != nil {
		t.Fatal(err)
	}
	doc["permissions"] = []string{"ports"}
	doc["services"].(map[string]any)["web"].(map[string]any)["ports"] = []map[string]any{
		{"port": 51820, "protocol": "udp", "reason": "VPN clients connect here"},
		{"port": 2222, "protocol": "tcp", "reason": "Git over SSH"},
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFirewallRules(t *testing.T) {
	ported := withPorts(t)
	lanPort := FirewallPort{Port: 10001, Protocol: "tcp", LANOnly: true, App: "hello"}
	published := []FirewallPort{{Port: 2222, Protocol: "tcp", App: "hello"}, lanPort, {Port: 51820, Protocol: "udp", App: "hello"}}
	cases := []struct {
		name  string
		proxy bool
		app   state.App
		want  []FirewallPort
	}{
		{"web app: its port on the box's name, LAN only", true, state.App{ID: "hello", Manifest: sampleManifest(t), Wanted: state.WantRunning, Port: 10001}, []FirewallPort{lanPort}},
		{"no proxy: no LAN port", false, state.App{ID: "hello", Manifest: sampleManifest(t), Wanted: state.WantRunning, Port: 10001}, nil},
		{"published ports granted at install", true, state.App{ID: "hello", Manifest: ported, Wanted: state.WantRunning, Port: 10001}, published},
		{"being installed", true, state.App{ID: "hello", Manifest: ported, Wanted: state.WantPending, Port: 10001}, published},
		{"stopped: published ports closed", true, state.App{ID: "hello", Manifest: ported, Wanted: state.WantStopped, Port: 10001}, []FirewallPort{lanPort}},
		{"unreadable manifest", true, state.App{ID: "hello", Manifest: []byte("{"), Wanted: state.WantRunning, Port: 10001}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Agent{cfg: Config{BoxName: "hearth"}}
			if c.proxy {
				a.cfg.Proxy = (*proxy.Proxy)(nil) // firewallRules only asks whether there is one
			}
			got := a.firewallRules([]state.App{c.app}).Ports
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
		})
	}
}

// recordingFirewall stands in for the host firewall, which needs root and
// a network namespace (ddns/firewall tests it for real).
type recordingFirewall struct {
	got []FirewallRules
	err error
}

func (f *recordingFirewall) Apply(_ context.Context, r FirewallRules) error {
	f.got = append(f.got, r)
	return f.err
}

// TestApplyFirewall: every pass hands the firewall the rules, with or
// without a proxy, and its failure is reported without stopping the
// proxy's routes.
func TestApplyFirewall(t *testing.T) {
	apps := []state.App{{ID: "hello", Manifest: withPorts(t), Wanted: state.WantRunning}}
	fw := &recordingFirewall{err: errors.New("netlink: operation not permitted")}
	a := &Agent{cfg: Config{BoxName: "hearth", Firewall: fw}}
	for range 2 {
		err := a.applyRoutes(t.Context(), apps)
		if err == nil || err.Error() != "firewall: netlink: operation not permitted" {
			t.Errorf("got error %v, want the firewall's, wrapped", err)
		}
	}
	want := FirewallRules{Ports: []FirewallPort{{Port: 2222, Protocol: "tcp", App: "hello"}, {Port: 51820, Protocol: "udp", App: "hello"}}}
	if diff := cmp.Diff([]FirewallRules{want, want}, fw.got); diff != "" {
		t.Errorf("rules applied (-want +got):\n%s", diff)
	}
	if err := (&Agent{}).applyFirewall(t.Context(), apps); err != nil {
		t.Errorf("got %v without a firewall, want nil", err)
	}
}
