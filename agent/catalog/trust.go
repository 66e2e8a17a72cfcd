package catalog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// maxTrustKeys bounds the size of a trust set (and of keys.json).
const maxTrustKeys = 16

// Key is a public key trusted to sign a catalog.
type Key struct {
	// ID is KeyID(Public). Empty means "compute it".
	ID     string
	Public ed25519.PublicKey
}

// Trust is the set of keys a catalog must be signed by: Threshold distinct
// keys of Keys. During a key rotation Keys holds both the old and the new
// key (see docs/catalog.md).
type Trust struct {
	Keys []Key
	// Threshold is the number of distinct trusted keys whose signatures
	// are required; 0 means 1.
	Threshold int
}

// KeyID is the key's identifier in an envelope: the first 16 hex digits of
// the SHA-256 of the raw public key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// normalize checks t and returns it with every ID filled and the threshold
// made explicit. Problems name the field (trust.keys[i].id, ...); callers
// wrap them with their sentinel.
func (t Trust) normalize() (Trust, error) {
	if len(t.Keys) == 0 {
		return Trust{}, errors.New("trust.keys: at least one key is needed")
	}
	if len(t.Keys) > maxTrustKeys {
		return Trust{}, fmt.Errorf("trust.keys: %d keys, at most %d", len(t.Keys), maxTrustKeys)
	}
	out := Trust{Keys: make([]Key, 0, len(t.Keys)), Threshold: t.Threshold}
	seen := map[string]bool{}
	for i, k := range t.Keys {
		if len(k.Public) != ed25519.PublicKeySize {
			return Trust{}, fmt.Errorf("trust.keys[%d].public: %d bytes, want %d", i, len(k.Public), ed25519.PublicKeySize)
		}
		id := KeyID(k.Public)
		if k.ID != "" && k.ID != id {
			return Trust{}, fmt.Errorf("trust.keys[%d].id: %q is not the id of its public key (%s)", i, k.ID, id)
		}
		if seen[id] {
			return Trust{}, fmt.Errorf("trust.keys[%d]: key %s is listed twice", i, id)
		}
		seen[id] = true
		out.Keys = append(out.Keys, Key{ID: id, Public: bytes.Clone(k.Public)})
	}
	if out.Threshold == 0 {
		out.Threshold = 1
	}
	if out.Threshold < 0 || out.Threshold > len(out.Keys) {
		return Trust{}, fmt.Errorf("trust.threshold: %d, want 1 to %d (the number of keys)", t.Threshold, len(out.Keys))
	}
	return out, nil
}

// key returns the trusted key with this id.
func (t Trust) key(id string) (Key, bool) {
	for _, k := range t.Keys {
		if k.ID == id {
			return k, true
		}
	}
	return Key{}, false
}

// keysFile is the JSON form of a Trust (official/keys.json).
type keysFile struct {
	Threshold int       `json:"threshold,omitempty"`
	Keys      []keyJSON `json:"keys"`
}

type keyJSON struct {
	KeyID     string `json:"keyId"`
	PublicKey string `json:"publicKey"`
}

// ParseTrust reads a keys file:
//
//	{"threshold": 1, "keys": [{"keyId": "<16 hex>", "publicKey": "<base64>"}]}
//
// Unknown fields are errors; every keyId must match its key.
func ParseTrust(data []byte) (Trust, error) {
	var f keysFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return Trust{}, fmt.Errorf("%w: keys file: %w", ErrInvalidKey, err)
	}
	if dec.More() {
		return Trust{}, fmt.Errorf("%w: keys file: data after the JSON object", ErrInvalidKey)
	}
	t := Trust{Threshold: f.Threshold}
	for i, k := range f.Keys {
		pub, err := ParsePublicKey(k.PublicKey)
		if err != nil {
			return Trust{}, fmt.Errorf("keys[%d].publicKey: %w", i, err)
		}
		if k.KeyID == "" {
			return Trust{}, fmt.Errorf("%w: keys[%d].keyId: missing (want %s)", ErrInvalidKey, i, KeyID(pub))
		}
		t.Keys = append(t.Keys, Key{ID: k.KeyID, Public: pub})
	}
	n, err := t.normalize()
	if err != nil {
		return Trust{}, fmt.Errorf("%w: %w", ErrInvalidKey, err)
	}
	return n, nil
}

// MarshalTrust writes t in the form ParseTrust reads.
func MarshalTrust(t Trust) ([]byte, error) {
	n, err := t.normalize()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSource, err)
	}
	f := keysFile{Threshold: n.Threshold}
	for _, k := range n.Keys {
		f.Keys = append(f.Keys, keyJSON{KeyID: k.ID, PublicKey: EncodePublicKey(k.Public)})
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("keys file: %w", err)
	}
	return append(b, '\n'), nil
}

// EncodePublicKey returns the standard base64 of the raw 32-byte key, the
// form keys.json and the CLI use.
func EncodePublicKey(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// ParsePublicKey reads a public key given as the base64 of its 32 raw bytes
// or as a PEM "PUBLIC KEY" block (PKIX, as openssl writes it).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "-----BEGIN") {
		block, rest := pem.Decode([]byte(s))
		if block == nil || block.Type != "PUBLIC KEY" || len(bytes.TrimSpace(rest)) != 0 {
			return nil, fmt.Errorf("%w: want one PEM block of type PUBLIC KEY", ErrInvalidKey)
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidKey, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("%w: %T is not an ed25519 key", ErrInvalidKey, k)
		}
		return pub, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not base64: %w", ErrInvalidKey, err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidKey, len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}
