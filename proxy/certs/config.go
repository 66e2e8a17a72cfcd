package certs

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"path/filepath"
	"strconv"

	"golang.org/x/net/publicsuffix"
)

func (cfg *Config) validate() error {
	if cfg.StateDir == "" || !filepath.IsAbs(cfg.StateDir) {
		return fmt.Errorf("state_dir %q: must be an absolute path: %w", cfg.StateDir, ErrInvalidConfig)
	}
	if !validLabel(cfg.BoxName) {
		return fmt.Errorf("box_name %q: must be one DNS label (a-z, 0-9, '-'): %w", cfg.BoxName, ErrInvalidConfig)
	}
	for i, s := range cfg.LANSuffixes {
		if !validHostname(s) {
			return fmt.Errorf("lan_suffixes[%d] %q: not a lower-case domain name: %w", i, s, ErrInvalidConfig)
		}
		// The local CA vouches for everything under a LAN suffix: a public
		// suffix such as "com" would let it vouch for the whole internet.
		if ps, icann := publicsuffix.PublicSuffix(s); icann && ps == s && s != "home.arpa" {
			return fmt.Errorf("lan_suffixes[%d] %q: a public suffix cannot be a LAN suffix: %w", i, s, ErrInvalidConfig)
		}
	}
	if cfg.RenewCheckInterval < 0 {
		return fmt.Errorf("renew_check_interval %s: negative: %w", cfg.RenewCheckInterval, ErrInvalidConfig)
	}
	if cfg.RenewalWindowRatio < 0 || cfg.RenewalWindowRatio >= 1 {
		return fmt.Errorf("renewal_window_ratio %v: want 0 (default) or between 0 and 1: %w", cfg.RenewalWindowRatio, ErrInvalidConfig)
	}
	if cfg.ACME != nil {
		return cfg.ACME.validate()
	}
	return nil
}

func (a *ACMEConfig) validate() error {
	if a.CA != "" {
		if a.Staging {
			return fmt.Errorf("acme.staging: only with the default CA, not with acme.ca %q: %w", a.CA, ErrInvalidConfig)
		}
		u, err := url.Parse(a.CA)
		if err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("acme.ca %q: want an https URL: %w", a.CA, ErrInvalidConfig)
		}
	}
	if a.Email != "" {
		addr, err := mail.ParseAddress(a.Email)
		if err != nil || addr.Address != a.Email {
			return fmt.Errorf("acme.email %q: want a bare address (name@example.com): %w", a.Email, ErrInvalidConfig)
		}
	}
	for i, r := range a.Resolvers {
		host, port, err := net.SplitHostPort(r)
		if err != nil {
			host, port = r, "53"
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("acme.resolvers[%d] %q: want host or host:port: %w", i, r, ErrInvalidConfig)
		}
	}
	for _, p := range []struct {
		field string
		port  int
	}{{"acme.alt_http_port", a.AltHTTPPort}, {"acme.alt_tls_alpn_port", a.AltTLSALPNPort}} {
		if p.port < 0 || p.port > 65535 {
			return fmt.Errorf("%s %d: out of range: %w", p.field, p.port, ErrInvalidConfig)
		}
	}
	if a.DisableHTTPChallenge && a.DisableTLSALPNChallenge && a.DNSProvider == nil {
		return fmt.Errorf("acme: both challenges disabled and no dns_provider: %w", ErrInvalidConfig)
	}
	return nil
}
