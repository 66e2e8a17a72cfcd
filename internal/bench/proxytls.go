package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The load generator connects to benchDialHost, which /etc/hosts resolves to
// 127.0.0.1 on every Debian machine, so that is its TLS server name (SNI);
// it asks for benchHost in the Host header. Hearth routes only names of two
// labels or more, and the benchmark touches no name resolution; so every
// proxy serves both names with one certificate for both, and routes
// benchHost.
const (
	benchDialHost = "localhost"
	benchHost     = "bench.hearth.test"
)

// testPKI is a throwaway CA and one leaf certificate for benchHost,
// benchDialHost and 127.0.0.1, written as PEM files that every proxy loads.
type testPKI struct {
	// CertFile holds the leaf and the CA (the chain a server sends),
	// KeyFile the leaf's key (mode 0600), CAFile the CA alone.
	CertFile, KeyFile, CAFile string
	// Leaf is the leaf with its key, Pool trusts only the CA.
	Leaf tls.Certificate
	Pool *x509.CertPool
}

// newTestPKI makes a CA and a leaf valid for a day (ECDSA P-256, the key
// type certmagic and Caddy use by default) and writes them to dir.
func newTestPKI(dir string, now time.Time) (*testPKI, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("test pki: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Hearth bench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("test pki: ca: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("test pki: ca: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("test pki: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: benchHost},
		DNSNames:     []string{benchHost, benchDialHost},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("test pki: leaf: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("test pki: leaf key: %w", err)
	}
	p := &testPKI{
		CertFile: filepath.Join(dir, "cert.pem"),
		KeyFile:  filepath.Join(dir, "key.pem"),
		CAFile:   filepath.Join(dir, "ca.pem"),
		Pool:     x509.NewCertPool(),
	}
	p.Pool.AddCert(ca)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	chainPEM := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}), caPEM...)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	if p.Leaf, err = tls.X509KeyPair(chainPEM, keyPEM); err != nil {
		return nil, fmt.Errorf("test pki: %w", err)
	}
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{p.CAFile, caPEM, 0o644}, {p.CertFile, chainPEM, 0o644}, {p.KeyFile, keyPEM, 0o600}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return nil, fmt.Errorf("test pki: %w", err)
		}
	}
	return p, nil
}

// client returns an HTTPS client that trusts only the test CA and keeps
// its connections alive.
func (p *testPKI) client() *http.Client {
	return &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			Proxy:           nil,
			TLSClientConfig: &tls.Config{RootCAs: p.Pool, MinVersion: tls.VersionTLS12},
		},
	}
}

// benchCerts serves the test leaf for every name: the Certs that Hearth's
// proxy gets in the benchmark instead of certmagic (which would add its own
// cache lookups; the benchmark measures the proxy, the certificate source is
// the same file for all three).
type benchCerts struct {
	leaf *tls.Certificate
}

// TLSConfig returns a configuration that serves the leaf for every name,
// with HTTP/2 and HTTP/1.1 offered, as certmagic's does.
func (c benchCerts) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.leaf, nil
		},
	}
}

// HTTPChallengeHandler returns next: the benchmark answers no ACME
// challenges.
func (c benchCerts) HTTPChallengeHandler(next http.Handler) http.Handler { return next }

// Manage accepts only benchHost (or nothing): the benchmark's proxy has no
// other name.
func (c benchCerts) Manage(_ context.Context, names []string) error {
	for i, n := range names {
		if n != benchHost {
			return fmt.Errorf("bench certs: names[%d] %q: only %s is served", i, n, benchHost)
		}
	}
	return nil
}
