package logfile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRotation(t *testing.T) {
	const lines = 200
	tests := []struct {
		name     string
		maxBytes int64
		maxFiles int
	}{
		{"one file", 300, 1},
		{"two files", 300, 2},
		{"five files", 500, 5},
		{"line bigger than max", 10, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.log")
			w, err := NewWriter(path, tc.maxBytes, tc.maxFiles)
			if err != nil {
				t.Fatal(err)
			}
			var longest int64
			for i := range lines {
				line := []byte(fmt.Sprintf("line %d", i))
				if n := int64(len(appendEntry(nil, t0, Stdout, line, false))); n > longest {
					longest = n
				}
				if err := w.WriteLine(t0, Stdout, line, false); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}

			ents, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, e := range ents {
				names = append(names, e.Name())
				fi, err := e.Info()
				if err != nil {
					t.Fatal(err)
				}
				if limit := max(tc.maxBytes, longest); fi.Size() > limit {
					t.Errorf("%s: got size %d, want <= %d", e.Name(), fi.Size(), limit)
				}
				if got := fi.Mode().Perm(); got != 0o640 {
					t.Errorf("%s: got mode %v, want 0640", e.Name(), got)
				}
			}
			wantNames := []string{"c.log"}
			for i := 1; i < tc.maxFiles; i++ {
				wantNames = append(wantNames, "c.log."+strconv.Itoa(i))
			}
			if diff := cmp.Diff(wantNames, names); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}

			// What is left is the newest lines, in order, without gaps.
			got := lineTexts(readAll(t, path, ReadOptions{}))
			if len(got) == 0 {
				t.Fatal("got no lines, want the newest ones")
			}
			var want []string
			for i := lines - len(got); i < lines; i++ {
				want = append(want, fmt.Sprintf("line %d", i))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriterReopenAppendsAndRemovesStale(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	w, err := NewWriter(path, 100, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := w.WriteLine(t0, Stdout, []byte(strconv.Itoa(i)), false); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	before := readAll(t, path, ReadOptions{})

	// Reopened with fewer files: c.log.2 and c.log.3 go, c.log is appended to.
	w, err = NewWriter(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine(t0, Stdout, []byte("after"), false); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"c.log.2", "c.log.3"} {
		if _, err := os.Stat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s: got stat error %v, want not exist", name, err)
		}
	}
	got := lineTexts(readAll(t, path, ReadOptions{}))
	if got[len(got)-1] != "after" || got[len(got)-2] != before[len(before)-1].Line {
		t.Errorf("got lines %q, want the old ones then %q", got, "after")
	}
}

func TestWriterRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "target")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "c.log")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	if w, err := NewWriter(path, 100, 1); err == nil {
		w.Close()
		t.Fatal("got no error opening a symbolic link, want one")
	}
}

func TestNewWriterErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	tests := []struct {
		name     string
		path     string
		maxBytes int64
		maxFiles int
		want     string
	}{
		{"empty path", "", 10, 1, "path"},
		{"zero bytes", path, 0, 1, "maxBytes"},
		{"zero files", path, 10, 0, "maxFiles"},
		{"too many files", path, 10, MaxFiles + 1, "maxFiles"},
		{"missing dir", filepath.Join(path, "nope", "c.log"), 10, 1, "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, err := NewWriter(tc.path, tc.maxBytes, tc.maxFiles)
			if err == nil {
				w.Close()
				t.Fatalf("got no error, want one naming %s", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %q, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestWriterConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, 4096, 50)
	if err != nil {
		t.Fatal(err)
	}
	const per = 300
	var wg sync.WaitGroup
	for _, s := range []string{Stdout, Stderr} {
		wg.Go(func() {
			for i := range per {
				if err := w.WriteLine(t0, s, []byte(strconv.Itoa(i)), false); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	byStream := map[string][]string{}
	for _, e := range readAll(t, path, ReadOptions{}) {
		byStream[e.Stream] = append(byStream[e.Stream], e.Line)
	}
	var want []string
	for i := range per {
		want = append(want, strconv.Itoa(i))
	}
	for _, s := range []string{Stdout, Stderr} {
		if diff := cmp.Diff(want, byStream[s]); diff != "" {
			t.Errorf("%s lines (-want +got):\n%s", s, diff)
		}
	}
}
