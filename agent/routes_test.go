package agent

import (
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
	rt "github.com/hearthbox/hearth/runtime"
)

func sampleManifest(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../internal/samplecatalog/src/hello/manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer("{{registry}}", "127.0.0.1:5000", "{{platform}}", "linux/amd64").Replace(string(b)))
}

func TestRoutes(t *testing.T) {
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	until := now.Add(oldNameGrace)
	m := sampleManifest(t)
	protected := []byte(strings.Replace(string(m), "{", `{"protected": true,`, 1))
	running := []rt.ContainerInfo{{ID: "hello-web", Group: "hello", State: rt.StateRunning, IP: netip.MustParseAddr("10.89.0.2")}}
	cases := []struct {
		name     string
		domain   string
		app      state.App
		observed []rt.ContainerInfo
		want     []proxy.Route
	}{
		{"running on the LAN", "", state.App{ID: "hello", Manifest: m, Wanted: state.WantRunning, Port: 10001}, running, []proxy.Route{
			{ID: "hello", Title: "Hello", Hosts: []string{"hello.hearth.local"}, Port: 10001, PortHost: "hearth.local", Upstream: "http://10.89.0.2:8080", State: proxy.StateRunning},
		}},
		{"stopped", "", state.App{ID: "hello", Manifest: m, Wanted: state.WantStopped, Port: 10001}, nil, []proxy.Route{
			{ID: "hello", Title: "Hello", Hosts: []string{"hello.hearth.local"}, Port: 10001, PortHost: "hearth.local", State: proxy.StateStopped},
		}},
		{"being installed", "", state.App{ID: "hello", Manifest: m, Wanted: state.WantPending, Port: 10001}, nil, []proxy.Route{
			{ID: "hello", Title: "Hello", Hosts: []string{"hello.hearth.local"}, Port: 10001, PortHost: "hearth.local", State: proxy.StateStarting},
		}},
		{"moved, with a public domain", "example.org", state.App{ID: "hello", Name: "greeter", Manifest: m, Wanted: state.WantRunning, Port: 10001,
			OldNames: []state.OldName{{Name: "hello", Until: until}, {Name: "ancient", Until: now.Add(-time.Hour)}}}, running, []proxy.Route{
			{ID: "hello", Title: "Hello", Hosts: []string{"greeter.hearth.local"}, Port: 10001, PortHost: "hearth.local", Upstream: "http://10.89.0.2:8080", State: proxy.StateRunning,
				OldHosts: []proxy.Redirect{{Host: "hello.hearth.local", Until: until}}},
			{ID: "hello-public", Title: "Hello", Hosts: []string{"greeter.example.org"}, Upstream: "http://10.89.0.2:8080", State: proxy.StateRunning, HSTS: true,
				OldHosts: []proxy.Redirect{{Host: "hello.example.org", Until: until}}},
		}},
		{"protected, with a public domain", "example.org", state.App{ID: "hello", Manifest: protected, Wanted: state.WantRunning, Port: 10001}, running, []proxy.Route{
			{ID: "hello", Title: "Hello", Hosts: []string{"hello.hearth.local"}, Port: 10001, PortHost: "hearth.local", Upstream: "http://10.89.0.2:8080", State: proxy.StateRunning,
				Protected: true, AuthScope: "hello"},
			{ID: "hello-public", Title: "Hello", Hosts: []string{"hello.example.org"}, Upstream: "http://10.89.0.2:8080", State: proxy.StateRunning, HSTS: true,
				Protected: true, AuthScope: "hello"},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := &Agent{cfg: Config{BoxName: "hearth", Domain: c.domain}}
			got := a.routes([]state.App{c.app}, c.observed, now)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("routes (-want +got):\n%s", diff)
			}
		})
	}
}
