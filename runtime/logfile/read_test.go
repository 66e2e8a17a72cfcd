package logfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeNumbered writes lines "from".."to-1", one second apart from t0.
func writeNumbered(t *testing.T, w *Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.WriteLine(t0.Add(time.Duration(i)*time.Second), Stdout, []byte(strconv.Itoa(i)), false); err != nil {
			t.Fatal(err)
		}
	}
}

func numbers(from, to int) []string {
	var s []string
	for i := from; i < to; i++ {
		s = append(s, strconv.Itoa(i))
	}
	return s
}

func TestReadTailSince(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	// Small files, so that the 50 lines span several rotated ones.
	w, err := NewWriter(path, 200, 20)
	if err != nil {
		t.Fatal(err)
	}
	writeNumbered(t, w, 0, 50)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts ReadOptions
		want []string
	}{
		{"all", ReadOptions{}, numbers(0, 50)},
		{"tail 3", ReadOptions{Tail: 3}, numbers(47, 50)},
		{"tail 1", ReadOptions{Tail: 1}, numbers(49, 50)},
		{"tail more than all", ReadOptions{Tail: 80}, numbers(0, 50)},
		{"since", ReadOptions{Since: t0.Add(45 * time.Second)}, numbers(45, 50)},
		{"since between", ReadOptions{Since: t0.Add(44*time.Second + time.Millisecond)}, numbers(45, 50)},
		{"since and tail", ReadOptions{Since: t0.Add(10 * time.Second), Tail: 2}, numbers(48, 50)},
		{"since and tail more", ReadOptions{Since: t0.Add(46 * time.Second), Tail: 10}, numbers(46, 50)},
		{"since after all", ReadOptions{Since: t0.Add(time.Hour)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := lineTexts(readAll(t, path, tc.opts))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.log")
	w, err := NewWriter(path, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	writeNumbered(t, w, 0, 5)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	tests := []struct {
		name string
		path string
		opts ReadOptions
		fn   func(Entry) error
		want error
	}{
		{"missing", filepath.Join(dir, "none.log"), ReadOptions{}, func(Entry) error { return nil }, fs.ErrNotExist},
		{"fn error", path, ReadOptions{}, func(Entry) error { return stop }, stop},
		{"fn error in tail", path, ReadOptions{Tail: 2}, func(Entry) error { return stop }, stop},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := Read(context.Background(), tc.path, tc.opts, tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("got error %v, want %v", err, tc.want)
			}
		})
	}
	if err := Read(context.Background(), path, ReadOptions{Tail: -1}, func(Entry) error { return nil }); err == nil {
		t.Error("tail -1: got no error, want one")
	}
}

// follower runs Read with Follow in a goroutine and hands over what it reads.
type follower struct {
	entries chan Entry
	done    chan error
}

func startFollow(t *testing.T, path string, opts ReadOptions) *follower {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f := &follower{entries: make(chan Entry, 1000), done: make(chan error, 1)}
	opts.Follow = true
	go func() {
		f.done <- Read(ctx, path, opts, func(e Entry) error {
			select {
			case f.entries <- e:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-f.done; !errors.Is(err, context.Canceled) {
			t.Errorf("follow ended with %v, want context.Canceled", err)
		}
	})
	return f
}

// expect reads len(want) lines, then checks that nothing more comes soon.
func (f *follower) expect(t *testing.T, want []string) {
	t.Helper()
	var got []string
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for len(got) < len(want) {
		select {
		case e := <-f.entries:
			got = append(got, e.Line)
		case err := <-f.done:
			t.Fatalf("follow ended early with %v after %q", err, got)
		case <-timeout.C:
			t.Fatalf("timed out: got %q, want %q", got, want)
		}
	}
	quiet := time.NewTimer(3 * pollInterval)
	defer quiet.Stop()
	select {
	case e := <-f.entries:
		got = append(got, e.Line)
	case <-quiet.C:
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("followed lines (-want +got):\n%s", diff)
	}
}

func TestFollow(t *testing.T) {
	// Each entry is 43 bytes: 300-byte files hold 6 of them, so the 20 lines
	// written while following make three rotations.
	tests := []struct {
		name string
		// pause between batches: zero lets both rotations happen between
		// two polls of the follower.
		pause    time.Duration
		maxFiles int
		tail     int
	}{
		{"two rotations between polls", 0, 5, 0},
		{"rotations seen one by one", 2 * pollInterval, 5, 0},
		{"keep one file", 2 * pollInterval, 1, 0},
		{"with tail", 0, 5, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // they mostly wait for polls
			path := filepath.Join(t.TempDir(), "c.log")
			w, err := NewWriter(path, 300, tc.maxFiles)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { w.Close() })
			writeNumbered(t, w, 0, 5)
			f := startFollow(t, path, ReadOptions{Tail: tc.tail})
			if tc.tail > 0 {
				f.expect(t, numbers(5-tc.tail, 5))
			} else {
				f.expect(t, numbers(0, 5))
			}

			// Batches of 4 lines: at most one rotation per batch, so that with
			// a pause even a single kept file is seen before it is removed.
			const step = 4
			for from := 5; from < 25; from += step {
				writeNumbered(t, w, from, min(from+step, 25))
				if tc.pause > 0 {
					pause := time.NewTimer(tc.pause)
					<-pause.C
				}
			}
			f.expect(t, numbers(5, 25))
		})
	}
}

func TestFollowWaitsForFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	f := startFollow(t, path, ReadOptions{})
	pause := time.NewTimer(2 * pollInterval)
	<-pause.C
	w, err := NewWriter(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	writeNumbered(t, w, 0, 3)
	f.expect(t, numbers(0, 3))
}

func TestFollowSkipsUnfinishedLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, 1000, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	// Half an entry, as a reader may see one mid-write; the rest comes later.
	entry := appendEntry(nil, t0, Stdout, []byte("split"), false)
	half := len(entry) / 2
	if _, err := w.f.Write(entry[:half]); err != nil {
		t.Fatal(err)
	}
	f := startFollow(t, path, ReadOptions{})
	pause := time.NewTimer(2 * pollInterval)
	<-pause.C
	if _, err := w.f.Write(entry[half:]); err != nil {
		t.Fatal(err)
	}
	f.expect(t, []string{"split"})
	if got := fmt.Sprint(len(readAll(t, path, ReadOptions{}))); got != "1" {
		t.Errorf("got %s entries, want 1", got)
	}
}

func TestFollowWhileWriting(t *testing.T) {
	// A writer rotating every ~23 lines races the follower's polls; with
	// enough kept files nothing may be lost or repeated.
	const total = 2000
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, 1000, MaxFiles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	f := startFollow(t, path, ReadOptions{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := range total {
			if err := w.WriteLine(t0, Stderr, []byte(strconv.Itoa(i)), false); err != nil {
				t.Error(err)
				return
			}
			if i%50 == 0 {
				<-tick.C
			}
		}
	}()
	f.expect(t, numbers(0, total))
	<-done
}
