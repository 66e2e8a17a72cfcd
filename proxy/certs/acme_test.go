package certs

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/ddns/provider/rfc2136"
	"github.com/miekg/dns"
)

// verifyACME checks that addr serves name a certificate chaining to Pebble.
func verifyACME(t *testing.T, env *acmeEnv, addr, name string) *x509.Certificate {
	t.Helper()
	leaf, err := handshake(addr, name, env.roots)
	if err != nil {
		t.Fatalf("handshake for %s: %v", name, err)
	}
	return leaf
}

func TestACMEOverHTTP01(t *testing.T) {
	env := startACME(t, 24*time.Hour)
	env.dns.Add(t, "web.box.test. 60 IN A 127.0.0.1")
	a := env.acmeConfig()
	a.DisableTLSALPNChallenge = true
	m := newManager(t, Config{ACME: a})
	addr := env.serve(t, m)
	if err := m.Manage(context.Background(), []string{"web.box.test"}); err != nil {
		t.Fatal(err)
	}
	st := waitIssued(t, m, "web.box.test", 30*time.Second)
	if st.Issuer == m.LocalCA().IssuerKey() || st.Issuer == "" {
		t.Errorf("got issuer %q, want the ACME directory's key", st.Issuer)
	}
	leaf := verifyACME(t, env, addr, "web.box.test")
	if env.httpChallenges.Load() == 0 || env.alpnChallenges.Load() != 0 {
		t.Errorf("got %d HTTP-01 and %d TLS-ALPN-01 requests, want some and none", env.httpChallenges.Load(), env.alpnChallenges.Load())
	}
	if diff := cmp.Diff([]string{"web.box.test"}, leaf.DNSNames); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	// A LAN name on the same Manager still comes from the local CA.
	if err := m.Manage(context.Background(), []string{"web.box.test", "hearth.local"}); err != nil {
		t.Fatal(err)
	}
	waitIssued(t, m, "hearth.local", 10*time.Second)
	if _, err := handshake(addr, "hearth.local", poolOf(t, m.LocalCA().RootPEM())); err != nil {
		t.Errorf("LAN name next to ACME: %v", err)
	}
}

func TestACMEOverTLSALPN01(t *testing.T) {
	env := startACME(t, 24*time.Hour)
	env.dns.Add(t, "alpn.box.test. 60 IN A 127.0.0.1")
	a := env.acmeConfig()
	a.DisableHTTPChallenge = true
	m := newManager(t, Config{ACME: a})
	addr := env.serve(t, m)
	if err := m.Manage(context.Background(), []string{"alpn.box.test"}); err != nil {
		t.Fatal(err)
	}
	waitIssued(t, m, "alpn.box.test", 30*time.Second)
	verifyACME(t, env, addr, "alpn.box.test")
	if env.alpnChallenges.Load() == 0 || env.httpChallenges.Load() != 0 {
		t.Errorf("got %d TLS-ALPN-01 and %d HTTP-01 requests, want some and none", env.alpnChallenges.Load(), env.httpChallenges.Load())
	}
}

// Over DNS-01 with Hearth's RFC 2136 provider: a wildcard that also serves
// the names under it, with no certificate of their own.
func TestACMEWildcardOverDNS01(t *testing.T) {
	env := startACME(t, 24*time.Hour)
	provider, err := rfc2136.New(rfc2136.Config{Server: env.dns.Addr, KeyName: tsigKey, Secret: tsigSecret})
	if err != nil {
		t.Fatal(err)
	}
	a := env.acmeConfig()
	a.DNSProvider = provider
	m := newManager(t, Config{ACME: a})
	addr := env.serve(t, m)
	if err := m.Manage(context.Background(), []string{"*.box.test", "photos.box.test"}); err != nil {
		t.Fatal(err)
	}
	wild := waitIssued(t, m, "*.box.test", 60*time.Second)
	if got := m.Status("photos.box.test"); got.NotAfter != wild.NotAfter {
		t.Errorf("covered name: got NotAfter %v, want the wildcard's %v", got.NotAfter, wild.NotAfter)
	}
	leaf := verifyACME(t, env, addr, "photos.box.test")
	if diff := cmp.Diff([]string{"*.box.test"}, leaf.DNSNames); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if env.httpChallenges.Load() != 0 || env.alpnChallenges.Load() != 0 {
		t.Errorf("got HTTP-01 or TLS-ALPN-01 requests with a DNS provider, want DNS-01 only")
	}
	if n := env.dns.Updates(); n < 2 {
		t.Errorf("got %d signed updates, want at least 2 (add and remove the TXT record)", n)
	}
	waitFor(t, 5*time.Second, "the challenge record to be removed", func() bool {
		return len(env.dns.Lookup("_acme-challenge.box.test.", dns.TypeTXT)) == 0
	})
}

// Pebble issues certificates valid for 20 s; with a renewal window of 3/4
// the certificate is renewed well before it expires, and served at once.
func TestACMERenewsBeforeExpiry(t *testing.T) {
	env := startACME(t, 20*time.Second)
	env.dns.Add(t, "renew.box.test. 60 IN A 127.0.0.1")
	a := env.acmeConfig()
	a.DisableTLSALPNChallenge = true
	dir := t.TempDir()
	m := newManager(t, Config{StateDir: dir, ACME: a, RenewCheckInterval: 500 * time.Millisecond, RenewalWindowRatio: 0.75})
	addr := env.serve(t, m)
	if err := m.Manage(context.Background(), []string{"renew.box.test"}); err != nil {
		t.Fatal(err)
	}
	first := waitIssued(t, m, "renew.box.test", 30*time.Second)
	leaf1 := verifyACME(t, env, addr, "renew.box.test")

	var next CertStatus
	waitFor(t, 20*time.Second, "a renewal", func() bool {
		next = m.Status("renew.box.test")
		return next.NotBefore.After(first.NotBefore)
	})
	if !next.NotBefore.Before(first.NotAfter) {
		t.Errorf("renewed certificate starts %v, want before the old one expires at %v", next.NotBefore, first.NotAfter)
	}
	if next.LastError != nil {
		t.Errorf("got error %v after renewal, want nil", next.LastError)
	}
	leaf2 := verifyACME(t, env, addr, "renew.box.test")
	if leaf2.SerialNumber.Cmp(leaf1.SerialNumber) == 0 {
		t.Errorf("handshake after renewal: got the old certificate, want the new one")
	}

	// ACME Renewal Information is on: certmagic asked Pebble for the
	// renewal window and keeps it with the certificate.
	metas, _ := filepath.Glob(filepath.Join(dir, "certmagic", "certificates", "*", "renew.box.test", "renew.box.test.json"))
	if len(metas) != 1 {
		t.Fatalf("got metadata files %v, want one", metas)
	}
	waitFor(t, 10*time.Second, "renewal information in storage", func() bool {
		b, err := os.ReadFile(metas[0])
		if err != nil {
			return false
		}
		var meta struct {
			IssuerData struct {
				RenewalInfo *struct {
					SuggestedWindow struct{ Start, End time.Time } `json:"suggestedWindow"`
				} `json:"renewal_info"`
			} `json:"issuer_data"`
		}
		return json.Unmarshal(b, &meta) == nil && meta.IssuerData.RenewalInfo != nil &&
			!meta.IssuerData.RenewalInfo.SuggestedWindow.End.IsZero()
	})
}

// A name that resolves nowhere fails validation; the failure is reported,
// and neither certmagic nor handshakes try again at once.
func TestACMEFailedValidationBacksOff(t *testing.T) {
	env := startACME(t, 24*time.Hour)
	m := newManager(t, Config{ACME: env.acmeConfig()})
	addr := env.serve(t, m)
	const name = "nowhere.box.test"
	if err := m.Manage(context.Background(), []string{name}); err != nil {
		t.Fatal(err)
	}
	var st CertStatus
	waitFor(t, 30*time.Second, "a reported failure", func() bool {
		st = m.Status(name)
		return st.LastError != nil
	})
	if st.LastAttempt.IsZero() || !st.NotAfter.IsZero() {
		t.Errorf("got LastAttempt %v NotAfter %v, want an attempt and no certificate", st.LastAttempt, st.NotAfter)
	}
	t.Logf("reported: %v", st.LastError)

	if _, err := handshake(addr, name, env.roots); err == nil {
		t.Errorf("handshake: got a certificate, want none")
	}
	if err := m.decide(context.Background(), name); !errors.Is(err, ErrBackingOff) {
		t.Errorf("on-demand decision: got %v, want %v", err, ErrBackingOff)
	}
	time.Sleep(2 * time.Second)
	if got := m.Status(name); !got.LastAttempt.Equal(st.LastAttempt) {
		t.Errorf("got another attempt at %v within 2 s, want backoff", got.LastAttempt)
	}
}
