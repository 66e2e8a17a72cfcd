package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// copyProject copies a compose project written for the tests into a
// temporary folder, pointing its images at the sample registry.
func copyProject(t *testing.T, b *box, name string) string {
	t.Helper()
	src := filepath.Join("..", "..", "agent", "compose", "testdata", "projects", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = []byte(strings.ReplaceAll(string(data), "{{registry}}", b.sh.samples.RegistryHost))
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy project %s: %v", name, err)
	}
	return dst
}

// TestComposeProjects installs the sample compose projects of each style:
// a web service that waits for a healthy store, reaches it by name, and
// keeps the store's named volume across an update.
func TestComposeProjects(t *testing.T) {
	for _, kind := range []string{"plain", "casaos", "umbrel", "runtipi", "coopcloud"} {
		t.Run(kind, func(t *testing.T) {
			b := newBox(t)
			b.start("")
			dir := copyProject(t, b, kind)
			plan := b.ok("app", "import", "--dry-run", dir)
			if !strings.Contains(plan, "web entry") {
				t.Errorf("dry run says %q, want the web entry", plan)
			}
			b.ok("app", "install", dir)
			var id string
			for _, line := range strings.Split(b.ok("app", "ls"), "\n")[1:] {
				if f := strings.Fields(line); len(f) > 0 {
					id = f[0]
				}
			}
			if id == "" {
				t.Fatal("no app after the install")
			}
			a := b.waitApp(id, "healthy")
			for want := 1; want <= 2; want++ {
				got, err := b.web(a, "/peer")
				if err != nil || strings.TrimSpace(got) != string(rune('0'+want)) {
					t.Fatalf("visit %d: got %q (%v)", want, got, err)
				}
			}
			// An update (the same project imported again) keeps the store's data.
			b.ok("app", "update", id, "--from", dir)
			a = b.waitApp(id, "healthy")
			if got, err := b.web(a, "/peer"); err != nil || strings.TrimSpace(got) != "3" {
				t.Errorf("after the update: got %q (%v), want the count to go on at 3", got, err)
			}
		})
	}
}
