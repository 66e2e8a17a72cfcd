package catalog

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/manifest"
)

// embeddedPayload returns the payload of the embedded envelope, unverified,
// to learn its timestamps.
func embeddedPayload(t *testing.T, env []byte) ([]byte, *payloadJSON) {
	t.Helper()
	var e envelopeJSON
	if err := json.Unmarshal(env, &e); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(e.Payload)
	if err != nil {
		t.Fatal(err)
	}
	p, err := decodePayload(payload)
	if err != nil {
		t.Fatal(err)
	}
	return payload, p
}

// TestEmbedded proves the committed envelope verifies with the committed key
// and lists at least 25 apps, each with valid manifests (Verify parses every
// one), an icon and both platforms.
func TestEmbedded(t *testing.T) {
	src, env, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if src.ID != OfficialID || !src.Official || !strings.HasPrefix(src.URL, "https://") {
		t.Errorf("got source %s official=%v url=%s, want %s, official, https", src.ID, src.Official, src.URL, OfficialID)
	}
	_, p := embeddedPayload(t, env)
	m := NewManager(Config{Now: func() time.Time { return p.Timestamp }})
	if err := m.Load(src, env, nil); err != nil {
		t.Fatalf("the embedded catalog does not verify: %v", err)
	}
	cat, _ := m.Catalog(OfficialID)
	if !cat.Official {
		t.Error("the embedded catalog is not marked official")
	}
	if got := p.Expires.Sub(p.Timestamp); got < 364*24*time.Hour || got > 367*24*time.Hour {
		t.Errorf("the embedded catalog is valid for %s, want one year", got)
	}
	if len(cat.Apps) < 25 {
		t.Errorf("the embedded catalog lists %d apps, want at least 25", len(cat.Apps))
	}
	for _, a := range cat.Apps {
		if !strings.HasPrefix(a.Icon, "data:image/svg+xml;base64,") {
			t.Errorf("app %s: icon is not an SVG data URL", a.ID)
		}
		for _, v := range a.Versions {
			if _, _, ok := v.Manifest.HTTPService(); !ok && !v.Manifest.Has(manifest.PermPorts) {
				t.Errorf("app %s %s: no web entry", a.ID, v.Version)
			}
			for name, s := range v.Manifest.Services {
				for _, plat := range []string{manifest.PlatformAMD64, manifest.PlatformARM64} {
					if _, ok := s.Image.Platforms[plat]; !ok {
						t.Errorf("app %s %s: service %s does not list %s", a.ID, v.Version, name, plat)
					}
				}
				if s.HealthCheck == nil {
					t.Errorf("app %s %s: service %s has no health check", a.ID, v.Version, name)
				}
			}
		}
	}
}

// TestEmbeddedMatchesSource fails when official/src was changed without
// rebuilding and re-signing official.json.
func TestEmbeddedMatchesSource(t *testing.T) {
	_, env, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	payload, p := embeddedPayload(t, env)
	meta := BuildMeta{ID: p.ID, Title: p.Title, Timestamp: p.Timestamp, Expires: p.Expires}
	rebuilt, err := Build(context.Background(), filepath.Join("official", "src"), meta, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(rebuilt, payload) {
		t.Error("official/official.json is not the build of official/src: rebuild and re-sign it (docs/catalog.md)")
	}
}

// TestNoPrivateKeyCommitted guards the rule that the official signing key
// never enters the repository.
func TestNoPrivateKeyCommitted(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds a private key", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
