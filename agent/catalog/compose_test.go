package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/agent/manifest"
)

// TestBuildComposeKind builds a catalog whose app is a compose project
// rather than a manifest: it is translated once, at build time.
func TestBuildComposeKind(t *testing.T) {
	src := t.TempDir()
	app := filepath.Join(src, "duo")
	if err := os.MkdirAll(app, 0o755); err != nil {
		t.Fatal(err)
	}
	project := filepath.Join("..", "compose", "testdata", "projects", "plain")
	for _, f := range []string{"compose.yaml", "icon.svg"} {
		b, err := os.ReadFile(filepath.Join(project, f))
		if err != nil {
			t.Fatal(err)
		}
		b = []byte(strings.ReplaceAll(string(b), "{{registry}}", "registry.example"))
		if err := os.WriteFile(filepath.Join(app, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(app, releaseFile), []byte(`{"published": "2026-11-01T00:00:00Z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	payload, err := Build(context.Background(), src, BuildMeta{ID: "test", Title: "Test", Timestamp: t0(), Expires: t0().AddDate(1, 0, 0)}, nil, nil)
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	p, err := decodePayload(payload)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newCatalog(p)
	if err != nil {
		t.Fatal(err)
	}
	a, ok := c.App("duo")
	if !ok {
		t.Fatalf("got apps %+v, want duo", c.Apps)
	}
	m := a.Latest().Manifest
	if m.Origin != manifest.OriginCompose || len(m.Services) != 2 {
		t.Fatalf("got origin %q and %d services, want a compose manifest with 2", m.Origin, len(m.Services))
	}
	if _, _, ok := m.HTTPService(); !ok {
		t.Error("the imported app has no web entry")
	}
}
