package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/backup"
	"github.com/hearthbox/hearth/internal/testenv"
)

const plainMarker = "hearth-e2e-plain-text-9d41"

// backupTo sets up a local destination on box b and returns the recovery
// key the reply carries (once).
func backupTo(t *testing.T, b *box, dir string) string {
	t.Helper()
	out := b.ok("backup", "config", "--local", dir, "--json")
	var reply api.BackupSettingsReply
	if err := json.Unmarshal([]byte(out), &reply); err != nil {
		t.Fatalf("backup config: %v: %s", err, out)
	}
	if reply.RecoveryKey == "" {
		t.Fatalf("the first backup config shows no recovery key: %s", out)
	}
	return reply.RecoveryKey
}

func treeHash(t *testing.T, dir string) string {
	t.Helper()
	h, err := backup.TreeHash(dir)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestBackupRestoreAndNewBox backs the sample app up to a folder, finds no
// plain text there, restores it byte for byte, shows the recovery key only
// once, and brings the app back on a fresh box from the same repository
// with that key (the wizard's restore step, through the API).
func TestBackupRestoreAndNewBox(t *testing.T) {
	testenv.Need(t, "restic")
	repo := filepath.Join(t.TempDir(), "usb")
	b := newBox(t)
	b.start("")
	b.ok("app", "install", "hello", "--version", "1.0.0")
	a := b.waitApp("hello", "healthy")
	if _, err := b.web(a, "/write?path=/app/data/notes.txt&data="+plainMarker); err != nil {
		t.Fatalf("write data: %v", err)
	}
	key := backupTo(t, b, repo)
	var again api.BackupSettingsReply
	if err := json.Unmarshal([]byte(b.ok("backup", "config", "--every", "24", "--json")), &again); err != nil || again.RecoveryKey != "" {
		t.Errorf("a second backup config: key %q (%v), want none: the key is shown once", again.RecoveryKey, err)
	}
	b.ok("backup", "now", "hello")
	a = b.waitApp("hello", "healthy")
	before := treeHash(t, b.dataDir("hello"))
	grepRepo(t, repo, plainMarker)

	var snaps []api.Snapshot
	if err := json.Unmarshal([]byte(b.ok("backup", "ls", "hello", "--json")), &snaps); err != nil || len(snaps) != 1 {
		t.Fatalf("backup ls: %v (%v), want one snapshot", snaps, err)
	}
	if _, err := b.web(a, "/write?path=/app/data/notes.txt&data=changed"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.dataDir("hello"), "web", "extra.txt"), []byte("later"), 0o644); err != nil {
		t.Fatal(err)
	}
	b.ok("backup", "restore", "hello")
	a = b.waitApp("hello", "healthy")
	if got := treeHash(t, b.dataDir("hello")); got != before {
		t.Errorf("data after restore: tree hash %s, want %s as backed up", got, before)
	}
	if got, err := b.web(a, "/read?path=/app/data/notes.txt"); err != nil || got != plainMarker {
		t.Errorf("the restored app reads %q (%v), want %q", got, err, plainMarker)
	}

	// A new box: nothing installed, the owner's destination and key.
	nb := newBox(t)
	nb.start("")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := api.NewClient(nb.socket)
	defer c.CloseIdleConnections()
	if _, err := c.RestoreBox(ctx, api.RestoreBoxRequest{Destination: api.BackupDestination{Kind: "local", Path: repo}, RecoveryKey: "not-the-key-at-all-0000"}); err == nil {
		t.Errorf("RestoreBox with a wrong key: no error")
	}
	ops, err := c.RestoreBox(ctx, api.RestoreBoxRequest{Destination: api.BackupDestination{Kind: "local", Path: repo}, RecoveryKey: key})
	if err != nil || len(ops) != 1 || ops[0].App != "hello" {
		t.Fatalf("RestoreBox: %v (%v), want one restore of hello", ops, err)
	}
	na := nb.waitApp("hello", "healthy")
	if na.Version != "1.0.0" {
		t.Errorf("restored version %s, want 1.0.0", na.Version)
	}
	if got := treeHash(t, nb.dataDir("hello")); got != before {
		t.Errorf("data on the new box: tree hash %s, want %s", got, before)
	}
	if got, err := nb.web(na, "/read?path=/app/data/notes.txt"); err != nil || got != plainMarker {
		t.Errorf("the app on the new box reads %q (%v), want %q", got, err, plainMarker)
	}
}

// TestFailedUpdateRestoresData updates the sample app to its broken
// version: the update is rolled back by itself, with the data folder as it
// was before, and the activity log says so.
func TestFailedUpdateRestoresData(t *testing.T) {
	testenv.Need(t, "restic")
	b := newBox(t)
	b.start("")
	b.ok("app", "install", "hello", "--version", "1.0.0")
	a := b.waitApp("hello", "healthy")
	if _, err := b.web(a, "/write?path=/app/data/marker.txt&data=kept"); err != nil {
		t.Fatal(err)
	}
	// Wait for the app to be still: the hash is of a folder nobody writes.
	b.ok("app", "stop", "hello")
	before := treeHash(t, b.dataDir("hello"))
	b.ok("app", "start", "hello")
	b.waitApp("hello", "healthy")
	if _, _, code := b.hearth("app", "update", "hello", "--version", "2.0.0-rc.1"); code == 0 {
		t.Fatal("update to the broken version: exit 0, want a failure")
	}
	a = b.waitApp("hello", "healthy")
	if a.Version != "1.0.0" {
		t.Fatalf("after the failed update: version %s, want 1.0.0", a.Version)
	}
	b.ok("app", "stop", "hello")
	if got := treeHash(t, b.dataDir("hello")); got != before {
		t.Errorf("data after the rolled back update: tree hash %s, want %s", got, before)
	}
	var acts []api.Activity
	if err := json.Unmarshal([]byte(b.ok("activity", "--json")), &acts); err != nil {
		t.Fatal(err)
	}
	var rolled, restored bool
	for _, e := range acts {
		rolled = rolled || (e.Action == "update" && e.Outcome == "rolledback")
		restored = restored || (e.Action == "update.data" && e.Outcome == "restored")
	}
	if !rolled || !restored {
		t.Errorf("activity %+v: rolled back %v, data restored %v; want both", acts, rolled, restored)
	}
}

// grepRepo fails the test when a file under root holds marker, or when
// there is no file at all.
func grepRepo(t *testing.T, root, marker string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		if strings.Contains(string(data), marker) {
			t.Errorf("%s holds the plain text %q", p, marker)
		}
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("repository %s: %d files (%v)", root, n, err)
	}
}
