package catalog

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// GenerateKey makes a new signing key pair from crypto/rand.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	return pub, priv, nil
}

// Sign wraps payload in an envelope signed by every key, in order. The
// payload is signed as it is: build it with Build. Signing with two keys is
// how a catalog stays valid for boxes on both sides of a key rotation.
func Sign(payload []byte, keys ...ed25519.PrivateKey) ([]byte, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: sign: empty payload", ErrInvalidSource)
	}
	if len(keys) == 0 || len(keys) > maxSignatures {
		return nil, fmt.Errorf("%w: sign: %d keys, want 1 to %d", ErrInvalidKey, len(keys), maxSignatures)
	}
	env := envelopeJSON{Payload: base64.StdEncoding.EncodeToString(payload)}
	var ids []string
	for i, k := range keys {
		if len(k) != ed25519.PrivateKeySize {
			return nil, fmt.Errorf("%w: sign: keys[%d]: %d bytes, want %d", ErrInvalidKey, i, len(k), ed25519.PrivateKeySize)
		}
		id := KeyID(k.Public().(ed25519.PublicKey))
		if slices.Contains(ids, id) {
			return nil, fmt.Errorf("%w: sign: keys[%d]: key %s given twice", ErrInvalidKey, i, id)
		}
		ids = append(ids, id)
		env.Signatures = append(env.Signatures, signatureJSON{
			KeyID: id,
			Sig:   base64.StdEncoding.EncodeToString(ed25519.Sign(k, payload)),
		})
	}
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	if len(b)+1 > MaxEnvelopeSize {
		return nil, fmt.Errorf("%w: sign: envelope of %d bytes is larger than %d", ErrInvalidSource, len(b)+1, MaxEnvelopeSize)
	}
	return append(b, '\n'), nil
}
