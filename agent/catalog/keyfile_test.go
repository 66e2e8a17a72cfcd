package catalog

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestKeyFileRoundTrip(t *testing.T) {
	k := newTestKey(t)
	path := filepath.Join(t.TempDir(), "signing.key")
	if err := WriteKeyFile(path, k.priv); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got mode %04o, want 0600", got)
	}
	got, err := ReadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !k.priv.Equal(got) {
		t.Error("the key read back differs from the key written")
	}
	if err := WriteKeyFile(path, k.priv); !errors.Is(err, fs.ErrExist) {
		t.Errorf("writing over an existing key file: got %v, want fs.ErrExist", err)
	}
}

func TestReadKeyFile(t *testing.T) {
	k := newTestKey(t)
	pub, _, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	mismatched := append(k.priv.Seed(), pub...)
	tests := []struct {
		name    string
		content string
		mode    fs.FileMode
		want    error
	}{
		{"base64 seed", base64.StdEncoding.EncodeToString(k.priv.Seed()) + "\n", 0o600, nil},
		{"base64 private key", base64.StdEncoding.EncodeToString(k.priv), 0o400, nil},
		{"readable by the group", base64.StdEncoding.EncodeToString(k.priv.Seed()), 0o640, ErrKeyFileMode},
		{"readable by all", base64.StdEncoding.EncodeToString(k.priv.Seed()), 0o644, ErrKeyFileMode},
		{"a public key", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), 0o600, ErrInvalidKey},
		{"seed and another public half", base64.StdEncoding.EncodeToString(mismatched), 0o600, ErrInvalidKey},
		{"wrong length", base64.StdEncoding.EncodeToString([]byte("short")), 0o600, ErrInvalidKey},
		{"garbage", "not a key", 0o600, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := ReadKeyFile(path)
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !k.priv.Equal(got) {
				t.Error("got another key")
			}
		})
	}
	t.Run("a folder", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "d")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadKeyFile(dir); !errors.Is(err, ErrKeyFileMode) {
			t.Errorf("got %v, want ErrKeyFileMode", err)
		}
	})
}

func TestParsePublicKey(t *testing.T) {
	k := newTestKey(t)
	der, err := x509.MarshalPKIXPublicKey(k.pub)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"base64", EncodePublicKey(k.pub), nil},
		{"PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil},
		{"short", base64.StdEncoding.EncodeToString(k.pub[:16]), ErrInvalidKey},
		{"not base64", "!!", ErrInvalidKey},
		{"private PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePublicKey(tt.in)
			if !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.want == nil && !k.pub.Equal(got) {
				t.Error("got another key")
			}
		})
	}
}

func TestTrustFile(t *testing.T) {
	a, b := newTestKey(t), newTestKey(t)
	in := Trust{Keys: []Key{{Public: a.pub}, {Public: b.pub}}, Threshold: 1}
	data, err := MarshalTrust(in)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTrust(data)
	if err != nil {
		t.Fatal(err)
	}
	want := Trust{Keys: []Key{a.key(), b.key()}, Threshold: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	tests := []struct {
		name string
		file string
	}{
		{"key id of another key", `{"keys":[{"keyId":"` + KeyID(b.pub) + `","publicKey":"` + EncodePublicKey(a.pub) + `"}]}`},
		{"no key id", `{"keys":[{"publicKey":"` + EncodePublicKey(a.pub) + `"}]}`},
		{"unknown field", `{"keys":[],"owner":"me"}`},
		{"no keys", `{"keys":[]}`},
		{"bad key", `{"keys":[{"keyId":"x","publicKey":"AAAA"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseTrust([]byte(tt.file)); !errors.Is(err, ErrInvalidKey) {
				t.Errorf("got %v, want ErrInvalidKey", err)
			}
		})
	}
}

func TestKeyID(t *testing.T) {
	// The id is the first 16 hex digits of the SHA-256 of the raw key.
	pub := ed25519.PublicKey(make([]byte, 32))
	if got, want := KeyID(pub), "66687aadf862bd77"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
