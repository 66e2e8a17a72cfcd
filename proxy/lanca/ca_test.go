package lanca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func newTestCA(t *testing.T, dir string) *CA {
	t.Helper()
	ca, err := New(Config{Dir: dir, BoxName: "hearth", PermittedDomains: []string{"local", "lan"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return ca
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestNewCreatesRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "lanca")
	ca := newTestCA(t, dir)

	if got := ca.Name(); !regexp.MustCompile(`^Hearth Local CA hearth [0-9a-f]{4}$`).MatchString(got) {
		t.Errorf("got name %q, want \"Hearth Local CA hearth <4 hex>\"", got)
	}
	for _, c := range []struct {
		path string
		want os.FileMode
	}{
		{dir, 0o700},
		{filepath.Join(dir, keyFile), 0o600},
		{filepath.Join(dir, certFile), 0o644},
	} {
		if got := mode(t, c.path); got&^c.want != 0 {
			t.Errorf("%s: got mode %o, want at most %o", c.path, got, c.want)
		}
	}
	if got := mode(t, filepath.Join(dir, keyFile)); got != 0o600 {
		t.Errorf("key: got mode %o, want 600", got)
	}
	root := ca.Root()
	pub, ok := root.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Errorf("got root key %T, want ECDSA P-256", root.PublicKey)
	}
	if life := root.NotAfter.Sub(root.NotBefore); life < 3650*24*time.Hour {
		t.Errorf("got root lifetime %s, want at least 10 years", life)
	}
	if !root.IsCA || !root.MaxPathLenZero {
		t.Errorf("got IsCA %v MaxPathLenZero %v, want true, true", root.IsCA, root.MaxPathLenZero)
	}
	if diff := cmp.Diff([]string{"local", "lan"}, ca.PermittedDomains()); diff != "" {
		t.Errorf("permitted domains (-want +got):\n%s", diff)
	}
	if !bytes.HasPrefix(ca.RootPEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("got RootPEM %.40q, want a PEM certificate", ca.RootPEM())
	}
	if got := ca.Fingerprint(); len(got) != 95 || strings.Count(got, ":") != 31 {
		t.Errorf("got fingerprint %q, want 32 colon-separated hex bytes", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	if len(entries) != 1 {
		t.Errorf("got %d entries next to the CA dir, want 1 (no temporary leftovers)", len(entries))
	}
}

func TestReloadKeepsRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lanca")
	first := newTestCA(t, dir)
	// A different box name or constraint list does not make a new root.
	again, err := New(Config{Dir: dir, BoxName: "other", PermittedDomains: []string{"local"}})
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if !bytes.Equal(first.RootPEM(), again.RootPEM()) {
		t.Errorf("reload: got a different root, want the same")
	}
	if got, want := again.IssuerKey(), first.IssuerKey(); got != want {
		t.Errorf("got issuer key %q, want %q", got, want)
	}
	if diff := cmp.Diff([]string{"local", "lan"}, again.PermittedDomains()); diff != "" {
		t.Errorf("reloaded root's constraints (-want +got):\n%s", diff)
	}
	other := newTestCA(t, filepath.Join(t.TempDir(), "lanca"))
	if other.IssuerKey() == first.IssuerKey() {
		t.Errorf("two roots share issuer key %q, want different keys", first.IssuerKey())
	}
}

func TestConcurrentCreateAgrees(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lanca")
	const n = 8
	roots := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ca, err := New(Config{Dir: dir, BoxName: "hearth"})
			errs[i] = err
			if err == nil {
				roots[i] = ca.RootPEM()
			}
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("creator %d: %v", i, errs[i])
		}
		if !bytes.Equal(roots[i], roots[0]) {
			t.Errorf("creator %d got another root than creator 0, want one root", i)
		}
	}
}

func TestEmptyDirIsTakenOver(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lanca")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	newTestCA(t, dir)
	if got := mode(t, dir); got != 0o700 {
		t.Errorf("got dir mode %o, want 700", got)
	}
}

func TestLoadRefuses(t *testing.T) {
	otherKey := func(t *testing.T, dir string) {
		src := filepath.Join(t.TempDir(), "other")
		newTestCA(t, src)
		b, err := os.ReadFile(filepath.Join(src, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, keyFile), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name  string
		spoil func(t *testing.T, dir string)
		want  error
	}{
		{"key readable by group", func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, keyFile), 0o640) }, ErrKeyPermissions},
		{"key readable by all", func(t *testing.T, dir string) { os.Chmod(filepath.Join(dir, keyFile), 0o644) }, ErrKeyPermissions},
		{"certificate missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, certFile)) }, ErrCorrupt},
		{"key missing", func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, keyFile)) }, ErrCorrupt},
		{"key of another root", otherKey, ErrCorrupt},
		{"certificate garbage", func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, certFile), []byte("x"), 0o644) }, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lanca")
			newTestCA(t, dir)
			tt.spoil(t, dir)
			_, err := New(Config{Dir: dir, BoxName: "hearth"})
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("dir is a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "lanca")
		os.WriteFile(path, nil, 0o600)
		if _, err := New(Config{Dir: path, BoxName: "hearth"}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("got error %v, want %v", err, ErrCorrupt)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	abs := t.TempDir()
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"relative dir", Config{Dir: "lanca", BoxName: "hearth"}, "dir"},
		{"empty box name", Config{Dir: abs, BoxName: ""}, "box_name"},
		{"box name with dot", Config{Dir: abs, BoxName: "a.b"}, "box_name"},
		{"upper-case box name", Config{Dir: abs, BoxName: "Hearth"}, "box_name"},
		{"domain with leading dot", Config{Dir: abs, BoxName: "h", PermittedDomains: []string{".local"}}, "permitted_domains[0]"},
		{"wildcard domain", Config{Dir: abs, BoxName: "h", PermittedDomains: []string{"local", "*.lan"}}, "permitted_domains[1]"},
		{"negative lifetime", Config{Dir: abs, BoxName: "h", LeafLifetime: -time.Second}, "leaf_lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("got error %v, want %v", err, ErrInvalidConfig)
			}
			if !strings.HasPrefix(err.Error(), tt.field) {
				t.Errorf("got error %q, want it to name %s", err, tt.field)
			}
		})
	}
}
