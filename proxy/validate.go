package proxy

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidRoute is matched (errors.Is) by every error of a route set that
// Apply refuses.
var ErrInvalidRoute = errors.New("invalid route")

// FieldError names the field of a route set that is wrong, as
// "routes[2].hosts[0]", and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is makes every FieldError match ErrInvalidRoute.
func (e *FieldError) Is(target error) bool { return target == ErrInvalidRoute }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

const (
	maxIDLen    = 64
	maxTitleLen = 200
	minPort     = 1024
	maxPort     = 65535
)

// validateRoutes checks a whole route set without touching the host:
// every field of every route, and that no host name or port is claimed twice
// or collides with reserved (the proxy's own ports). It returns all problems
// joined, or nil.
func validateRoutes(routes []Route, reserved map[int]string) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	ids := map[string]int{}
	hosts := map[string]string{} // name -> field that claimed it
	ports := map[int]string{}
	for i, r := range routes {
		f := fmt.Sprintf("routes[%d]", i)
		add(checkID(f+".id", r.ID))
		if j, dup := ids[r.ID]; dup && r.ID != "" {
			add(fieldErr(f+".id", "%q is also the id of routes[%d]", r.ID, j))
		}
		ids[r.ID] = i
		if r.AuthScope != "" {
			add(checkID(f+".authScope", r.AuthScope))
		}
		if len(r.Title) > maxTitleLen || !utf8.ValidString(r.Title) || strings.IndexFunc(r.Title, unicode.IsControl) >= 0 {
			add(fieldErr(f+".title", "must be valid UTF-8 text of at most %d bytes without control characters", maxTitleLen))
		}
		if len(r.Hosts) == 0 && r.Port == 0 {
			add(fieldErr(f+".hosts", "a route needs at least one host or a port"))
		}
		claim := func(field, name string) {
			if err := checkHostName(field, name); err != nil {
				add(err)
				return
			}
			if other, dup := hosts[name]; dup {
				add(fieldErr(field, "%q is already claimed by %s", name, other))
				return
			}
			hosts[name] = field
		}
		for j, h := range r.Hosts {
			claim(fmt.Sprintf("%s.hosts[%d]", f, j), h)
		}
		for j, o := range r.OldHosts {
			of := fmt.Sprintf("%s.oldHosts[%d]", f, j)
			claim(of+".host", o.Host)
			if o.Until.IsZero() {
				add(fieldErr(of+".until", "required"))
			}
		}
		if len(r.OldHosts) > 0 && len(r.Hosts) == 0 {
			add(fieldErr(f+".oldHosts", "old hosts redirect to hosts[0], and the route has no hosts"))
		}
		add(checkPort(f, r, reserved, ports))
		add(checkUpstream(f+".upstream", r.Upstream))
		switch r.State {
		case StateRunning, StateStarting, StateStopped, StateUpdating:
		default:
			add(fieldErr(f+".state", "%q is not one of running, starting, stopped, updating", r.State))
		}
		if r.MaxUploadBytes < 0 {
			add(fieldErr(f+".maxUploadBytes", "%d is negative (0 means the default)", r.MaxUploadBytes))
		}
	}
	return errors.Join(errs...)
}

func checkID(field, id string) error {
	ok := id != "" && len(id) <= maxIDLen
	for i, c := range id {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			ok = false
		}
	}
	if !ok {
		return fieldErr(field, "%q must be 1-%d characters of letters, digits, '.', '_', '-', starting with a letter or digit", id, maxIDLen)
	}
	return nil
}

// checkHostName accepts a lowercase DNS name of at least two labels: what a
// certificate can be issued for and a Host header can carry. IP addresses,
// wildcards, trailing dots and underscores are refused.
func checkHostName(field, name string) error {
	switch {
	case name == "":
		return fieldErr(field, "empty host name")
	case len(name) > 253:
		return fieldErr(field, "host name longer than 253 characters")
	case name != strings.ToLower(name):
		return fieldErr(field, "%q must be lowercase", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fieldErr(field, "%q is an IP address, want a host name", name)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		return fieldErr(field, "%q must have at least two labels", name)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fieldErr(field, "%q has an empty, too long or badly hyphenated label", name)
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return fieldErr(field, "%q may hold only a-z, 0-9, '-' and '.'", name)
			}
		}
	}
	if _, err := strconv.Atoi(labels[len(labels)-1]); err == nil {
		return fieldErr(field, "%q has a numeric top-level label", name)
	}
	return nil
}

func checkPort(f string, r Route, reserved map[int]string, ports map[int]string) error {
	if r.Port == 0 {
		if r.PortHost != "" {
			return fieldErr(f+".portHost", "set without a port")
		}
		return nil
	}
	field := f + ".port"
	if r.Port < minPort || r.Port > maxPort {
		return fieldErr(field, "%d is outside %d..%d", r.Port, minPort, maxPort)
	}
	if what, ok := reserved[r.Port]; ok {
		return fieldErr(field, "%d is the proxy's own %s port", r.Port, what)
	}
	if other, dup := ports[r.Port]; dup {
		return fieldErr(field, "%d is already the port of %s", r.Port, other)
	}
	ports[r.Port] = f
	if r.PortHost == "" {
		return fieldErr(f+".portHost", "required with a port")
	}
	return checkHostName(f+".portHost", r.PortHost)
}

// checkUpstream accepts "" or http://<private or loopback IP>:<port> with no
// path, query, fragment or user info. Upstreams are addresses, never names,
// so that no DNS answer can send a request elsewhere.
func checkUpstream(field, s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return fieldErr(field, "%q is not a URL", s)
	}
	if u.Scheme != "http" {
		return fieldErr(field, "%q: scheme must be http", s)
	}
	if u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fieldErr(field, "%q must be only scheme, address and port", s)
	}
	addr, err := netip.ParseAddr(u.Hostname())
	if err != nil || addr.Zone() != "" {
		return fieldErr(field, "%q: host must be an IP address", s)
	}
	addr = addr.Unmap()
	if !addr.IsPrivate() && !addr.IsLoopback() {
		return fieldErr(field, "%q: address must be private or loopback", s)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil || port < 1 || port > maxPort {
		return fieldErr(field, "%q: a port 1..%d is required", s, maxPort)
	}
	return nil
}
