package certs

import (
	"crypto/tls"
	"crypto/x509"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearthbox/hearth/ddns/provider/rfc2136/rfc2136test"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

const (
	zone       = "box.test."
	tsigKey    = "hearth-test."
	tsigSecret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA=="
)

// acmeEnv is an in-process ACME CA (Pebble) whose validation authority
// resolves names with an in-process DNS server and connects to the ports
// where the test serves the Manager's challenge handlers.
type acmeEnv struct {
	dns   *rfc2136test.Server
	dir   string         // ACME directory URL
	wfe   *x509.CertPool // trusts the ACME server's HTTPS
	roots *x509.CertPool // trusts the certificates Pebble issues
	http  net.Listener   // where HTTP-01 validation connects
	tls   net.Listener   // where TLS-ALPN-01 validation connects

	// Challenges the Manager's handlers answered (not a listener certmagic
	// started on its own).
	httpChallenges, alpnChallenges atomic.Int32
}

// startACME starts Pebble issuing certificates valid for validity; the
// test stops it at its end (but for the VA's task reader, which Pebble
// never stops: it blocks on a channel and holds nothing).
func startACME(t *testing.T, validity time.Duration) *acmeEnv {
	t.Helper()
	// As PEBBLE_VA_NOSLEEP=1 and friends in Pebble's docs: validate at once,
	// never reject a nonce at random, validate every order afresh.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")

	env := &acmeEnv{dns: rfc2136test.Start(t, rfc2136test.Config{Zone: zone, KeyName: tsigKey, Secret: tsigSecret})}
	for _, ln := range []*net.Listener{&env.http, &env.tls} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		*ln = l
	}

	logs := &logBuffer{}
	dumpOnFailure(t, "pebble logs", logs)
	logger := log.New(logs, "pebble ", log.Lmicroseconds)
	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{
		"default": {Description: "test", ValidityPeriod: uint64(validity / time.Second)},
	})
	validator := va.New(logger, port(env.http), port(env.tls), false, env.dns.Addr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewTLSServer(front.Handler())
	srv.Config.ErrorLog = logger
	t.Cleanup(srv.Close)

	env.dir = srv.URL + wfe.DirectoryPath
	env.wfe = x509.NewCertPool()
	env.wfe.AddCert(srv.Certificate())
	env.roots = x509.NewCertPool()
	env.roots.AddCert(authority.GetRootCert(0).Cert)
	return env
}

func port(ln net.Listener) int { return ln.Addr().(*net.TCPAddr).Port }

// acmeConfig points a Manager at env.
func (env *acmeEnv) acmeConfig() *ACMEConfig {
	return &ACMEConfig{
		CA:             env.dir,
		Email:          "owner@box.test",
		RootCAs:        env.wfe,
		Resolvers:      []string{env.dns.Addr},
		AltHTTPPort:    port(env.http),
		AltTLSALPNPort: port(env.tls),
	}
}

// serve answers validation with m: its HTTP challenge handler on the HTTP
// port and its TLS configuration on the TLS port. It returns the TLS
// address, which also serves "hello <host>".
func (env *acmeEnv) serve(t *testing.T, m *Manager) string {
	t.Helper()
	challenges := m.HTTPChallengeHandler(http.NotFoundHandler())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			env.httpChallenges.Add(1)
		}
		challenges.ServeHTTP(w, r)
	})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(env.http)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	cfg := m.TLSConfig()
	get := cfg.GetCertificate
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if slices.Equal(hello.SupportedProtos, []string{"acme-tls/1"}) {
			env.alpnChallenges.Add(1)
		}
		return get(hello)
	}
	return serveTLSOn(t, cfg, env.tls)
}
