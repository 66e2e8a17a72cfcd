package firstboot

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPublishAndVoid(t *testing.T) {
	dir := t.TempDir()
	var journal bytes.Buffer
	console := filepath.Join(dir, "etc", "issue.d", "hearth.issue")
	c, err := NewCodes(CodesConfig{StateDir: dir, ConsoleFile: console, Logger: slog.New(slog.NewTextHandler(&journal, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Publish(ctx, "ABCD-EFGH-JKMN"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"code file", filepath.Join(dir, CodeFileName), "ABCD-EFGH-JKMN\n"},
		{"console file", console, "Hearth setup code: ABCD-EFGH-JKMN\n"},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			fi, err := os.Stat(cs.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("mode: got %v, want 0600", fi.Mode().Perm())
			}
			b, _ := os.ReadFile(cs.path)
			if !strings.Contains(string(b), cs.want) {
				t.Errorf("got %q, want it to hold %q", b, cs.want)
			}
		})
	}
	if !strings.Contains(journal.String(), "code=ABCD-EFGH-JKMN") {
		t.Errorf("journal: got %q, want a line with the code", journal.String())
	}
	if err := c.Void(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, CodeFileName), console} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s after Void: got %v, want it gone", p, err)
		}
	}
	if err := c.Void(ctx); err != nil {
		t.Errorf("Void twice: got %v, want nil", err)
	}
}

func TestResetMarker(t *testing.T) {
	path := filepath.Join(t.TempDir(), ResetMarkerName)
	cases := []struct {
		name   string
		before func()
		want   bool
	}{
		{"absent", func() {}, false},
		{"present", func() { os.WriteFile(path, nil, 0o644) }, true},
		{"cleared", func() {
			if err := ClearReset(path); err != nil {
				t.Fatal(err)
			}
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.before()
			got, err := ResetRequested(path)
			if err != nil || got != c.want {
				t.Errorf("got %v, %v, want %v", got, err, c.want)
			}
		})
	}
	if got, err := ResetRequested(""); got || err != nil {
		t.Errorf("no path: got %v, %v, want false", got, err)
	}
}
