package catalog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"
)

// t0 is the timestamp of the test catalogs.
func t0() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// testKey is a signing key made for one test.
type testKey struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func newTestKey(t *testing.T) testKey {
	t.Helper()
	pub, priv, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return testKey{pub: pub, priv: priv}
}

func (k testKey) key() Key { return Key{ID: KeyID(k.pub), Public: k.pub} }

func trustOf(keys ...testKey) Trust {
	var t Trust
	for _, k := range keys {
		t.Keys = append(t.Keys, k.key())
	}
	return t
}

// testMeta is the meta of a test catalog published at ts, valid for a year.
func testMeta(id string, ts time.Time) BuildMeta {
	return BuildMeta{ID: id, Title: "Test catalog", Timestamp: ts, Expires: ts.AddDate(1, 0, 0)}
}

// buildTest builds the payload of testdata/src.
func buildTest(t *testing.T, meta BuildMeta) []byte {
	t.Helper()
	p, err := Build(context.Background(), "testdata/src", meta, nil, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

func signTest(t *testing.T, payload []byte, keys ...testKey) []byte {
	t.Helper()
	var privs []ed25519.PrivateKey
	for _, k := range keys {
		privs = append(privs, k.priv)
	}
	env, err := Sign(payload, privs...)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return env
}

// editEnvelope decodes an envelope, lets edit change it and encodes it again.
func editEnvelope(t *testing.T, env []byte, edit func(e *envelopeJSON)) []byte {
	t.Helper()
	var e envelopeJSON
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	edit(&e)
	out, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// flipPayloadByte flips one bit of the payload's byte at offset i.
func flipPayloadByte(t *testing.T, env []byte, i int) []byte {
	t.Helper()
	return editEnvelope(t, env, func(e *envelopeJSON) {
		p, err := base64.StdEncoding.DecodeString(e.Payload)
		if err != nil {
			t.Fatal(err)
		}
		p[i] ^= 0x01
		e.Payload = base64.StdEncoding.EncodeToString(p)
	})
}

// editPayload decodes a payload into generic JSON, lets edit change it and
// encodes it again.
func editPayload(t *testing.T, payload []byte, edit func(p map[string]any)) []byte {
	t.Helper()
	var p map[string]any
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		t.Fatal(err)
	}
	edit(p)
	out, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// obj walks generic JSON: obj(p, "apps", 0, "versions", 0) and so on.
func obj(t *testing.T, v any, path ...any) map[string]any {
	t.Helper()
	for _, k := range path {
		switch k := k.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%v: not an object", path)
	}
	return m
}

// refusals are the four reasons a catalog is refused; a refusal must match
// exactly one of them.
func refusals() []error { return []error{ErrBadSignature, ErrRollback, ErrExpired, ErrMalformed} }

// checkRefusal reports unless err matches want and no other refusal.
func checkRefusal(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("got error %v, want none", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	for _, other := range refusals() {
		if other != want && errors.Is(err, other) {
			t.Errorf("error %v also matches %v", err, other)
		}
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// flipSigByte flips one bit of the first signature's bytes (not of its
// base64 text, where a change can fall in padding bits and change nothing).
func flipSigByte(t *testing.T, e *envelopeJSON) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
	if err != nil {
		t.Fatal(err)
	}
	sig[0] ^= 0x01
	e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
}
