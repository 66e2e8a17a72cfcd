// Package dnsname checks and relates the DNS names and record types that
// Hearth's DNS providers are given. Only the providers under ddns/provider
// import it; they share its ErrInvalid.
package dnsname

import (
	"errors"
	"fmt"
	"strings"
)

// maxNameLen is the longest domain name in presentation form, without the
// trailing dot (RFC 1035 §2.3.4).
// ErrInvalid means a name or type is not acceptable; the error names it.
var ErrInvalid = errors.New("invalid input")

const maxNameLen = 253

// Zone returns zone lowercased and without its trailing dot, or an error
// if it is not a domain name.
func Zone(zone string) (string, error) {
	z := strings.ToLower(strings.TrimSuffix(zone, "."))
	if err := Check(z, false); err != nil {
		return "", fmt.Errorf("zone %q: %s: %w", zone, err, ErrInvalid)
	}
	return z, nil
}

// Relative returns name relative to zone, lowercased, with "@" for the
// apex. name is normally relative (as libdns wants) but may also be fully
// qualified, with its trailing dot, inside zone.
func Relative(name, zone string) (string, error) {
	n := strings.ToLower(name)
	switch {
	case n == "":
		return "", fmt.Errorf("name is empty: %w", ErrInvalid)
	case n == "@":
		return "@", nil
	case strings.HasSuffix(n, "."):
		fq := strings.TrimSuffix(n, ".")
		if fq == zone {
			return "@", nil
		}
		rel, ok := strings.CutSuffix(fq, "."+zone)
		if !ok {
			return "", fmt.Errorf("name %q is not inside zone %s: %w", name, zone, ErrInvalid)
		}
		n = rel
	}
	if err := Check(n, true); err != nil {
		return "", fmt.Errorf("name %q: %s: %w", name, err, ErrInvalid)
	}
	if len(n)+1+len(zone) > maxNameLen {
		return "", fmt.Errorf("name %q: longer than %d characters with the zone: %w", name, maxNameLen, ErrInvalid)
	}
	return n, nil
}

// Check checks a dot-separated name: labels of 1 to 63 letters, digits,
// hyphens or underscores, and, if wildcard is true, a leading "*" label.
func Check(s string, wildcard bool) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if len(s) > maxNameLen {
		return fmt.Errorf("longer than %d characters", maxNameLen)
	}
	for i, label := range strings.Split(s, ".") {
		if label == "*" && wildcard && i == 0 {
			continue
		}
		if label == "" || len(label) > 63 {
			return fmt.Errorf("label %d has %d characters, want 1 to 63", i+1, len(label))
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("label %q has the character %q, want letters, digits, '-' or '_'", label, c)
			}
		}
	}
	return nil
}

// CheckType checks a record type: 1 to 10 upper-case letters or digits.
func CheckType(t string) error {
	if t == "" || len(t) > 10 {
		return fmt.Errorf("type %q: want 1 to 10 characters: %w", t, ErrInvalid)
	}
	for _, c := range t {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return fmt.Errorf("type %q: want upper-case letters and digits: %w", t, ErrInvalid)
		}
	}
	return nil
}
