package lanca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The CA directory holds exactly these two files. The directory is made
// complete under a temporary name and then renamed into place, so that it
// either does not exist or holds a matching pair.
const (
	certFile = "root.crt"
	keyFile  = "root.key"
)

var (
	errAbsent   = errors.New("local CA does not exist yet")
	errLostRace = errors.New("another process created the local CA first")
)

// material is a root certificate with its key.
type material struct {
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// loadOrCreate loads the CA from cfg.Dir, creating it first when absent. It
// reports whether it created it.
func loadOrCreate(cfg Config) (material, bool, error) {
	for range 2 {
		m, err := load(cfg.Dir)
		if err == nil {
			return m, false, nil
		}
		if !errors.Is(err, errAbsent) {
			return material{}, false, err
		}
		m, err = create(cfg)
		if err == nil {
			return m, true, nil
		}
		if !errors.Is(err, errLostRace) {
			return material{}, false, err
		}
	}
	return material{}, false, fmt.Errorf("dir %s: keeps changing: %w", cfg.Dir, ErrCorrupt)
}

// load reads the CA from dir; errAbsent when dir is missing or empty.
func load(dir string) (material, error) {
	st, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return material{}, errAbsent
	}
	if err != nil {
		return material{}, fmt.Errorf("stat local CA dir: %w", err)
	}
	if !st.IsDir() {
		return material{}, fmt.Errorf("%s: not a directory: %w", dir, ErrCorrupt)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return material{}, fmt.Errorf("read local CA dir: %w", err)
	}
	if len(entries) == 0 {
		return material{}, errAbsent
	}
	keyPEM, err := readPrivate(filepath.Join(dir, keyFile))
	if err != nil {
		return material{}, err
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if err != nil {
		return material{}, fmt.Errorf("%s: %w: %w", certFile, ErrCorrupt, err)
	}
	return parse(certPEM, keyPEM)
}

// readPrivate reads a file that must be private to its owner, the user this
// process runs as.
func readPrivate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", filepath.Base(path), ErrCorrupt, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	if !st.Mode().IsRegular() || st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %s, want 0600: %w", path, st.Mode(), ErrKeyPermissions)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return nil, fmt.Errorf("%s is owned by uid %d, want %d: %w", path, sys.Uid, os.Geteuid(), ErrKeyPermissions)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

func parse(certPEM, keyPEM []byte) (material, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return material{}, fmt.Errorf("%s: no PEM certificate: %w", certFile, ErrCorrupt)
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return material{}, fmt.Errorf("%s: %w: %w", certFile, ErrCorrupt, err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil || kb.Type != "PRIVATE KEY" {
		return material{}, fmt.Errorf("%s: no PEM private key: %w", keyFile, ErrCorrupt)
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return material{}, fmt.Errorf("%s: %w: %w", keyFile, ErrCorrupt, err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return material{}, fmt.Errorf("%s: not an ECDSA key: %w", keyFile, ErrCorrupt)
	}
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(&key.PublicKey) {
		return material{}, fmt.Errorf("%s does not belong to %s: %w", keyFile, certFile, ErrCorrupt)
	}
	if !cert.IsCA {
		return material{}, fmt.Errorf("%s: not a CA certificate: %w", certFile, ErrCorrupt)
	}
	return material{cert: cert, certPEM: certPEM, key: key}, nil
}

// create makes a new root in a temporary directory next to cfg.Dir and
// renames it into place; errLostRace when cfg.Dir appeared meanwhile.
func create(cfg Config) (m material, err error) {
	parent := filepath.Dir(cfg.Dir)
	if err := os.MkdirAll(parent, 0o700); err != nil {
		return material{}, fmt.Errorf("make state dir: %w", err)
	}
	tmp, err := os.MkdirTemp(parent, ".lanca-new-")
	if err != nil {
		return material{}, fmt.Errorf("make temporary CA dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(tmp)
		}
	}()
	m, keyPEM, err := newRoot(cfg)
	if err != nil {
		return material{}, err
	}
	if err := writeNew(filepath.Join(tmp, keyFile), keyPEM, 0o600); err != nil {
		return material{}, err
	}
	if err := writeNew(filepath.Join(tmp, certFile), m.certPEM, 0o644); err != nil {
		return material{}, err
	}
	if err := syncDir(tmp); err != nil {
		return material{}, err
	}
	// An empty directory (made by packaging, or by a creator that crashed
	// before the rename) is taken over; a full one belongs to someone else.
	if err := os.Remove(cfg.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return material{}, errLostRace
		}
		return material{}, fmt.Errorf("replace empty CA dir: %w", err)
	}
	if err := os.Rename(tmp, cfg.Dir); err != nil {
		if errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST) {
			return material{}, errLostRace
		}
		return material{}, fmt.Errorf("move CA into place: %w", err)
	}
	if err := syncDir(parent); err != nil {
		return material{}, err
	}
	return m, nil
}

// newRoot makes the root certificate and its PEM-encoded key.
func newRoot(cfg Config) (material, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return material{}, nil, fmt.Errorf("generate root key: %w", err)
	}
	var tag [2]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return material{}, nil, fmt.Errorf("random name tag: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return material{}, nil, err
	}
	// A common name has at most 64 characters: keep the prefix and tag whole.
	box := cfg.BoxName
	if len(box) > 43 {
		box = box[:43]
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:   fmt.Sprintf("Hearth Local CA %s %s", box, hex.EncodeToString(tag[:])),
			Organization: []string{"Hearth"},
		},
		NotBefore:                   now.Add(-time.Hour),
		NotAfter:                    now.Add(rootLifetime),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         cfg.permitted(),
		PermittedIPRanges:           privateRanges(),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return material{}, nil, fmt.Errorf("sign root: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return material{}, nil, fmt.Errorf("parse new root: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return material{}, nil, fmt.Errorf("encode root key: %w", err)
	}
	m := material{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     key,
	}
	return m, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), nil
}

// privateRanges are the addresses a LAN CA may vouch for, should it ever
// issue for addresses: RFC 1918, unique local and link-local.
func privateRanges() []*net.IPNet {
	var out []*net.IPNet
	for _, c := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "fc00::/7", "fe80::/10"} {
		_, n, _ := net.ParseCIDR(c)
		out = append(out, n)
	}
	return out
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("random serial: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

// writeNew writes a file that must not exist yet and syncs it.
func writeNew(path string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
