package catalog

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// amd64Only resolves the digests of linux/amd64 images and fails for every
// other platform, as a registry that lacks an arm64 image would.
func amd64Only(_ context.Context, ref, platform string) (string, error) {
	if platform != "linux/amd64" {
		return "", fmt.Errorf("%s: no image for %s", ref, platform)
	}
	return "sha256:" + strings.Repeat("ab", 32), nil
}

func TestBuildSignVerify(t *testing.T) {
	key := newTestKey(t)
	var logs bytes.Buffer
	payload, err := Build(context.Background(), "testdata/src", testMeta("test", t0()), amd64Only,
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	env, err := Sign(payload, key.priv)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := Verify(env, trustOf(key), nil, t0())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]string{}
	for _, a := range cat.Apps {
		for _, v := range a.Versions {
			got[a.ID+"@"+v.Version] = v.Manifest.Services["web"].Image.Platforms
		}
	}
	pinned := map[string]string{"linux/amd64": "sha256:" + strings.Repeat("ab", 32), "linux/arm64": ""}
	want := map[string]map[string]string{"hello@1.2.0": pinned, "notes@2.0.0": pinned, "notes@1.0.0": pinned}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("platforms (-want +got):\n%s", diff)
	}
	if n := strings.Count(logs.String(), "digest not resolved"); n != 3 {
		t.Errorf("got %d warnings about unresolved digests, want 3 (one per arm64 image):\n%s", n, logs.String())
	}
	if a, _ := cat.App("hello"); !strings.HasPrefix(a.Icon, "data:image/svg+xml;base64,") {
		t.Errorf("got icon %.40q, want an SVG data URL", a.Icon)
	}
}

// TestBuildGolden pins the payload format: a change to it shows in the diff
// of testdata/build.golden (go test ./agent/catalog -update rewrites it).
func TestBuildGolden(t *testing.T) {
	payload, err := Build(context.Background(), "testdata/src", testMeta("test", t0()), amd64Only, nil)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "build.golden")
	if *update {
		if err := os.WriteFile(golden, payload, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(payload)); diff != "" {
		t.Errorf("payload differs from %s (-want +got):\n%s", golden, diff)
	}
	again, err := Build(context.Background(), "testdata/src", testMeta("test", t0()), amd64Only, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(payload, again) {
		t.Error("two builds of the same tree differ")
	}
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(t *testing.T, dir string)
		files []string // each must be named in the error
	}{
		{"release.json missing", func(t *testing.T, dir string) {
			remove(t, dir, "hello/release.json")
		}, []string{"hello/release.json"}},
		{"published missing", func(t *testing.T, dir string) {
			write(t, dir, "hello/release.json", `{"security": true}`)
		}, []string{"hello/release.json: published: missing"}},
		{"unknown field in release.json", func(t *testing.T, dir string) {
			write(t, dir, "hello/release.json", `{"published": "2026-01-01T00:00:00Z", "securty": true}`)
		}, []string{"hello/release.json", "securty"}},
		{"manifest id is not the folder", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "hello"), filepath.Join(dir, "hullo")); err != nil {
				t.Fatal(err)
			}
		}, []string{"hullo/manifest.json: id"}},
		{"version folder is not the version", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "notes/versions/1.0.0"), filepath.Join(dir, "notes/versions/1.0.1")); err != nil {
				t.Fatal(err)
			}
		}, []string{"notes/versions/1.0.1/manifest.json: version"}},
		{"invalid manifest", func(t *testing.T, dir string) {
			edit(t, dir, "notes/manifest.json", `"category": "other"`, `"category": "games"`)
		}, []string{"notes/manifest.json: category"}},
		{"icon missing", func(t *testing.T, dir string) {
			remove(t, dir, "hello/icon.svg")
		}, []string{"hello/icon.svg"}},
		{"bad folder name", func(t *testing.T, dir string) {
			if err := os.Mkdir(filepath.Join(dir, "Bad_App"), 0o755); err != nil {
				t.Fatal(err)
			}
		}, []string{"Bad_App"}},
		{"every problem at once", func(t *testing.T, dir string) {
			remove(t, dir, "hello/release.json")
			remove(t, dir, "notes/icon.svg")
		}, []string{"hello/release.json", "notes/icon.svg"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/src")); err != nil {
				t.Fatal(err)
			}
			tt.edit(t, dir)
			_, err := Build(context.Background(), dir, testMeta("test", t0()), nil, nil)
			if !errors.Is(err, ErrBuild) {
				t.Fatalf("got %v, want ErrBuild", err)
			}
			for _, f := range tt.files {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("error %q does not name %q", err, f)
				}
			}
		})
	}
}

func TestBuildMeta(t *testing.T) {
	tests := []struct {
		name string
		meta BuildMeta
	}{
		{"bad id", BuildMeta{ID: "Official", Title: "T", Timestamp: t0(), Expires: t0().AddDate(1, 0, 0)}},
		{"no title", BuildMeta{ID: "test", Timestamp: t0(), Expires: t0().AddDate(1, 0, 0)}},
		{"no timestamp", BuildMeta{ID: "test", Title: "T", Expires: t0()}},
		{"expires before timestamp", BuildMeta{ID: "test", Title: "T", Timestamp: t0(), Expires: t0()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Build(context.Background(), "testdata/src", tt.meta, nil, nil); !errors.Is(err, ErrInvalidSource) {
				t.Errorf("got %v, want ErrInvalidSource", err)
			}
		})
	}
}

func TestSignErrors(t *testing.T) {
	k := newTestKey(t)
	tests := []struct {
		name    string
		payload []byte
		keys    [][]byte
		want    error
	}{
		{"empty payload", nil, [][]byte{k.priv}, ErrInvalidSource},
		{"no key", []byte("{}"), nil, ErrInvalidKey},
		{"short key", []byte("{}"), [][]byte{k.priv[:32]}, ErrInvalidKey},
		{"same key twice", []byte("{}"), [][]byte{k.priv, k.priv}, ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var keys []ed25519.PrivateKey
			for _, b := range tt.keys {
				keys = append(keys, b)
			}
			if _, err := Sign(tt.payload, keys...); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.Remove(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, dir, name, old, new string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s does not contain %q", name, old)
	}
	write(t, dir, name, strings.Replace(string(b), old, new, 1))
}
