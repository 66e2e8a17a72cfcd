package proxy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestValidateRoutes(t *testing.T) {
	ok := func() Route {
		return Route{ID: "hello", Title: "Hello", Hosts: []string{"hello.hearth.local"}, Upstream: "http://10.89.0.2:8080", State: StateRunning}
	}
	with := func(edit func(*Route)) []Route {
		r := ok()
		edit(&r)
		return []Route{r}
	}
	reserved := map[int]string{8443: "HTTPS"}
	tests := []struct {
		name   string
		routes []Route
		field  string // "" = valid
	}{
		{"valid", with(func(*Route) {}), ""},
		{"valid without upstream", with(func(r *Route) { r.Upstream, r.State = "", StateStopped }), ""},
		{"valid port only", with(func(r *Route) { r.Hosts, r.Port, r.PortHost = nil, 20001, "hearth.local" }), ""},
		{"valid loopback and ipv6 ula", []Route{ok(), {ID: "b", Hosts: []string{"b.example.org"}, Upstream: "http://[fd00::2]:80", State: StateRunning}}, ""},
		{"empty id", with(func(r *Route) { r.ID = "" }), "routes[0].id"},
		{"id with slash", with(func(r *Route) { r.ID = "a/b" }), "routes[0].id"},
		{"duplicate id", []Route{ok(), with(func(r *Route) { r.Hosts = []string{"other.hearth.local"} })[0]}, "routes[1].id"},
		{"valid auth scope", with(func(r *Route) { r.Protected, r.AuthScope = true, "hello" }), ""},
		{"auth scope with semicolon", with(func(r *Route) { r.Protected, r.AuthScope = true, "a;b" }), "routes[0].authScope"},
		{"control character in title", with(func(r *Route) { r.Title = "a\nb" }), "routes[0].title"},
		{"no host and no port", with(func(r *Route) { r.Hosts = nil }), "routes[0].hosts"},
		{"uppercase host", with(func(r *Route) { r.Hosts = []string{"Hello.hearth.local"} }), "routes[0].hosts[0]"},
		{"single label host", with(func(r *Route) { r.Hosts = []string{"hello"} }), "routes[0].hosts[0]"},
		{"ip host", with(func(r *Route) { r.Hosts = []string{"10.0.0.1"} }), "routes[0].hosts[0]"},
		{"wildcard host", with(func(r *Route) { r.Hosts = []string{"*.hearth.local"} }), "routes[0].hosts[0]"},
		{"host with port", with(func(r *Route) { r.Hosts = []string{"a.local:80"} }), "routes[0].hosts[0]"},
		{"trailing dot", with(func(r *Route) { r.Hosts = []string{"a.local."} }), "routes[0].hosts[0]"},
		{"hyphen at label start", with(func(r *Route) { r.Hosts = []string{"ok.example.org", "-a.local"} }), "routes[0].hosts[1]"},
		{"host claimed twice", []Route{ok(), {ID: "b", Hosts: []string{"hello.hearth.local"}, State: StateStopped}}, "routes[1].hosts[0]"},
		{"old host is another route's host", []Route{ok(), {ID: "b", Hosts: []string{"b.hearth.local"}, State: StateStopped,
			OldHosts: []Redirect{{Host: "hello.hearth.local", Until: time.Now()}}}}, "routes[1].oldHosts[0].host"},
		{"old host without until", with(func(r *Route) { r.OldHosts = []Redirect{{Host: "old.hearth.local"}} }), "routes[0].oldHosts[0].until"},
		{"port below 1024", with(func(r *Route) { r.Port, r.PortHost = 443, "hearth.local" }), "routes[0].port"},
		{"port above 65535", with(func(r *Route) { r.Port, r.PortHost = 70000, "hearth.local" }), "routes[0].port"},
		{"port is the proxy's own", with(func(r *Route) { r.Port, r.PortHost = 8443, "hearth.local" }), "routes[0].port"},
		{"port twice", []Route{with(func(r *Route) { r.Port, r.PortHost = 20001, "hearth.local" })[0],
			{ID: "b", Port: 20001, PortHost: "hearth.local", State: StateStopped}}, "routes[1].port"},
		{"port without port host", with(func(r *Route) { r.Port = 20001 }), "routes[0].portHost"},
		{"port host without port", with(func(r *Route) { r.PortHost = "hearth.local" }), "routes[0].portHost"},
		{"https upstream", with(func(r *Route) { r.Upstream = "https://10.89.0.2:8443" }), "routes[0].upstream"},
		{"public upstream", with(func(r *Route) { r.Upstream = "http://8.8.8.8:80" }), "routes[0].upstream"},
		{"unspecified upstream", with(func(r *Route) { r.Upstream = "http://0.0.0.0:80" }), "routes[0].upstream"},
		{"named upstream", with(func(r *Route) { r.Upstream = "http://localhost:80" }), "routes[0].upstream"},
		{"upstream without port", with(func(r *Route) { r.Upstream = "http://10.0.0.1" }), "routes[0].upstream"},
		{"upstream with path", with(func(r *Route) { r.Upstream = "http://10.0.0.1:80/app" }), "routes[0].upstream"},
		{"upstream with user", with(func(r *Route) { r.Upstream = "http://u:p@10.0.0.1:80" }), "routes[0].upstream"},
		{"link-local upstream", with(func(r *Route) { r.Upstream = "http://169.254.169.254:80" }), "routes[0].upstream"},
		{"unknown state", with(func(r *Route) { r.State = "" }), "routes[0].state"},
		{"negative upload limit", with(func(r *Route) { r.MaxUploadBytes = -1 }), "routes[0].maxUploadBytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateRoutes(tt.routes, reserved)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("got %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidRoute) {
				t.Fatalf("got %v, want an error matching ErrInvalidRoute", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("got %v, want the first error to name %s", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+": ") {
				t.Errorf("message: got %q, want it to start with %q", err, tt.field+": ")
			}
		})
	}
}

func TestCanonicalHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello.Hearth.Local", "hello.hearth.local"},
		{"hello.hearth.local:8443", "hello.hearth.local"},
		{"hello.hearth.local.", "hello.hearth.local"},
		{"[::1]:443", "::1"},
		{"[::1]", "::1"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := canonicalHost(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
