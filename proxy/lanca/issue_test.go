package lanca

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func csrFor(t *testing.T, tmpl *x509.CertificateRequest) *x509.CertificateRequest {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return csr
}

func leafOf(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	b, rest := pem.Decode(pemBytes)
	if b == nil {
		t.Fatalf("got no PEM block in %q", pemBytes)
	}
	if len(rest) != 0 {
		t.Errorf("got %d bytes after the leaf, want only the leaf", len(rest))
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// rootPool trusts the CA the way a client does: from the downloadable PEM.
func rootPool(t *testing.T, ca *CA) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.RootPEM()) {
		t.Fatal("RootPEM does not parse")
	}
	return pool
}

func TestIssueVerifiesAgainstRootPEM(t *testing.T) {
	ca := newTestCA(t, filepath.Join(t.TempDir(), "lanca"))
	pool := rootPool(t, ca)
	tests := []struct {
		name  string
		names []string
		check string // a host name the leaf must verify for
	}{
		{"box", []string{"hearth.local"}, "hearth.local"},
		{"app", []string{"photos.hearth.local"}, "photos.hearth.local"},
		{"wildcard", []string{"*.hearth.local"}, "notes.hearth.local"},
		{"several", []string{"a.hearth.local", "b.hearth.local"}, "b.hearth.local"},
		{"lan suffix", []string{"box.lan"}, "box.lan"},
		{"upper case in request", []string{"Photos.Hearth.Local"}, "photos.hearth.local"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issued, err := ca.Issue(context.Background(), csrFor(t, &x509.CertificateRequest{DNSNames: tt.names}))
			if err != nil {
				t.Fatalf("Issue: %v", err)
			}
			leaf := leafOf(t, issued.Certificate)
			_, err = leaf.Verify(x509.VerifyOptions{
				DNSName:   tt.check,
				Roots:     pool,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			})
			if err != nil {
				t.Errorf("Verify(%s): %v", tt.check, err)
			}
			if life := time.Until(leaf.NotAfter); life < 89*24*time.Hour || life > 90*24*time.Hour {
				t.Errorf("got leaf valid for %s more, want 90 days", life)
			}
			if leaf.IsCA {
				t.Errorf("got a CA leaf, want an end-entity certificate")
			}
		})
	}
}

func TestIssueRefuses(t *testing.T) {
	ca := newTestCA(t, filepath.Join(t.TempDir(), "lanca"))
	forged := csrFor(t, &x509.CertificateRequest{DNSNames: []string{"a.hearth.local"}})
	forged.Signature[len(forged.Signature)-1] ^= 0xff
	tests := []struct {
		name string
		csr  *x509.CertificateRequest
		want error
	}{
		{"public name", csrFor(t, &x509.CertificateRequest{DNSNames: []string{"example.com"}}), ErrNotPermitted},
		{"second name public", csrFor(t, &x509.CertificateRequest{DNSNames: []string{"a.hearth.local", "bank.example"}}), ErrNotPermitted},
		{"suffix look-alike", csrFor(t, &x509.CertificateRequest{DNSNames: []string{"evillocal"}}), ErrNotPermitted},
		{"IP address", csrFor(t, &x509.CertificateRequest{IPAddresses: []net.IP{net.IPv4(192, 168, 1, 2)}}), ErrNotPermitted},
		{"no names", csrFor(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x"}}), ErrBadCSR},
		{"bad name", csrFor(t, &x509.CertificateRequest{DNSNames: []string{"a..hearth.local"}}), ErrBadCSR},
		{"bad signature", forged, ErrBadCSR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ca.Issue(context.Background(), tt.csr)
			if !errors.Is(err, tt.want) {
				t.Errorf("got error %v, want %v", err, tt.want)
			}
		})
	}
}

// The root's name constraints hold even for a leaf signed with its key
// outside Issue: a stolen root key cannot vouch for public names.
func TestRootConstraintsBindClients(t *testing.T) {
	ca := newTestCA(t, filepath.Join(t.TempDir(), "lanca"))
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		DNSNames:     []string{"bank.example.com"},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: "bank.example.com", Roots: rootPool(t, ca)})
	var cie x509.CertificateInvalidError
	if !errors.As(err, &cie) || cie.Reason != x509.CANotAuthorizedForThisName {
		t.Errorf("got %v, want CANotAuthorizedForThisName", err)
	}
}

func TestIssueHonoursContextAndLifetime(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "lanca")
	newTestCA(t, dir)
	ca, err := New(Config{Dir: dir, BoxName: "hearth", LeafLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	csr := csrFor(t, &x509.CertificateRequest{DNSNames: []string{"a.hearth.local"}})
	issued, err := ca.Issue(context.Background(), csr)
	if err != nil {
		t.Fatal(err)
	}
	if life := time.Until(leafOf(t, issued.Certificate).NotAfter); life > time.Hour {
		t.Errorf("got leaf valid for %s more, want at most 1h", life)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ca.Issue(ctx, csr); !errors.Is(err, context.Canceled) {
		t.Errorf("got error %v, want %v", err, context.Canceled)
	}
}

func TestInstructionsGolden(t *testing.T) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(Instructions("Hearth Local CA hearth 0a1b", "AA:BB")); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	golden := filepath.Join("testdata", "instructions.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./proxy/lanca -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("instructions (-golden +got):\n%s", diff)
	}
	var platforms []string
	for _, in := range Instructions("n", "f") {
		platforms = append(platforms, in.Platform)
	}
	if diff := cmp.Diff([]string{"android", "ios", "macos", "windows", "linux", "firefox"}, platforms); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
}
