package compose

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hearthbox/hearth/agent/manifest"
)

// portReason is the reason shown to the owner for a port the file publishes.
const portReason = "declared by the compose file"

// httpGuess are the container ports taken for a web entry when nothing
// names one, in order of preference; nonHTTP are never taken.
var (
	httpGuess = []int{80, 8080, 8000, 3000, 5000, 8081, 8888, 9000}
	nonHTTP   = []int{21, 22, 23, 25, 53, 110, 143, 443, 465, 587, 853, 993, 995, 1883, 3306, 5432, 5672, 6379, 8443, 8883, 9443, 11211, 27017}
)

// portSpec is one entry of a service's ports.
type portSpec struct {
	key       string
	target    int
	published string
	protocol  string
	hostIP    string
}

// webEntry is the app's web entry: a service and its container port.
type webEntry struct {
	service string
	port    int
}

// webAndPorts finds the web entry and publishes the other ports.
func (t *translator) webAndPorts() {
	for _, name := range t.order {
		for i, p := range t.proj.Services[name].Ports {
			t.ports[name] = append(t.ports[name], portSpec{
				key: fmt.Sprintf("ports[%d]", i), target: int(p.Target), published: p.Published,
				protocol: strings.ToLower(firstNonEmpty(p.Protocol, "tcp")), hostIP: p.HostIP,
			})
		}
	}
	t.web = t.findWeb()
	if t.web.service != "" {
		t.out[t.web.service].HTTPPort = t.web.port
		if t.meta.httpsBackend || slices.Contains([]int{443, 8443, 9443}, t.web.port) {
			t.warn(t.web.service, "ports", "port %d is the web entry and may speak HTTPS: Hearth's proxy speaks HTTP to it", t.web.port)
		}
	}
	seen := map[string]string{}
	for _, name := range t.order {
		for _, p := range t.ports[name] {
			t.publish(name, p, seen)
		}
	}
	if t.web.service == "" && !t.perms[manifest.PermPorts] {
		t.warn("", "ports", "the app has no web entry and publishes no ports: it runs headless (a worker), with no page to open")
	}
}

// publish adds one declared port to the service's published ports.
func (t *translator) publish(name string, p portSpec, seen map[string]string) {
	if name == t.web.service && p.target == t.web.port && p.protocol == "tcp" {
		return // reached through the proxy
	}
	switch {
	case t.hostNet[name]:
		t.warn(name, p.key, "the service is on the host's network and listens on the host's port %d itself: nothing is published", p.target)
		return
	case p.protocol != "tcp" && p.protocol != "udp":
		t.warn(name, p.key, "protocol %s is not supported: the port is not published", p.protocol)
		return
	case p.hostIP == "127.0.0.1" || p.hostIP == "::1" || p.hostIP == "localhost":
		t.warn(name, p.key, "published on the host's loopback only: on Hearth the port is not published")
		return
	case p.target < 1 || p.target > 65535:
		t.warn(name, p.key, "port %d is not a port: left out", p.target)
		return
	}
	k := strconv.Itoa(p.target) + "/" + p.protocol
	if prev, dup := seen[k]; dup {
		t.warn(name, p.key, "port %s is already published by %s: left out", k, prev)
		return
	}
	seen[k] = name
	if p.published != "" && p.published != strconv.Itoa(p.target) {
		t.warn(name, p.key, "published as %s in the file: Hearth publishes the container's port %d as the same number", p.published, p.target)
	}
	out := t.out[name]
	out.Ports = append(out.Ports, manifest.Port{Port: p.target, Protocol: p.protocol, Reason: portReason})
	t.perms[manifest.PermPorts] = true
}

// findWeb finds the web entry: what the platform says (CasaOS port_map,
// Umbrel's app_proxy, Runtipi's port, Traefik labels), else a guess.
func (t *translator) findWeb() webEntry {
	if t.meta.webHost != "" { // Umbrel
		if svc := t.serviceByHost(t.meta.webHost); svc != "" {
			if port, err := strconv.Atoi(t.meta.webPort); err == nil && port > 0 && port <= 65535 {
				return webEntry{svc, port}
			}
		}
		t.warn("", "app_proxy", "APP_HOST %q and APP_PORT %q do not name a service and port: the web entry is guessed", t.meta.webHost, t.meta.webPort)
	}
	if w, ok := t.traefikWeb(); ok {
		return w
	}
	if t.meta.webPort != "" {
		if w, ok := t.byPublished(t.meta.webPort); ok {
			return w
		}
		t.warn("", "port_map", "%q is not a port the file publishes: the web entry is guessed", t.meta.webPort)
	}
	return t.guessWeb()
}

// byPublished finds the service that publishes port (the main service
// first), or the host-network service listening on it.
func (t *translator) byPublished(port string) (webEntry, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(port))
	if err != nil {
		return webEntry{}, false
	}
	order := t.order
	if t.meta.main != "" && slices.Contains(order, t.meta.main) {
		order = append([]string{t.meta.main}, slices.DeleteFunc(slices.Clone(order), func(s string) bool { return s == t.meta.main })...)
	}
	for _, match := range []func(p portSpec) bool{
		func(p portSpec) bool { return p.published == port },
		func(p portSpec) bool { return p.published == "" && p.target == n },
	} {
		for _, name := range order {
			for _, p := range t.ports[name] {
				if p.protocol == "tcp" && match(p) {
					return webEntry{name, p.target}, true
				}
			}
		}
	}
	for _, name := range order {
		if t.hostNet[name] {
			return webEntry{name, n}, true
		}
	}
	for _, name := range order {
		for _, p := range t.ports[name] {
			if p.protocol == "tcp" && p.target == n {
				return webEntry{name, n}, true
			}
		}
	}
	return webEntry{}, false
}

var (
	traefikPort = regexp.MustCompile(`^traefik\.http\.services\.[^.]+\.loadbalancer\.server\.port$`)
	coopVersion = regexp.MustCompile(`^coop-cloud\.[^.]+\.version$`)
)

// traefikWeb reads the port from Traefik labels (Co-op Cloud, Runtipi).
func (t *translator) traefikWeb() (webEntry, bool) {
	for _, name := range t.order {
		s := t.proj.Services[name]
		labels := map[string]string{}
		for k, v := range s.Labels {
			labels[k] = v
		}
		if s.Deploy != nil {
			for k, v := range s.Deploy.Labels {
				labels[k] = v
			}
		}
		for _, k := range sortedKeys(labels) {
			if coopVersion.MatchString(k) && t.meta.version == "" {
				t.meta.version = labels[k]
			}
			if traefikPort.MatchString(k) {
				if n, err := strconv.Atoi(labels[k]); err == nil && n > 0 && n <= 65535 {
					return webEntry{name, n}, true
				}
			}
		}
	}
	return webEntry{}, false
}

// guessWeb takes the first container port of httpGuess (the main service
// first), else the first published TCP port that is not a known non-web
// port; it says so.
func (t *translator) guessWeb() webEntry {
	order := t.order
	if t.meta.main != "" && slices.Contains(order, t.meta.main) {
		order = []string{t.meta.main}
	}
	var w webEntry
	for _, g := range httpGuess {
		for _, name := range order {
			for _, p := range t.ports[name] {
				if w.service == "" && p.protocol == "tcp" && p.target == g {
					w = webEntry{name, g}
				}
			}
		}
	}
	for _, name := range order {
		for _, p := range t.ports[name] {
			if w.service == "" && p.protocol == "tcp" && !slices.Contains(nonHTTP, p.target) && p.target > 0 && p.target <= 65535 {
				w = webEntry{name, p.target}
			}
		}
	}
	if w.service != "" {
		t.warn(w.service, "ports", "nothing names the web entry: port %d is taken as the app's web page", w.port)
	}
	return w
}
