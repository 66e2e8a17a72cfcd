package compose

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sideFiles are the platform files FuzzImport may put beside the compose
// file, chosen by its second argument.
var sideFiles = []string{"", "umbrel-app.yml", "config.json", ".env.sample", ".env", "base.yaml"}

// FuzzImport imports arbitrary compose files (seeded with both stores and
// the sample projects), with an arbitrary platform file beside them: it
// must never panic nor fail with an error, and what it accepts must be a
// valid manifest. The seeds are the stores' files under 4 KiB and every
// eighth of the others (TestStores imports them all): small inputs mutate
// faster.
func FuzzImport(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "appstores", "*", "Apps", "*", "docker-compose.yml"))
	for i, p := range seeds {
		if b, err := os.ReadFile(p); err == nil && (len(b) < 4096 || i%8 == 0) {
			f.Add(b, uint8(0), []byte(nil))
		}
	}
	for kind, side := range map[string]string{"umbrel": "umbrel-app.yml", "runtipi": "config.json", "coopcloud": ".env.sample"} {
		c, _ := os.ReadFile(filepath.Join("testdata", "projects", kind, "docker-compose.yml"))
		if kind == "coopcloud" {
			c, _ = os.ReadFile(filepath.Join("testdata", "projects", kind, "compose.yml"))
		}
		s, _ := os.ReadFile(filepath.Join("testdata", "projects", kind, side))
		for i, n := range sideFiles {
			if n == side {
				f.Add(c, uint8(i), s)
			}
		}
	}
	f.Add([]byte("services:\n  web:\n    extends: {file: base.yaml, service: b}\n"), uint8(5), []byte("services:\n  b: {image: x}\n"))
	f.Fuzz(func(t *testing.T, compose []byte, which uint8, side []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), compose, 0o644); err != nil {
			t.Fatal(err)
		}
		if n := sideFiles[int(which)%len(sideFiles)]; n != "" {
			if err := os.WriteFile(filepath.Join(dir, n), side, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, err := Import(t.Context(), dir, Options{})
		if err != nil {
			t.Fatalf("Import: %v", err)
		}
		switch {
		case p.Refused == nil && p.Manifest == nil:
			t.Fatal("neither a manifest nor a refusal")
		case p.Refused != nil && p.Refused.Reason == "":
			t.Fatal("a refusal without a reason")
		case p.Manifest != nil:
			if err := p.Manifest.Validate(); err != nil {
				t.Fatalf("an accepted manifest is invalid: %v", err)
			}
		}
		if _, err := json.Marshal(p.Redacted()); err != nil {
			t.Fatalf("the plan does not marshal: %v", err)
		}
	})
}
