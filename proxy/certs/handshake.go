package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mholt/acmez/v3"
)

// TLSConfig is the TLS configuration for port 443: a certificate for every
// managed name (and TLS-ALPN-01 challenge answers), HTTP/2 and HTTP/1.1.
// Each call returns a new value the caller may change.
func (m *Manager) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1", acmez.ACMETLS1Protocol},
		GetCertificate: m.getCertificate,
	}
}

// HTTPChallengeHandler answers ACME HTTP-01 challenges on port 80 and
// passes every other request to next.
func (m *Manager) HTTPChallengeHandler(next http.Handler) http.Handler {
	if m.acmeIssuer == nil {
		return next
	}
	return m.acmeIssuer.HTTPChallengeHandler(next)
}

func (m *Manager) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	// Without SNI (a client that dialled an IP address) there is no right
	// certificate, and any other would tell scanners the box's names.
	if hello.ServerName == "" {
		return nil, errNoServerName
	}
	if m.acmeHS != nil && hello.ServerName != "" && !m.isLAN(hello.ServerName) {
		return m.acmeHS.GetCertificate(hello)
	}
	return m.lanHS.GetCertificate(hello)
}

var errNoServerName = errors.New("no server name (SNI) in the TLS handshake")

// decide is certmagic's on-demand DecisionFunc: a handshake for a name with
// no certificate loaded may obtain one only when Hearth manages the name,
// no wildcard serves it, and its last attempt did not fail recently.
func (m *Manager) decide(_ context.Context, name string) error {
	name = normalize(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.managed[name]
	if !ok {
		return fmt.Errorf("%s: %w", name, ErrNotManaged)
	}
	if e.coveredBy != "" {
		return fmt.Errorf("%s: served by %s: %w", name, e.coveredBy, ErrNotManaged)
	}
	if a := m.status[name]; a != nil && a.lastErr != nil {
		if wait := backoff(a.failures) - time.Since(a.lastAttempt); wait > 0 {
			return fmt.Errorf("%s: next attempt in %s: %w", name, wait.Round(time.Second), ErrBackingOff)
		}
	}
	return nil
}

// backoff is how long handshakes leave a name alone after n failures in a
// row: one minute, doubling, at most six hours (as certmagic's own retries).
func backoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}
