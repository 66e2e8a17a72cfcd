// Package lanca is Hearth's local certificate authority for names that exist
// only on the LAN (`*.local` and the configured LAN suffixes). On first start
// it creates a root under its directory (ECDSA P-256, ten years, the key
// readable by its owner only) and reloads it afterwards. It issues leaf
// certificates through certmagic's Issuer interface, so that certmagic stores
// and renews them like any other certificate.
//
// The root carries name constraints: it can only vouch for the DNS domains it
// was created for and for private IP ranges, so that a phone trusting it is not
// exposed for any other site should the box be compromised.
//
// proxy/certs constructs it; the web UI may import it for RootPEM and
// Instructions. It knows nothing of apps.
package lanca

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Errors returned by New and Issue; check them with errors.Is.
var (
	// ErrInvalidConfig reports a Config field that cannot be used.
	ErrInvalidConfig = errors.New("invalid local CA config")
	// ErrKeyPermissions reports a root key file that others than its owner
	// could read, or that another user owns.
	ErrKeyPermissions = errors.New("local CA key file is not private")
	// ErrCorrupt reports a CA directory whose files are missing or do not
	// belong together.
	ErrCorrupt = errors.New("local CA files are unusable")
	// ErrNotPermitted reports a name the root's constraints do not cover, or
	// a request for something other than DNS names.
	ErrNotPermitted = errors.New("name not permitted by the local CA")
	// ErrBadCSR reports a certificate request that does not verify.
	ErrBadCSR = errors.New("bad certificate request")
)

// DefaultLeafLifetime is how long leaf certificates are valid.
const DefaultLeafLifetime = 90 * 24 * time.Hour

// rootLifetime is how long a new root is valid.
const rootLifetime = 10 * 365 * 24 * time.Hour

// Config configures New.
type Config struct {
	// Dir holds root.crt and root.key (for example StateDir/lanca). It is
	// created with mode 0700 when missing.
	Dir string
	// BoxName is the box's name; a new root is called
	// "Hearth Local CA <BoxName> <4 random hex digits>".
	BoxName string
	// PermittedDomains are the DNS domains a new root may vouch for, each
	// with all names under it (name constraints). Empty means "local". They
	// are fixed when the root is created; a reloaded root keeps its own.
	PermittedDomains []string
	// LeafLifetime is the validity of issued certificates; 0 means
	// DefaultLeafLifetime.
	LeafLifetime time.Duration
	// Logger receives the CA's logs; nil discards them.
	Logger *slog.Logger
}

// CA is a loaded local certificate authority. It is safe for concurrent use.
type CA struct {
	root      *x509.Certificate
	rootPEM   []byte
	key       *ecdsa.PrivateKey
	lifetime  time.Duration
	issuerKey string
	log       *slog.Logger
}

// New loads the CA from cfg.Dir, or creates it there when the directory does
// not exist yet (or is empty). Concurrent creators agree on one root.
func New(cfg Config) (*CA, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("component", "lanca")
	lifetime := cfg.LeafLifetime
	if lifetime == 0 {
		lifetime = DefaultLeafLifetime
	}
	m, created, err := loadOrCreate(cfg)
	if err != nil {
		return nil, err
	}
	spki := sha256.Sum256(m.cert.RawSubjectPublicKeyInfo)
	ca := &CA{
		root:      m.cert,
		rootPEM:   m.certPEM,
		key:       m.key,
		lifetime:  lifetime,
		issuerKey: "hearth-lanca-" + hex.EncodeToString(spki[:4]),
		log:       log,
	}
	if created {
		log.Info("local CA created", "name", ca.Name(), "dir", cfg.Dir, "permitted", m.cert.PermittedDNSDomains)
	} else {
		log.Debug("local CA loaded", "name", ca.Name(), "dir", cfg.Dir)
	}
	return ca, nil
}

// Name is the root's common name, as owners see it in their trust settings.
func (ca *CA) Name() string { return ca.root.Subject.CommonName }

// RootPEM is the root certificate, PEM encoded, for the UI's download.
func (ca *CA) RootPEM() []byte { return append([]byte(nil), ca.rootPEM...) }

// Root is the parsed root certificate. Callers must not modify it.
func (ca *CA) Root() *x509.Certificate { return ca.root }

// Fingerprint is the SHA-256 of the root certificate, as colon-separated
// upper-case hex: what iOS, macOS and Windows show to compare against.
func (ca *CA) Fingerprint() string {
	sum := sha256.Sum256(ca.root.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var b strings.Builder
	for i := 0; i < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}

// PermittedDomains are the DNS domains the root may vouch for.
func (ca *CA) PermittedDomains() []string {
	return append([]string(nil), ca.root.PermittedDNSDomains...)
}

// Permits reports whether the root's name constraints cover the DNS name
// (a wildcard "*.x" is covered when x is).
func (ca *CA) Permits(name string) bool {
	name = strings.TrimPrefix(strings.ToLower(name), "*.")
	for _, d := range ca.root.PermittedDNSDomains {
		if name == d || strings.HasSuffix(name, "."+d) {
			return true
		}
	}
	return false
}

// IssuerKey identifies this CA to certmagic; it names the storage folder of
// the certificates it issued and changes with the root, so that a new root
// never serves leaves of an old one.
func (ca *CA) IssuerKey() string { return ca.issuerKey }
