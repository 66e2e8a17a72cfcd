package lanca

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/caddyserver/certmagic"
)

var _ certmagic.Issuer = (*CA)(nil)

// Issue signs a leaf certificate for the DNS names of csr, valid for the
// configured leaf lifetime (never beyond the root). It implements
// certmagic.Issuer. Every name must be covered by the root's constraints.
func (ca *CA) Issue(ctx context.Context, csr *x509.CertificateRequest) (*certmagic.IssuedCertificate, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	if len(csr.IPAddresses) > 0 || len(csr.EmailAddresses) > 0 || len(csr.URIs) > 0 {
		return nil, fmt.Errorf("only DNS names are issued: %w", ErrNotPermitted)
	}
	if len(csr.DNSNames) == 0 {
		return nil, fmt.Errorf("%w: no DNS names", ErrBadCSR)
	}
	names := make([]string, 0, len(csr.DNSNames))
	for i, n := range csr.DNSNames {
		n = strings.ToLower(n)
		if !validHostname(strings.TrimPrefix(n, "*.")) {
			return nil, fmt.Errorf("dns_names[%d] %q: not a host name: %w", i, n, ErrBadCSR)
		}
		if !ca.Permits(n) {
			return nil, fmt.Errorf("dns_names[%d] %q: outside %v: %w", i, n, ca.root.PermittedDNSDomains, ErrNotPermitted)
		}
		names = append(names, n)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	notAfter := now.Add(ca.lifetime)
	if notAfter.After(ca.root.NotAfter) {
		notAfter = ca.root.NotAfter
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := csr.PublicKey.(*rsa.PublicKey); ok {
		usage |= x509.KeyUsageKeyEncipherment
	}
	subject := pkix.Name{}
	if len(names[0]) <= 64 {
		subject.CommonName = names[0]
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		DNSNames:              names,
		NotBefore:             now.Add(-5 * time.Minute),
		NotAfter:              notAfter,
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.root, csr.PublicKey, ca.key)
	if err != nil {
		return nil, fmt.Errorf("sign leaf: %w", err)
	}
	ca.log.Info("leaf issued", "names", names, "not_after", notAfter)
	return &certmagic.IssuedCertificate{
		Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		Metadata:    map[string]string{"issuer": ca.Name()},
	}, nil
}
