// Package certs gets, stores and renews the certificate of every name Hearth
// serves, with certmagic. LAN names (`*.local` and names under the configured
// LAN suffixes) get theirs from Hearth's local CA (proxy/lanca); other names
// from an ACME CA, Let's Encrypt by default, over HTTP-01 and TLS-ALPN-01, or
// over DNS-01 through a libdns provider, which also makes wildcards possible.
//
// The proxy uses a Manager through its own small interface (TLSConfig,
// HTTPChallengeHandler, Manage); cmd/hearthd constructs it. It knows nothing
// of apps.
package certs

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/certmagic"
	"github.com/hearthbox/hearth/proxy/lanca"
	"go.uber.org/zap"
)

// Errors; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("invalid certificate config")
	// ErrInvalidName reports a name no certificate can be had for.
	ErrInvalidName = errors.New("invalid name")
	// ErrNoACME reports a public name while no ACME CA is configured.
	ErrNoACME = errors.New("public name needs ACME settings")
	// ErrWildcardNeedsDNS reports a public wildcard without a DNS provider.
	ErrWildcardNeedsDNS = errors.New("wildcard needs a DNS provider")
	// ErrNotManaged is what a TLS handshake gets for a name Hearth does not
	// manage, instead of an on-demand certificate.
	ErrNotManaged = errors.New("name not managed")
	// ErrBackingOff is what a TLS handshake gets for a name whose last
	// attempt failed recently, instead of another attempt.
	ErrBackingOff = errors.New("backing off after a failed attempt")
)

// Config configures New.
type Config struct {
	// StateDir holds the local CA (StateDir/lanca) and certmagic's storage
	// of accounts, keys and certificates (StateDir/certmagic).
	StateDir string
	// BoxName is the box's name: the box is <BoxName>.local.
	BoxName string
	// LANSuffixes are domains besides "local" whose names only exist on the
	// LAN (such as "home.arpa" or "lan"); their certificates come from the
	// local CA. The local CA's root is constrained to the suffixes it was
	// created with.
	LANSuffixes []string
	// ACME configures the public CA; nil serves LAN names only.
	ACME *ACMEConfig
	// RenewCheckInterval is how often certificates are checked for renewal;
	// 0 means certmagic's default (10 minutes).
	RenewCheckInterval time.Duration
	// RenewalWindowRatio is the share of a certificate's lifetime left when
	// renewal starts, unless ACME Renewal Information says otherwise; 0
	// means certmagic's default (1/3).
	RenewalWindowRatio float64
	// Logger receives the logs, certmagic's included; nil discards them.
	Logger *slog.Logger
}

// ACMEConfig configures the ACME CA for public names.
type ACMEConfig struct {
	// CA is the directory URL; empty means Let's Encrypt production (or
	// staging with Staging).
	CA string
	// Staging uses Let's Encrypt's staging CA: the trial mode, whose
	// certificates browsers do not trust. It excludes CA.
	Staging bool
	// Email is the account's contact address; optional.
	Email string
	// RootCAs are the roots trusted for talking to the CA; nil means the
	// system's.
	RootCAs *x509.CertPool
	// Resolvers ("host:port") check that DNS-01 records have propagated;
	// empty means the system's resolvers.
	Resolvers []string
	// DNSProvider sets DNS-01 records. When set, DNS-01 is the only
	// challenge used and wildcard names ("*.<domain>") are possible.
	DNSProvider certmagic.DNSProvider
	// DisableHTTPChallenge and DisableTLSALPNChallenge turn those
	// challenges off (for example when port 80 is not forwarded).
	DisableHTTPChallenge    bool
	DisableTLSALPNChallenge bool
	// AltHTTPPort and AltTLSALPNPort are where the CA's validation requests
	// arrive when not on 80 and 443 (tests, or port forwarding that maps
	// 80 and 443 to other ports).
	AltHTTPPort    int
	AltTLSALPNPort int
}

// Manager obtains and renews certificates for the names it is told to
// manage, and serves them in TLS handshakes. Its methods are safe for
// concurrent use.
type Manager struct {
	log         *slog.Logger
	lanDomains  []string // "local" and the LAN suffixes
	ca          *lanca.CA
	cache       *certmagic.Cache
	lan, lanHS  *certmagic.Config // HS: for handshakes, with on-demand
	acme        *certmagic.Config // nil without ACME
	acmeHS      *certmagic.Config
	acmeIssuer  *certmagic.ACMEIssuer
	dnsProvider bool

	ctx      context.Context // background work: obtaining and renewing
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the run goroutines
	stopOnce sync.Once

	manageMu sync.Mutex // serializes Manage; taken before mu

	mu      sync.Mutex        // guards managed and status; never held while waiting
	managed map[string]*entry // by normalized name
	status  map[string]*attempts
}

// entry is one managed name.
type entry struct {
	lan bool
	// coveredBy is the managed wildcard whose certificate serves this
	// name; empty when the name has a certificate of its own.
	coveredBy string
	// cancel stops the name's run goroutine, which closes done when it
	// has returned; both nil when covered.
	cancel context.CancelFunc
	done   chan struct{}
}

// New prepares the local CA (creating it on first start), certmagic's
// storage and the issuers. Background work (obtaining, renewing) lasts until
// ctx ends or Close is called.
func New(ctx context.Context, cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "certs")
	lanDomains := append([]string{"local"}, cfg.LANSuffixes...)
	ca, err := lanca.New(lanca.Config{
		Dir:              filepath.Join(cfg.StateDir, "lanca"),
		BoxName:          cfg.BoxName,
		PermittedDomains: lanDomains,
		Logger:           cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("local CA: %w", err)
	}
	for _, d := range lanDomains {
		if !ca.Permits("x." + d) {
			log.Warn("LAN suffix outside the local CA's root; its names will be refused", "suffix", d, "root_domains", ca.PermittedDomains())
		}
	}
	zl := newZapLogger(log)
	m := &Manager{
		log:        log,
		lanDomains: lanDomains,
		ca:         ca,
		managed:    map[string]*entry{},
		status:     map[string]*attempts{},
	}
	m.ctx, m.cancel = context.WithCancel(ctx)
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   m.configFor,
		RenewCheckInterval: cfg.RenewCheckInterval,
		Logger:             zl,
	})
	// ACME Renewal Information stays on (DisableARI false): renewals follow
	// the CA's suggested window, and the CA learns which certificate a new
	// order replaces.
	base := certmagic.Config{
		Storage:            &certmagic.FileStorage{Path: filepath.Join(cfg.StateDir, "certmagic")},
		Logger:             zl,
		RenewalWindowRatio: cfg.RenewalWindowRatio,
		KeySource:          certmagic.StandardKeyGenerator{KeyType: certmagic.P256},
		OnEvent:            m.onEvent,
		ShouldEmitFunc:     func(event string) bool { return strings.HasPrefix(event, "cert_") },
	}
	onDemand := &certmagic.OnDemandConfig{DecisionFunc: m.decide}

	lan := base
	lan.Issuers = []certmagic.Issuer{ca}
	m.lan = certmagic.New(m.cache, lan)
	lan.OnDemand = onDemand
	m.lanHS = certmagic.New(m.cache, lan)

	if a := cfg.ACME; a != nil {
		m.acme = certmagic.New(m.cache, base)
		m.acmeIssuer = certmagic.NewACMEIssuer(m.acme, acmeTemplate(a, zl))
		m.acme.Issuers = []certmagic.Issuer{m.acmeIssuer}
		hs := base
		hs.Issuers = m.acme.Issuers
		hs.OnDemand = onDemand
		m.acmeHS = certmagic.New(m.cache, hs)
		m.dnsProvider = a.DNSProvider != nil
	}
	context.AfterFunc(m.ctx, m.stop)
	log.Info("certificates ready", "lan_domains", lanDomains, "acme", m.acmeIssuer != nil, "local_ca", ca.Name())
	return m, nil
}

// Close stops obtaining and renewing, and waits for the background work
// it started. Certificates already loaded are still served.
func (m *Manager) Close() error {
	m.cancel()
	m.wg.Wait()
	m.stop()
	return nil
}

func (m *Manager) stop() {
	m.stopOnce.Do(m.cache.Stop)
}

// LocalCA is the local CA, for the UI's root download and instructions.
func (m *Manager) LocalCA() *lanca.CA { return m.ca }

// configFor tells certmagic's maintenance how to renew a certificate.
func (m *Manager) configFor(cert certmagic.Certificate) (*certmagic.Config, error) {
	for _, n := range cert.Names {
		if !m.isLAN(n) {
			if m.acme == nil {
				return nil, fmt.Errorf("%s: %w", n, ErrNoACME)
			}
			return m.acme, nil
		}
	}
	return m.lan, nil
}

func acmeTemplate(a *ACMEConfig, zl *zap.Logger) certmagic.ACMEIssuer {
	ca := a.CA
	switch {
	case ca == "" && a.Staging:
		ca = certmagic.LetsEncryptStagingCA
	case ca == "":
		ca = certmagic.LetsEncryptProductionCA
	}
	t := certmagic.ACMEIssuer{
		CA:                      ca,
		Email:                   a.Email,
		Agreed:                  true,
		TrustedRoots:            a.RootCAs,
		DisableHTTPChallenge:    a.DisableHTTPChallenge,
		DisableTLSALPNChallenge: a.DisableTLSALPNChallenge,
		AltHTTPPort:             a.AltHTTPPort,
		AltTLSALPNPort:          a.AltTLSALPNPort,
		Logger:                  zl,
	}
	if a.DNSProvider != nil {
		t.DNS01Solver = &certmagic.DNS01Solver{DNSManager: certmagic.DNSManager{
			DNSProvider: a.DNSProvider,
			Resolvers:   a.Resolvers,
			Logger:      zl,
		}}
	}
	return t
}
