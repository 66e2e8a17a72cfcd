package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// writeProject writes files (name: content) into a new folder and returns it.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// importDir imports dir and fails the test on an error.
func importDir(t *testing.T, dir string, opts Options) *Plan {
	t.Helper()
	p, err := Import(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("Import(%s): %v", dir, err)
	}
	return p
}

// importCompose imports a project made of one compose.yaml (and more files).
func importCompose(t *testing.T, compose string, more map[string]string) *Plan {
	t.Helper()
	files := map[string]string{"compose.yaml": compose}
	for k, v := range more {
		files[k] = v
	}
	return importDir(t, writeProject(t, files), Options{AppID: "app"})
}

// sampleProject copies testdata/projects/<kind> into a new folder with
// {{registry}} replaced by 127.0.0.1:5000, as the end-to-end test does with
// its own registry.
func sampleProject(t *testing.T, kind string) string {
	t.Helper()
	src := filepath.Join("testdata", "projects", kind)
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = strings.ReplaceAll(string(b), "{{registry}}", "127.0.0.1:5000")
	}
	return writeProject(t, files)
}

// planJSON renders a plan, redacted, as the golden files keep it.
func planJSON(t *testing.T, p *Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p.Redacted()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// golden compares got with testdata/<name>, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./agent/compose -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs (-want +got; go test ./agent/compose -update rewrites it):\n%s", path, diff)
	}
}

// summary is one line of testdata/summary.golden.
func summary(p *Plan) string {
	switch {
	case p.Refused != nil:
		return "refused: " + p.Refused.String()
	case len(p.Permissions) > 0:
		perms := make([]string, len(p.Permissions))
		for i, q := range p.Permissions {
			perms[i] = string(q)
		}
		return "accepted with permissions [" + strings.Join(perms, " ") + "]"
	}
	return "accepted"
}
