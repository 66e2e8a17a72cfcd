package lanca

import (
	"fmt"
	"path/filepath"
	"strings"
)

func (cfg *Config) validate() error {
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		return fmt.Errorf("dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalidConfig)
	}
	if !validLabel(cfg.BoxName) {
		return fmt.Errorf("box_name %q: must be one DNS label (a-z, 0-9, '-'): %w", cfg.BoxName, ErrInvalidConfig)
	}
	for i, d := range cfg.PermittedDomains {
		if !validHostname(d) {
			return fmt.Errorf("permitted_domains[%d] %q: not a lower-case domain name: %w", i, d, ErrInvalidConfig)
		}
	}
	if cfg.LeafLifetime < 0 || cfg.LeafLifetime > rootLifetime {
		return fmt.Errorf("leaf_lifetime %s: out of range: %w", cfg.LeafLifetime, ErrInvalidConfig)
	}
	return nil
}

// permitted is the list of domains a new root is constrained to.
func (cfg *Config) permitted() []string {
	if len(cfg.PermittedDomains) == 0 {
		return []string{"local"}
	}
	seen := map[string]bool{}
	var out []string
	for _, d := range cfg.PermittedDomains {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
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
