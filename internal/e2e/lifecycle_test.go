package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearthbox/hearth/agent/api"
)

// TestLifecycleThroughTheCLI is the owner's whole story with the sample app:
// install, update, roll back, a broken update undone by itself, uninstall.
func TestLifecycleThroughTheCLI(t *testing.T) {
	b := newBox(t)
	b.start("")

	b.ok("app", "install", "hello", "--version", "1.0.0")
	a := b.waitApp("hello", "healthy")
	if a.Version != "1.0.0" || len(a.URLs) == 0 {
		t.Fatalf("got version %s urls %v, want 1.0.0 with a URL", a.Version, a.URLs)
	}
	if _, err := b.web(a, "/write?path=/app/data/marker.txt&data=kept"); err != nil {
		t.Fatalf("write data: %v", err)
	}
	// Through the proxy, on the app's own port, with a certificate from the
	// box's own CA.
	if got, err := b.viaProxy(a, "/read?path=/app/data/marker.txt"); err != nil || got != "kept" {
		t.Errorf("through the proxy: got %q (%v), want %q", got, err, "kept")
	}
	info := b.ok("app", "info", "hello")
	for _, want := range []string{"healthy", "1.0.0", "https://hello."} {
		if !strings.Contains(info, want) {
			t.Errorf("app info says %q, want it to mention %q", info, want)
		}
	}

	// Another name; the old one redirects, and the app keeps its data.
	if out := b.ok("app", "move", "hello", "greeter"); !strings.Contains(out, "https://greeter.hearth.local/") {
		t.Errorf("app move says %q, want the new address", out)
	}
	if _, errOut, code := b.hearth("app", "move", "hello", "Not A Name"); code == 0 || !strings.Contains(errOut, "name") {
		t.Errorf("a bad name: exit %d, %q; want a refusal naming the field", code, errOut)
	}
	b.ok("app", "move", "hello", "hello")

	b.ok("app", "update", "hello")
	a = b.waitApp("hello", "healthy")
	if a.Version != "1.1.0" || a.PreviousVersion != "1.0.0" {
		t.Fatalf("after update: got %s (previous %s), want 1.1.0 (previous 1.0.0)", a.Version, a.PreviousVersion)
	}
	if root, err := b.web(a, "/"); err != nil || !strings.Contains(root, `"1.1"`) {
		t.Errorf("the new version's app answers %q (%v), want version 1.1", root, err)
	}

	b.ok("app", "rollback", "hello")
	a = b.waitApp("hello", "healthy")
	if a.Version != "1.0.0" {
		t.Fatalf("after rollback: got %s, want 1.0.0", a.Version)
	}
	if got, err := b.web(a, "/read?path=/app/data/marker.txt"); err != nil || got != "kept" {
		t.Errorf("data after rollback: got %q (%v), want %q", got, err, "kept")
	}

	// The broken version fails its health check: the update is undone.
	out, errOut, code := b.hearth("app", "update", "hello", "--version", "2.0.0-rc.1")
	if code == 0 {
		t.Fatalf("update to the broken version: exit 0 (%s), want a failure", out)
	}
	if !strings.Contains(errOut, "unhealthy") && !strings.Contains(errOut, "rolled back") && !strings.Contains(errOut, "rolledback") {
		t.Errorf("the failure says %q, want it to say why and that it was undone", errOut)
	}
	a = b.waitApp("hello", "healthy")
	if a.Version != "1.0.0" {
		t.Fatalf("after the failed update: got %s, want the working 1.0.0 back", a.Version)
	}
	if got, err := b.web(a, "/read?path=/app/data/marker.txt"); err != nil || got != "kept" {
		t.Errorf("data after the failed update: got %q (%v), want %q", got, err, "kept")
	}
	var acts []api.Activity
	if err := json.Unmarshal([]byte(b.ok("activity", "--json")), &acts); err != nil {
		t.Fatal(err)
	}
	rolled := false
	for _, e := range acts {
		rolled = rolled || (e.Action == "update" && e.Outcome == "rolledback")
	}
	if !rolled {
		t.Errorf("activity %+v has no rolled back update", acts)
	}

	// Uninstall, keeping the data, then for good.
	b.ok("app", "uninstall", "hello", "--keep-data")
	if _, ok := b.app("hello"); ok {
		t.Fatal("hello still installed after uninstall")
	}
	if got, err := os.ReadFile(filepath.Join(b.dataDir("hello"), "web", "marker.txt")); err != nil || string(got) != "kept" {
		t.Errorf("kept data: got %q (%v)", got, err)
	}
	b.ok("app", "install", "hello", "--version", "1.0.0")
	a = b.waitApp("hello", "healthy")
	if got, err := b.web(a, "/read?path=/app/data/marker.txt"); err != nil || got != "kept" {
		t.Errorf("reinstall over kept data: got %q (%v), want %q", got, err, "kept")
	}
	b.ok("app", "uninstall", "hello")
	if _, err := os.Stat(b.dataDir("hello")); !os.IsNotExist(err) {
		t.Errorf("data folder after uninstall: %v, want it gone", err)
	}
	var apps []api.App
	if err := json.Unmarshal([]byte(b.ok("app", "ls", "--json")), &apps); err != nil || len(apps) != 0 {
		t.Errorf("apps after uninstall: %v (%v), want none", apps, err)
	}
}

// TestTwoServices installs the two-service sample: its web service reaches
// its store by name.
func TestTwoServices(t *testing.T) {
	b := newBox(t)
	b.start("")
	b.ok("app", "install", "duo")
	a := b.waitApp("duo", "healthy")
	for want := 1; want <= 2; want++ {
		got, err := b.web(a, "/peer")
		if err != nil || !strings.Contains(got, string(rune('0'+want))) {
			t.Errorf("visit %d: got %q (%v)", want, got, err)
		}
	}
}
