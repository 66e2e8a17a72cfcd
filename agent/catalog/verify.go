package catalog

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits on what Verify reads.
const (
	// MaxEnvelopeSize is the largest envelope accepted (and downloaded).
	MaxEnvelopeSize = 8 << 20
	// maxSignatures bounds the signatures of one envelope.
	maxSignatures = 16
)

// Verify checks an envelope against a trust set and what the box holds, and
// returns the catalog it carries. The checks run in this order, and the
// first that fails decides the error:
//
//   - ErrBadSignature: the envelope is malformed, or fewer than
//     t.Threshold distinct trusted keys signed the exact payload bytes;
//   - ErrMalformed: the payload is not a catalog this package can read
//     (JSON, catalogVersion, timestamps);
//   - ErrRollback: held is set and the payload is older than held, or as old
//     with different bytes (the same payload again is accepted);
//   - ErrExpired: now is past the payload's expiry;
//   - ErrMalformed: an app, a version or a manifest is invalid; every problem
//     is reported (errors.Join of *FieldError) naming the app and the field.
//
// A nil held accepts any timestamp. An invalid t is ErrInvalidSource.
func Verify(envelope []byte, t Trust, held *Held, now time.Time) (*Catalog, error) {
	trust, err := t.normalize()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSource, err)
	}
	payload, signedBy, err := checkSignatures(envelope, trust)
	if err != nil {
		return nil, err
	}
	p, err := decodePayload(payload)
	if err != nil {
		return nil, fmt.Errorf("catalog payload: %w", err)
	}
	digest := payloadDigest(payload)
	if held != nil && !held.Timestamp.IsZero() {
		switch {
		case p.Timestamp.Before(held.Timestamp):
			return nil, fmt.Errorf("%w: catalog %q of %s is older than the one held (%s)",
				ErrRollback, p.ID, p.Timestamp.Format(time.RFC3339), held.Timestamp.Format(time.RFC3339))
		case p.Timestamp.Equal(held.Timestamp) && digest != held.Digest:
			return nil, fmt.Errorf("%w: catalog %q has the timestamp of the one held (%s) but other content",
				ErrRollback, p.ID, p.Timestamp.Format(time.RFC3339))
		}
	}
	if now.After(p.Expires) {
		return nil, fmt.Errorf("%w: catalog %q expired at %s (now %s)",
			ErrExpired, p.ID, p.Expires.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	cat, err := newCatalog(p)
	if err != nil {
		return nil, fmt.Errorf("catalog %q: %w", p.ID, err)
	}
	cat.Digest = digest
	cat.SignedBy = signedBy
	return cat, nil
}

// payloadDigest is the digest a Held records.
func payloadDigest(payload []byte) string {
	sum := sha256.Sum256(payload)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// checkSignatures decodes the envelope and returns the payload bytes and the
// IDs of the trusted keys that signed them, or ErrBadSignature.
func checkSignatures(envelope []byte, t Trust) ([]byte, []string, error) {
	if len(envelope) > MaxEnvelopeSize {
		return nil, nil, fmt.Errorf("%w: envelope of %d bytes is larger than %d", ErrBadSignature, len(envelope), MaxEnvelopeSize)
	}
	var env envelopeJSON
	if err := decodeStrict(envelope, &env); err != nil {
		return nil, nil, fmt.Errorf("%w: malformed envelope: %w", ErrBadSignature, err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: envelope payload: not base64: %w", ErrBadSignature, err)
	}
	if len(payload) == 0 {
		return nil, nil, fmt.Errorf("%w: envelope payload: empty", ErrBadSignature)
	}
	if len(env.Signatures) == 0 || len(env.Signatures) > maxSignatures {
		return nil, nil, fmt.Errorf("%w: envelope signatures: %d, want 1 to %d", ErrBadSignature, len(env.Signatures), maxSignatures)
	}
	var signedBy, problems []string
	for i, s := range env.Signatures {
		k, ok := t.key(s.KeyID)
		if !ok {
			problems = append(problems, fmt.Sprintf("signatures[%d]: key %q is not trusted", i, s.KeyID))
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(k.Public, payload, sig) {
			problems = append(problems, fmt.Sprintf("signatures[%d]: signature by key %s does not verify", i, s.KeyID))
			continue
		}
		if !slices.Contains(signedBy, k.ID) {
			signedBy = append(signedBy, k.ID)
		}
	}
	if len(signedBy) < t.Threshold {
		why := ""
		if len(problems) > 0 {
			why = " (" + strings.Join(problems, "; ") + ")"
		}
		return nil, nil, fmt.Errorf("%w: %d valid signature(s) by trusted keys, %d needed%s",
			ErrBadSignature, len(signedBy), t.Threshold, why)
	}
	slices.Sort(signedBy)
	return payload, signedBy, nil
}

// decodeStrict decodes one JSON value, refusing unknown fields and trailing
// data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("data after the JSON value")
	}
	return nil
}

// decodePayload decodes the payload and checks what Verify needs before the
// rollback and expiry checks: the format version and the timestamps.
func decodePayload(payload []byte) (*payloadJSON, error) {
	var head struct {
		CatalogVersion int `json:"catalogVersion"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return nil, &FieldError{Path: "payload", Reason: "not a JSON object: " + err.Error()}
	}
	if head.CatalogVersion != formatVersion {
		return nil, &FieldError{Path: "catalogVersion", Reason: fmt.Sprintf("%d is not supported (want %d): this box may need an update", head.CatalogVersion, formatVersion)}
	}
	var p payloadJSON
	if err := decodeStrict(payload, &p); err != nil {
		return nil, &FieldError{Path: "payload", Reason: err.Error()}
	}
	switch {
	case p.Timestamp.IsZero():
		return nil, &FieldError{Path: "timestamp", Reason: "missing"}
	case p.Expires.IsZero():
		return nil, &FieldError{Path: "expires", Reason: "missing"}
	case !p.Expires.After(p.Timestamp):
		return nil, &FieldError{Path: "expires", Reason: "must be after timestamp"}
	}
	return &p, nil
}
