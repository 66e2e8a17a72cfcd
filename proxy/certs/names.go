package certs

import (
	"fmt"
	"net/netip"
	"strings"

	"golang.org/x/net/publicsuffix"
)

// normalize is name as certmagic keys it: lower case, no trailing dot.
func normalize(name string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(name)), ".")
}

// isLAN reports whether name (normalized, possibly a wildcard) exists only
// on the LAN: under "local" or one of the LAN suffixes.
func (m *Manager) isLAN(name string) bool {
	name = normalize(name)
	for _, d := range m.lanDomains {
		if strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// classify checks one name for Manage; field names it in errors.
func (m *Manager) classify(field, name string) (lan bool, err error) {
	if name == "" {
		return false, fmt.Errorf("%s: empty: %w", field, ErrInvalidName)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false, fmt.Errorf("%s %q: IP addresses get no certificates: %w", field, name, ErrInvalidName)
	}
	base, wildcard := strings.CutPrefix(name, "*.")
	if !validHostname(base) || strings.Count(base, ".") < 1 {
		return false, fmt.Errorf("%s %q: not a host name with at least two labels: %w", field, name, ErrInvalidName)
	}
	if m.isLANDomain(base) {
		return false, fmt.Errorf("%s %q: covers a whole LAN suffix: %w", field, name, ErrInvalidName)
	}
	if ps, _ := publicsuffix.PublicSuffix(base); ps == base {
		return false, fmt.Errorf("%s %q: covers a whole public suffix: %w", field, name, ErrInvalidName)
	}
	if m.isLAN(name) {
		if !m.ca.Permits(name) {
			return false, fmt.Errorf("%s %q: outside the local CA's domains %v (the root was made before this suffix was set): %w",
				field, name, m.ca.PermittedDomains(), ErrInvalidName)
		}
		return true, nil
	}
	if m.acme == nil {
		return false, fmt.Errorf("%s %q: %w", field, name, ErrNoACME)
	}
	if wildcard && !m.dnsProvider {
		return false, fmt.Errorf("%s %q: %w", field, name, ErrWildcardNeedsDNS)
	}
	return false, nil
}

// isLANDomain reports whether name is "local" or a LAN suffix itself.
func (m *Manager) isLANDomain(name string) bool {
	for _, d := range m.lanDomains {
		if name == d {
			return true
		}
	}
	return false
}

// coveringWildcard is the wildcard in names that covers name ("*.d" for
// "x.d"), or "".
func coveringWildcard(name string, names map[string]bool) string {
	if strings.HasPrefix(name, "*.") {
		return ""
	}
	_, parent, ok := strings.Cut(name, ".")
	if !ok || !names["*."+parent] {
		return ""
	}
	return "*." + parent
}

// validHostname reports whether s is a lower-case DNS name without a
// trailing dot: labels of a-z, 0-9 and inner '-', at most 253 bytes.
func validHostname(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if !validLabel(l) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
