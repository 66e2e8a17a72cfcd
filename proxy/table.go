package proxy

import (
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"
)

// table is an immutable routing table. Apply builds a new one and swaps it in
// whole; requests read whichever one was current when they arrived.
type table struct {
	hosts map[string]*entry // route host name -> route
	old   map[string]oldHost
	ports map[int]*entry
	ids   map[string]*entry
}

// entry is one route, ready to serve.
type entry struct {
	route Route                  // a deep copy: never changed
	proxy *httputil.ReverseProxy // nil when the route has no upstream
	up    *upstream              // the fast path's pool; set with proxy
	limit int64
}

type oldHost struct {
	to    *entry
	until time.Time
}

func emptyTable() *table {
	return &table{hosts: map[string]*entry{}, old: map[string]oldHost{}, ports: map[int]*entry{}, ids: map[string]*entry{}}
}

// buildTable turns validated routes into a table; mk sets the reverse proxy
// and the fast path's pool of a route with an upstream.
func buildTable(routes []Route, mk func(*entry, *url.URL)) *table {
	t := emptyTable()
	for _, r := range routes {
		r.Hosts = slices.Clone(r.Hosts)
		r.OldHosts = slices.Clone(r.OldHosts)
		e := &entry{route: r, limit: r.MaxUploadBytes}
		if e.limit == 0 {
			e.limit = DefaultMaxUploadBytes
		}
		if r.Upstream != "" {
			u, err := url.Parse(r.Upstream)
			if err == nil { // validated before: never false
				mk(e, u)
			}
		}
		for _, h := range r.Hosts {
			t.hosts[h] = e
		}
		for _, o := range r.OldHosts {
			t.old[o.Host] = oldHost{to: e, until: o.Until}
		}
		if r.Port != 0 {
			t.ports[r.Port] = e
		}
		t.ids[r.ID] = e
	}
	return t
}

// upstreamAddrs is the set of upstream addresses the table forwards to.
func (t *table) upstreamAddrs() map[string]bool {
	addrs := map[string]bool{}
	for _, e := range t.ids {
		if e.up != nil {
			addrs[e.up.addr] = true
		}
	}
	return addrs
}

// certNames is every name the table needs a certificate for, sorted: route
// hosts, port hosts and old hosts that still redirect at now.
func (t *table) certNames(now time.Time) []string {
	var names []string
	for h := range t.hosts {
		names = append(names, h)
	}
	for h, o := range t.old {
		if now.Before(o.until) {
			names = append(names, h)
		}
	}
	for _, e := range t.ports {
		names = append(names, e.route.PortHost)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// canonicalHost is the name of a Host header value: lowercase, without port,
// brackets or a trailing dot.
func canonicalHost(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && i > strings.LastIndexByte(h, ']') {
		h = h[:i]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	h = strings.TrimSuffix(h, ".")
	return strings.ToLower(h)
}

// isLocalName reports whether name is under .local, where certificates come
// from Hearth's own CA and HSTS would lock browsers out if the CA changed.
func isLocalName(name string) bool {
	return name == "local" || strings.HasSuffix(name, ".local")
}
