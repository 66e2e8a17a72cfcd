package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrashAtEveryStep stops hearthd dead (SIGKILL from a fault point that
// only test builds have) before and after every step of install, update,
// uninstall, backup and restore, starts it again, and checks that the app
// reaches the intended end state with its data folder unchanged (restored,
// for a restore).
func TestCrashAtEveryStep(t *testing.T) {
	type crash struct {
		kind, step string
	}
	var cases []crash
	for _, c := range []struct {
		kind  string
		steps []string
	}{
		{"install", []string{"prepare", "pull", "start", "verify"}},
		{"update", []string{"pull", "backup", "switch", "verify"}},
		{"uninstall", []string{"stop", "remove"}},
		{"backup", []string{"stop", "copy", "start", "prune"}},
		{"restore", []string{"fetch", "stop", "pull", "swap", "start"}},
	} {
		for _, s := range c.steps {
			cases = append(cases, crash{c.kind, s + "/before"}, crash{c.kind, s + "/after"})
		}
	}
	for _, c := range cases {
		t.Run(c.kind+"/"+c.step, func(t *testing.T) {
			b := newBox(t)
			fault := c.kind + "/" + c.step
			marker := filepath.Join(b.dataDir("hello"), "web", "marker.txt")
			if c.kind != "install" {
				b.start("")
				b.ok("app", "install", "hello", "--version", "1.0.0")
				b.waitApp("hello", "healthy")
				if err := os.WriteFile(marker, []byte("kept"), 0o644); err != nil {
					t.Fatal(err)
				}
				if c.kind == "backup" || c.kind == "restore" {
					b.ok("backup", "config", "--local", filepath.Join(b.dir, "usb"))
				}
				if c.kind == "restore" {
					b.ok("backup", "now", "hello")
					b.waitApp("hello", "healthy")
					if err := os.WriteFile(marker, []byte("changed after the backup"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				b.stop()
			}
			b.start(fault)
			switch c.kind {
			case "install":
				b.hearth("app", "install", "hello", "--version", "1.0.0", "--no-wait")
			case "update":
				b.hearth("app", "update", "hello", "--no-wait")
			case "uninstall":
				b.hearth("app", "uninstall", "hello", "--keep-data", "--no-wait")
			case "backup":
				b.hearth("backup", "now", "hello", "--no-wait")
			case "restore":
				b.hearth("backup", "restore", "hello", "--no-wait")
			}
			b.waitDeath()
			b.start("")
			switch c.kind {
			case "install":
				a := b.waitApp("hello", "healthy")
				if a.Version != "1.0.0" {
					t.Errorf("got version %s, want 1.0.0", a.Version)
				}
			case "update":
				a := b.waitApp("hello", "healthy")
				if a.Version != "1.1.0" {
					t.Errorf("got version %s, want the update finished at 1.1.0", a.Version)
				}
			case "uninstall":
				waitGone(t, b, "hello")
			case "backup", "restore":
				b.waitApp("hello", "healthy")
				if out := b.ok("backup", "ls", "hello"); !strings.Contains(out, "hello") {
					t.Errorf("backup ls after the crash: %q, want a snapshot of hello", out)
				}
				if _, err := os.Stat(filepath.Join(b.dir, "apps", ".restore-hello")); !os.IsNotExist(err) {
					t.Errorf("the restore's work folder is left: %v", err)
				}
			}
			if c.kind != "install" {
				if got, err := os.ReadFile(marker); err != nil || string(got) != "kept" {
					t.Errorf("data after the crash: got %q (%v), want it unchanged", got, err)
				}
			}
		})
	}
}

func waitGone(t *testing.T, b *box, app string) {
	t.Helper()
	for i := 0; i < 300; i++ {
		if _, ok := b.app(app); !ok {
			return
		}
		sleep()
	}
	t.Fatalf("app %s still installed\n%s", app, b.log)
}
