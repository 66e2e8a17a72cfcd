package catalog

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVerify(t *testing.T) {
	k1, k2, stranger := newTestKey(t), newTestKey(t), newTestKey(t)
	payload := buildTest(t, testMeta("test", t0()))
	good := signTest(t, payload, k1)
	digest := payloadDigest(payload)
	now := t0().Add(time.Hour)

	malformed := editPayload(t, payload, func(p map[string]any) {
		obj(t, p, "apps", 0, "versions", 0, "manifest", "services", "web")["httpPort"] = 70000
	})
	futureFormat := editPayload(t, payload, func(p map[string]any) { p["catalogVersion"] = 2 })
	badExpiry := editPayload(t, payload, func(p map[string]any) { p["expires"] = "2025-01-01T00:00:00Z" })
	unknownField := editPayload(t, payload, func(p map[string]any) { p["mirror"] = "https://example.org" })

	tests := []struct {
		name     string
		envelope []byte
		trust    Trust
		held     *Held
		now      time.Time
		want     error
	}{
		{name: "valid", envelope: good, trust: trustOf(k1), now: now},
		{name: "valid, nothing held", envelope: good, trust: trustOf(k1), held: &Held{}, now: now},
		{name: "flipped byte in the payload", envelope: flipPayloadByte(t, good, 40), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "flipped byte in the signature", envelope: editEnvelope(t, good, func(e *envelopeJSON) {
			sig, _ := base64.StdEncoding.DecodeString(e.Signatures[0].Sig)
			sig[10] ^= 0x80
			e.Signatures[0].Sig = base64.StdEncoding.EncodeToString(sig)
		}), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "wrong key", envelope: signTest(t, payload, stranger), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "signature claims a trusted key id", envelope: editEnvelope(t, signTest(t, payload, stranger), func(e *envelopeJSON) {
			e.Signatures[0].KeyID = KeyID(k1.pub)
		}), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "not JSON", envelope: []byte("<html>"), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "unknown envelope field", envelope: []byte(`{"payload":"e30=","signatures":[],"extra":1}`), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "payload not base64", envelope: editEnvelope(t, good, func(e *envelopeJSON) { e.Payload = "%%%" }), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "no signatures", envelope: editEnvelope(t, good, func(e *envelopeJSON) { e.Signatures = nil }), trust: trustOf(k1), now: now, want: ErrBadSignature},
		{name: "older than held", envelope: good, trust: trustOf(k1), held: &Held{Timestamp: t0().Add(time.Second), Digest: "sha256:x"}, now: now, want: ErrRollback},
		{name: "same timestamp as held, other bytes", envelope: good, trust: trustOf(k1), held: &Held{Timestamp: t0(), Digest: "sha256:other"}, now: now, want: ErrRollback},
		{name: "the catalog held, again", envelope: good, trust: trustOf(k1), held: &Held{Timestamp: t0(), Digest: digest}, now: now},
		{name: "newer than held", envelope: good, trust: trustOf(k1), held: &Held{Timestamp: t0().Add(-time.Hour), Digest: "sha256:old"}, now: now},
		{name: "expired", envelope: good, trust: trustOf(k1), now: t0().AddDate(1, 0, 0).Add(time.Second), want: ErrExpired},
		{name: "older and expired is a rollback", envelope: good, trust: trustOf(k1), held: &Held{Timestamp: t0().Add(time.Hour)}, now: t0().AddDate(2, 0, 0), want: ErrRollback},
		{name: "threshold 2, one signature", envelope: good, trust: Trust{Keys: trustOf(k1, k2).Keys, Threshold: 2}, now: now, want: ErrBadSignature},
		{name: "threshold 2, the same key twice", envelope: editEnvelope(t, good, func(e *envelopeJSON) {
			e.Signatures = append(e.Signatures, e.Signatures[0])
		}), trust: Trust{Keys: trustOf(k1, k2).Keys, Threshold: 2}, now: now, want: ErrBadSignature},
		{name: "threshold 2, two signatures", envelope: signTest(t, payload, k1, k2), trust: Trust{Keys: trustOf(k1, k2).Keys, Threshold: 2}, now: now},
		{name: "one good signature among bad ones", envelope: signTest(t, payload, stranger, k1), trust: trustOf(k1), now: now},
		{name: "signed, but a manifest is invalid", envelope: signTest(t, malformed, k1), trust: trustOf(k1), now: now, want: ErrMalformed},
		{name: "signed, unknown catalogVersion", envelope: signTest(t, futureFormat, k1), trust: trustOf(k1), now: now, want: ErrMalformed},
		{name: "signed, expires before timestamp", envelope: signTest(t, badExpiry, k1), trust: trustOf(k1), now: now, want: ErrMalformed},
		{name: "signed, unknown payload field", envelope: signTest(t, unknownField, k1), trust: trustOf(k1), now: now, want: ErrMalformed},
		{name: "signed, payload not JSON", envelope: signTest(t, []byte("hello"), k1), trust: trustOf(k1), now: now, want: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := Verify(tt.envelope, tt.trust, tt.held, tt.now)
			checkRefusal(t, err, tt.want)
			if err != nil {
				t.Logf("refused: %v", err)
				return
			}
			if cat.Digest != digest || cat.ID != "test" || !cat.Timestamp.Equal(t0()) {
				t.Errorf("got catalog %s %s %s, want test %s %s", cat.ID, cat.Timestamp, cat.Digest, t0(), digest)
			}
		})
	}
}

func TestVerifyRotation(t *testing.T) {
	old, next := newTestKey(t), newTestKey(t)
	payload := buildTest(t, testMeta("test", t0()))
	now := t0().Add(time.Hour)
	tests := []struct {
		name   string
		signBy []testKey
		trust  Trust
		want   error
	}{
		{"before: old key, old trust", []testKey{old}, trustOf(old), nil},
		{"during: new key, old+new trust", []testKey{next}, trustOf(old, next), nil},
		{"during: old key, old+new trust", []testKey{old}, trustOf(old, next), nil},
		{"during: both keys, old trust (a box not yet updated)", []testKey{old, next}, trustOf(old), nil},
		{"after: old key, new trust", []testKey{old}, trustOf(next), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cat, err := Verify(signTest(t, payload, tt.signBy...), tt.trust, nil, now)
			checkRefusal(t, err, tt.want)
			if err != nil {
				return
			}
			var want []string
			for _, k := range tt.signBy {
				if _, ok := tt.trust.key(KeyID(k.pub)); ok {
					want = append(want, KeyID(k.pub))
				}
			}
			if diff := cmp.Diff(sortedCopy(want), cat.SignedBy); diff != "" {
				t.Errorf("SignedBy (-want +got):\n%s", diff)
			}
		})
	}
}

// TestVerifyMalformedNamesFields checks that every problem of a signed
// payload is reported, naming the app and the field.
func TestVerifyMalformedNamesFields(t *testing.T) {
	k := newTestKey(t)
	payload := editPayload(t, buildTest(t, testMeta("test", t0())), func(p map[string]any) {
		hello := obj(t, p, "apps", 0)
		obj(t, hello, "versions", 0, "manifest", "services", "web")["httpPort"] = 70000
		hello["icon"] = "ftp://example.org/icon.svg"
		notes := obj(t, p, "apps", 1)
		obj(t, notes, "versions", 1)["version"] = "1.0.1"
		delete(obj(t, notes, "versions", 0), "published")
		p["apps"] = append(p["apps"].([]any), map[string]any{"id": "Bad_ID", "versions": []any{}})
	})
	_, err := Verify(signTest(t, payload, k), trustOf(k), nil, t0())
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	var got []FieldError
	for _, e := range flatten(err) {
		fe, ok := errors.AsType[*FieldError](e)
		if !ok {
			t.Fatalf("problem %v is not a *FieldError", e)
		}
		got = append(got, FieldError{App: fe.App, Path: fe.Path})
	}
	want := []FieldError{
		{App: "hello", Path: "apps[0].icon"},
		{App: "hello", Path: "apps[0].versions[0].manifest.services.web.httpPort"},
		{App: "notes", Path: "apps[1].versions[0].published"},
		{App: "notes", Path: "apps[1].versions[1].version"},
		{App: "Bad_ID", Path: "apps[2].id"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problems (-want +got):\n%s\nerror: %v", diff, err)
	}
}

func TestVerifyContent(t *testing.T) {
	k := newTestKey(t)
	cat, err := Verify(signTest(t, buildTest(t, testMeta("test", t0())), k), trustOf(k), nil, t0())
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		Version, Notes string
		Security       bool
		Published      time.Time
	}
	got := map[string][]version{}
	for _, a := range cat.Apps {
		for _, v := range a.Versions {
			if v.Manifest.ID != a.ID || v.Manifest.Version != v.Version {
				t.Errorf("app %s version %s holds manifest %s %s", a.ID, v.Version, v.Manifest.ID, v.Manifest.Version)
			}
			if !json.Valid(v.ManifestJSON) {
				t.Errorf("app %s version %s: ManifestJSON is not JSON", a.ID, v.Version)
			}
			got[a.ID] = append(got[a.ID], version{v.Version, v.ReleaseNotes, v.Security, v.Published})
		}
	}
	want := map[string][]version{
		"hello": {{"1.2.0", "", false, t0()}},
		"notes": {
			{"2.0.0", "Fixes the note sharing bug (security).", true, t0()},
			{"1.0.0", "First release.", false, time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
}

func TestVerifyInvalidTrust(t *testing.T) {
	k := newTestKey(t)
	env := signTest(t, buildTest(t, testMeta("test", t0())), k)
	tests := []struct {
		name  string
		trust Trust
	}{
		{"no keys", Trust{}},
		{"short key", Trust{Keys: []Key{{Public: k.pub[:31]}}}},
		{"wrong id", Trust{Keys: []Key{{ID: "0000000000000000", Public: k.pub}}}},
		{"threshold above keys", Trust{Keys: []Key{k.key()}, Threshold: 2}},
		{"same key twice", Trust{Keys: []Key{k.key(), k.key()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Verify(env, tt.trust, nil, t0()); !errors.Is(err, ErrInvalidSource) {
				t.Errorf("got %v, want ErrInvalidSource", err)
			}
		})
	}
}
