package certs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLANCertificatesServeHTTP2(t *testing.T) {
	m := newManager(t, Config{LANSuffixes: []string{"lan"}})
	names := []string{"hearth.local", "photos.hearth.local", "box.lan"}
	if err := m.Manage(context.Background(), names); err != nil {
		t.Fatalf("Manage: %v", err)
	}
	addr := serveTLS(t, m)
	roots := poolOf(t, m.LocalCA().RootPEM())
	for _, n := range names {
		t.Run(n, func(t *testing.T) {
			st := waitIssued(t, m, n, 10*time.Second)
			if st.Issuer != m.LocalCA().IssuerKey() {
				t.Errorf("got issuer %q, want %q", st.Issuer, m.LocalCA().IssuerKey())
			}
			if life := st.NotAfter.Sub(st.NotBefore); life < 89*24*time.Hour {
				t.Errorf("got lifetime %s, want about 90 days", life)
			}
			body, err := get(t, addr, n, roots)
			if err != nil {
				t.Fatalf("GET https://%s/: %v", n, err)
			}
			if want := "hello " + n + " over HTTP/2.0"; body != want {
				t.Errorf("got %q, want %q", body, want)
			}
		})
	}
	// A client that does not trust the local CA refuses the certificate.
	if _, err := get(t, addr, "hearth.local", nil); !isUnknownAuthority(err) {
		t.Errorf("without the root: got %v, want an unknown authority error", err)
	}
}

func TestManageIsIdempotentAndReusesStorage(t *testing.T) {
	dir := t.TempDir()
	const name = "notes.hearth.local"
	m := newManager(t, Config{StateDir: dir})
	for range 3 {
		if err := m.Manage(context.Background(), []string{name}); err != nil {
			t.Fatalf("Manage: %v", err)
		}
	}
	first := waitIssued(t, m, name, 10*time.Second)
	if first.LastAttempt.IsZero() {
		t.Errorf("got no attempt recorded for a new name, want one")
	}
	addr := serveTLS(t, m)
	roots := poolOf(t, m.LocalCA().RootPEM())
	leaf1, err := handshake(addr, name, roots)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Manage(context.Background(), []string{name}); err != nil {
		t.Fatal(err)
	}
	if got := m.Status(name); got.LastAttempt != first.LastAttempt {
		t.Errorf("Manage again: got a new attempt at %v, want none", got.LastAttempt)
	}
	m.Close()

	// A restart loads the certificate from storage instead of issuing one.
	m2 := newManager(t, Config{StateDir: dir})
	if err := m2.Manage(context.Background(), []string{name}); err != nil {
		t.Fatal(err)
	}
	st := waitIssued(t, m2, name, 10*time.Second)
	if !st.LastAttempt.IsZero() {
		t.Errorf("after restart: got an attempt at %v, want the stored certificate", st.LastAttempt)
	}
	leaf2, err := handshake(serveTLS(t, m2), name, poolOf(t, m2.LocalCA().RootPEM()))
	if err != nil {
		t.Fatal(err)
	}
	if leaf1.SerialNumber.Cmp(leaf2.SerialNumber) != 0 {
		t.Errorf("after restart: got serial %s, want the stored %s", leaf2.SerialNumber, leaf1.SerialNumber)
	}
	certs, _ := filepath.Glob(filepath.Join(dir, "certmagic", "certificates", "*", "*", "*.crt"))
	if len(certs) != 1 {
		t.Errorf("got %d certificates in storage, want 1: %v", len(certs), certs)
	}
}

func TestManageUnmanagesDroppedNames(t *testing.T) {
	m := newManager(t, Config{})
	ctx := context.Background()
	if err := m.Manage(ctx, []string{"a.hearth.local", "b.hearth.local"}); err != nil {
		t.Fatal(err)
	}
	waitIssued(t, m, "a.hearth.local", 10*time.Second)
	waitIssued(t, m, "b.hearth.local", 10*time.Second)
	if err := m.Manage(ctx, []string{"b.hearth.local"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(CertStatus{}, m.Status("a.hearth.local"), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("status of a dropped name (-want +got):\n%s", diff)
	}
	addr := serveTLS(t, m)
	roots := poolOf(t, m.LocalCA().RootPEM())
	if _, err := handshake(addr, "a.hearth.local", roots); err == nil {
		t.Errorf("handshake for a dropped name: got a certificate, want none")
	}
	if _, err := handshake(addr, "b.hearth.local", roots); err != nil {
		t.Errorf("handshake for a kept name: %v", err)
	}
}

// A handshake for a name Hearth does not manage gets no certificate, on
// demand or otherwise.
func TestNoCertificateForUnmanagedNames(t *testing.T) {
	dir := t.TempDir()
	m := newManager(t, Config{StateDir: dir})
	if err := m.Manage(context.Background(), []string{"a.hearth.local"}); err != nil {
		t.Fatal(err)
	}
	waitIssued(t, m, "a.hearth.local", 10*time.Second)
	addr := serveTLS(t, m)
	for _, n := range []string{"other.hearth.local", "example.com", ""} {
		if _, err := handshake(addr, n, nil); err == nil || isUnknownAuthority(err) {
			t.Errorf("handshake for %q: got %v, want a handshake failure", n, err)
		}
	}
	if err := m.decide(context.Background(), "other.hearth.local"); !errors.Is(err, ErrNotManaged) {
		t.Errorf("decide: got %v, want %v", err, ErrNotManaged)
	}
	certs, _ := filepath.Glob(filepath.Join(dir, "certmagic", "certificates", "*", "*"))
	if len(certs) != 1 {
		t.Errorf("got %d certificate folders, want 1: %v", len(certs), certs)
	}
}

func TestWildcardCoversNames(t *testing.T) {
	m := newManager(t, Config{})
	if err := m.Manage(context.Background(), []string{"*.hearth.local", "x.hearth.local", "hearth.local"}); err != nil {
		t.Fatal(err)
	}
	wild := waitIssued(t, m, "*.hearth.local", 10*time.Second)
	waitIssued(t, m, "hearth.local", 10*time.Second)
	if got := m.Status("x.hearth.local"); got.NotAfter != wild.NotAfter {
		t.Errorf("covered name: got NotAfter %v, want the wildcard's %v", got.NotAfter, wild.NotAfter)
	}
	leaf, err := handshake(serveTLS(t, m), "x.hearth.local", poolOf(t, m.LocalCA().RootPEM()))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"*.hearth.local"}, leaf.DNSNames); diff != "" {
		t.Errorf("served certificate names (-want +got):\n%s", diff)
	}
	if err := m.decide(context.Background(), "x.hearth.local"); !errors.Is(err, ErrNotManaged) {
		t.Errorf("on-demand for a covered name: got %v, want %v", err, ErrNotManaged)
	}
}

func TestManageRejects(t *testing.T) {
	lanOnly := newManager(t, Config{LANSuffixes: []string{"home.arpa"}})
	withACME := newManager(t, Config{ACME: &ACMEConfig{CA: "https://acme.invalid/dir"}})
	tests := []struct {
		name  string
		m     *Manager
		names []string
		want  error
		field string
	}{
		{"public name without ACME", lanOnly, []string{"a.hearth.local", "example.com"}, ErrNoACME, "names[1]"},
		{"IP address", lanOnly, []string{"192.168.1.2"}, ErrInvalidName, "names[0]"},
		{"single label", lanOnly, []string{"hearth"}, ErrInvalidName, "names[0]"},
		{"the LAN suffix itself", lanOnly, []string{"home.arpa"}, ErrInvalidName, "names[0]"},
		{"wildcard over local", lanOnly, []string{"*.local"}, ErrInvalidName, "names[0]"},
		{"underscore", lanOnly, []string{"my_app.hearth.local"}, ErrInvalidName, "names[0]"},
		{"empty", lanOnly, []string{""}, ErrInvalidName, "names[0]"},
		{"wildcard without DNS provider", withACME, []string{"*.example.com"}, ErrWildcardNeedsDNS, "names[0]"},
		{"public suffix", withACME, []string{"co.uk"}, ErrInvalidName, "names[0]"},
		{"wildcard over a public suffix", withACME, []string{"*.co.uk"}, ErrInvalidName, "names[0]"},
		{"double wildcard", withACME, []string{"*.*.example.com"}, ErrInvalidName, "names[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.m.Manage(context.Background(), tt.names)
			if !errors.Is(err, tt.want) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, tt.want, tt.field)
			}
			if n := len(tt.m.managed); n != 0 {
				t.Errorf("got %d managed names after a refused Manage, want 0", n)
			}
		})
	}
	t.Run("home.arpa names are LAN names", func(t *testing.T) {
		if err := lanOnly.Manage(context.Background(), []string{"box.home.arpa"}); err != nil {
			t.Errorf("got %v, want nil", err)
		}
	})
}

// The root is constrained to the suffixes it was made with: a suffix set
// later is refused by name instead of failing in every browser.
func TestLANSuffixAddedAfterRootIsRefused(t *testing.T) {
	dir := t.TempDir()
	newManager(t, Config{StateDir: dir}).Close()
	m := newManager(t, Config{StateDir: dir, LANSuffixes: []string{"lan"}})
	err := m.Manage(context.Background(), []string{"box.lan"})
	if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), "outside the local CA") {
		t.Errorf("got %v, want %v (outside the local CA)", err, ErrInvalidName)
	}
}

func TestConfigValidation(t *testing.T) {
	abs := t.TempDir()
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"relative state dir", Config{StateDir: "state", BoxName: "hearth"}, "state_dir"},
		{"bad box name", Config{StateDir: abs, BoxName: "my box"}, "box_name"},
		{"public LAN suffix", Config{StateDir: abs, BoxName: "h", LANSuffixes: []string{"com"}}, "lan_suffixes[0]"},
		{"LAN suffix with dot", Config{StateDir: abs, BoxName: "h", LANSuffixes: []string{"lan", ".home"}}, "lan_suffixes[1]"},
		{"ratio of one", Config{StateDir: abs, BoxName: "h", RenewalWindowRatio: 1}, "renewal_window_ratio"},
		{"negative interval", Config{StateDir: abs, BoxName: "h", RenewCheckInterval: -time.Second}, "renew_check_interval"},
		{"staging with CA", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{CA: "https://ca.example/dir", Staging: true}}, "acme.staging"},
		{"http CA", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{CA: "http://ca.example/dir"}}, "acme.ca"},
		{"email with name", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{Email: "Me <me@example.com>"}}, "acme.email"},
		{"resolver port", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{Resolvers: []string{"127.0.0.1:99999"}}}, "acme.resolvers[0]"},
		{"alt port", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{AltHTTPPort: 70000}}, "acme.alt_http_port"},
		{"no challenge left", Config{StateDir: abs, BoxName: "h", ACME: &ACMEConfig{DisableHTTPChallenge: true, DisableTLSALPNChallenge: true}}, "acme"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got %v, want %v naming %s", err, ErrInvalidConfig, tt.field)
			}
		})
	}
	entries, _ := os.ReadDir(abs)
	if len(entries) != 0 {
		t.Errorf("got %d files in the state dir after refused configs, want 0", len(entries))
	}
}

func TestLocalCAKeyIsPrivate(t *testing.T) {
	dir := t.TempDir()
	m := newManager(t, Config{StateDir: dir})
	st, err := os.Stat(filepath.Join(dir, "lanca", "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("got root key mode %o, want 600", st.Mode().Perm())
	}
	if !strings.HasPrefix(m.LocalCA().Name(), "Hearth Local CA hearth ") {
		t.Errorf("got CA name %q, want Hearth Local CA hearth <hex>", m.LocalCA().Name())
	}
}
