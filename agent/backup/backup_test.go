package backup

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const marker = "hearth-plain-text-marker-7f3a"

// writeTree makes an app's data folder with text holding marker, a random
// file, an empty one, nested folders and a symbolic link.
func writeTree(t *testing.T, dir string) {
	t.Helper()
	random := make([]byte, 300<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"web/notes.txt":        []byte("the owner's notes: " + marker + "\n"),
		"web/photos/a.bin":     random,
		"db/empty":             nil,
		"db/deep/er/still.txt": []byte(marker + marker),
	}
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("notes.txt", filepath.Join(dir, "web", "link")); err != nil {
		t.Fatal(err)
	}
}

// TestDestinations runs the same story against a folder, versitygw (S3)
// and sshd (SFTP), all real: init (twice), back up, find no plain text at
// the destination, list, back up again, restore byte for byte, forget,
// check.
func TestDestinations(t *testing.T) {
	for _, kind := range []string{KindLocal, KindS3, KindSFTP} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			c := newClient(t)
			var dest Destination
			var stored string // where the destination's bytes are
			switch kind {
			case KindLocal:
				stored = filepath.Join(t.TempDir(), "usb")
				dest = Destination{Kind: KindLocal, Path: stored}
			case KindS3:
				dest, stored = startS3(t)
			case KindSFTP:
				dest, stored = startSFTP(t, c)
			}
			for i := 0; i < 2; i++ {
				if err := c.Init(ctx, dest); err != nil {
					t.Fatalf("init %d: %v", i+1, err)
				}
			}
			root := t.TempDir()
			writeTree(t, filepath.Join(root, "notes"))
			want, err := TreeHash(filepath.Join(root, "notes"))
			if err != nil {
				t.Fatal(err)
			}
			meta := Meta{Version: "1.0.0", Manifest: json.RawMessage(`{"id":"notes"}`),
				Settings: map[string]string{"greeting": "hi"}, Secrets: map[string]string{"token": marker}, Time: time.Unix(1700000000, 0).UTC()}
			var progressed bool
			first, err := c.Backup(ctx, dest, Request{App: "notes", DataRoot: root, Meta: meta, Tags: []string{"reason:manual"},
				Progress: func(Status) { progressed = true }})
			if err != nil {
				t.Fatalf("backup: %v", err)
			}
			_ = progressed // restic reports status only on long backups
			if first.App != "notes" || first.Host != "testbox" || first.Files != 5 {
				t.Errorf("got snapshot %+v, want app notes, host testbox, 5 files", first)
			}
			if _, err := os.Stat(filepath.Join(root, "notes"+MetaSuffix)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("metadata file left next to the data folder: %v", err)
			}
			grepTree(t, stored, marker)

			if err := os.WriteFile(filepath.Join(root, "notes", "web", "notes.txt"), []byte("changed"), 0o640); err != nil {
				t.Fatal(err)
			}
			second, err := c.Backup(ctx, dest, Request{App: "notes", DataRoot: root, Meta: meta})
			if err != nil {
				t.Fatalf("second backup: %v", err)
			}
			if second.Added >= first.Added {
				t.Errorf("incremental backup added %d bytes, want less than the first's %d", second.Added, first.Added)
			}
			snaps, err := c.Snapshots(ctx, dest, "notes")
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, s := range snaps {
				ids = append(ids, s.ShortID)
			}
			if diff := cmp.Diff([]string{first.ShortID, second.ShortID}, ids); diff != "" {
				t.Errorf("snapshots (-want +got):\n%s", diff)
			}

			staging := filepath.Join(t.TempDir(), "staging")
			got, err := c.Restore(ctx, dest, first.ID, "notes", staging)
			if err != nil {
				t.Fatalf("restore: %v", err)
			}
			if h, err := TreeHash(got.Dir); err != nil || h != want {
				t.Errorf("restored tree hash %s (%v), want %s", h, err, want)
			}
			meta.Format, meta.App = MetaFormat, "notes"
			if diff := cmp.Diff(meta, got.Meta); diff != "" {
				t.Errorf("restored metadata (-want +got):\n%s", diff)
			}

			if err := c.Forget(ctx, dest, "notes", Retention{Last: 1}); err != nil {
				t.Fatalf("forget: %v", err)
			}
			snaps, err = c.Snapshots(ctx, dest, "notes")
			if err != nil || len(snaps) != 1 || snaps[0].ShortID != second.ShortID {
				t.Errorf("after forget --keep-last 1: got %+v (%v), want only %s", snaps, err, second.ShortID)
			}
			if err := c.Check(ctx, dest, kind == KindLocal); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// TestWrongKeyIsRefused opens a repository with another box's key.
func TestWrongKeyIsRefused(t *testing.T) {
	ctx := context.Background()
	a, b := newClient(t), newClient(t)
	dest := Destination{Kind: KindLocal, Path: filepath.Join(t.TempDir(), "repo")}
	if err := a.Init(ctx, dest); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.EnsureKey(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Snapshots(ctx, dest, ""); !errors.Is(err, ErrRestic) {
		t.Errorf("got %v, want ErrRestic for a wrong key", err)
	}
	key, _, err := a.EnsureKey()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.SetKey(key, true); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Snapshots(ctx, dest, ""); err != nil {
		t.Errorf("with the recovery key: %v", err)
	}
}
