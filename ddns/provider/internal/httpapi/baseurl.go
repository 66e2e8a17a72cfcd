package httpapi

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/hearthbox/hearth/ddns/provider/internal/dnsname"
)

// BaseURL checks a provider's API root (def when raw is ""): https, or
// http to a loopback address (for tests), without user, query or fragment,
// and with no trailing slash. Errors name the field BaseURL and wrap
// dnsname.ErrInvalid.
func BaseURL(raw, def string) (*url.URL, error) {
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("field BaseURL %q: %v: %w", raw, err, dnsname.ErrInvalid)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("field BaseURL %q: want scheme://host/path without user, query or fragment: %w", raw, dnsname.ErrInvalid)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("field BaseURL %q: want https (http only to a loopback address): %w", raw, dnsname.ErrInvalid)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// HeaderToken checks that an API token (the field named field) is present
// and fits in an HTTP header: no space or control character.
func HeaderToken(field, token string) error {
	if token == "" {
		return fmt.Errorf("field %s is empty: %w", field, dnsname.ErrInvalid)
	}
	for _, c := range token {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("field %s has a space or control character: %w", field, dnsname.ErrInvalid)
		}
	}
	return nil
}
