package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCerts satisfies Certs with a CA generated for the test: it issues a
// leaf for a name only while that name is managed, answers one ACME HTTP-01
// token, and records every Manage call.
type testCerts struct {
	ca    *x509.Certificate
	caKey *ecdsa.PrivateKey
	pool  *x509.CertPool

	mu      sync.Mutex
	managed map[string]bool
	leaves  map[string]*tls.Certificate
	calls   [][]string
	fail    error // returned by Manage when set
}

const (
	challengeToken  = "tok3n"
	challengeAnswer = "tok3n.keyauth"
)

func newTestCerts(t *testing.T) *testCerts {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Hearth test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	return &testCerts{ca: ca, caKey: key, pool: pool, managed: map[string]bool{}, leaves: map[string]*tls.Certificate{}}
}

func (c *testCerts) TLSConfig() *tls.Config {
	return &tls.Config{GetCertificate: c.getCertificate, NextProtos: []string{"h2", "http/1.1", "acme-tls/1"}}
}

func (c *testCerts) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := strings.ToLower(hello.ServerName)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.managed[name] {
		return nil, fmt.Errorf("no certificate for %q", name)
	}
	if leaf, ok := c.leaves[name]; ok {
		return leaf, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.ca, &key.PublicKey, c.caKey)
	if err != nil {
		return nil, err
	}
	leaf := &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	c.leaves[name] = leaf
	return leaf, nil
}

func (c *testCerts) HTTPChallengeHandler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.well-known/acme-challenge/"+challengeToken {
			_, _ = w.Write([]byte(challengeAnswer))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (c *testCerts) Manage(_ context.Context, names []string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return c.fail
	}
	c.calls = append(c.calls, slices.Clone(names))
	c.managed = map[string]bool{}
	for _, n := range names {
		c.managed[n] = true
	}
	return nil
}

func (c *testCerts) manageCalls() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.calls)
}

func (c *testCerts) setFail(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = err
}
