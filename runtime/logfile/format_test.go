package logfile

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// t0 is a fixed time for entries whose time matters.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

type writeCase struct {
	t       time.Time
	stream  string
	line    string
	partial bool
}

var roundTripLines = []writeCase{
	{t0, Stdout, "hello world", false},
	{t0.Add(time.Millisecond), Stderr, "an error: with  two spaces ", false},
	{t0.Add(2 * time.Millisecond), Stdout, "", false},
	{t0.Add(3 * time.Millisecond), Stdout, "carriage\rreturn and tab\t", false},
	{t0.Add(4 * time.Second), Stderr, "ünïcödé ✓", false},
	{t0.Add(5 * time.Second), Stdout, "first half", true},
	{t0.Add(5 * time.Second), Stdout, "second half", false},
	// A local time is stored in UTC.
	{t0.In(time.FixedZone("CET", 3600)).Add(6 * time.Second), Stdout, "zoned", false},
	// A round second: RFC3339Nano drops the fraction.
	{time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Stderr, "round", false},
}

func TestFormatGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.log")
	w, err := NewWriter(path, 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range roundTripLines {
		if err := w.WriteLine(l.t, l.stream, []byte(l.line), l.partial); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "format.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("log file differs from %s (-want +got):\n%s", golden, diff)
	}
}

func TestRoundTrip(t *testing.T) {
	long := strings.Repeat("x", 2*MaxLineBytes+10)
	tests := []struct {
		name  string
		lines []writeCase
		want  []Entry
	}{
		{
			name:  "assorted",
			lines: roundTripLines,
			want: func() []Entry {
				var es []Entry
				for _, l := range roundTripLines {
					es = append(es, Entry{Time: l.t.UTC(), Stream: l.stream, Line: l.line, Partial: l.partial})
				}
				return es
			}(),
		},
		{
			name:  "long line split",
			lines: []writeCase{{t0, Stderr, long, false}},
			want: []Entry{
				{Time: t0, Stream: Stderr, Line: long[:MaxLineBytes], Partial: true},
				{Time: t0, Stream: Stderr, Line: long[MaxLineBytes : 2*MaxLineBytes], Partial: true},
				{Time: t0, Stream: Stderr, Line: long[2*MaxLineBytes:]},
			},
		},
		{
			name:  "exactly max",
			lines: []writeCase{{t0, Stdout, long[:MaxLineBytes], false}},
			want:  []Entry{{Time: t0, Stream: Stdout, Line: long[:MaxLineBytes]}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.log")
			w, err := NewWriter(path, 1<<20, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range tc.lines {
				if err := w.WriteLine(l.t, l.stream, []byte(l.line), l.partial); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := readAll(t, path, ReadOptions{})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("read back (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWriteLineErrors(t *testing.T) {
	w, err := NewWriter(filepath.Join(t.TempDir(), "c.log"), 1<<20, 1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stream string
		line   string
		want   string
	}{
		{"bad stream", "stdin", "x", `stream "stdin"`},
		{"newline", Stdout, "a\nb", "newline"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := w.WriteLine(t0, tc.stream, []byte(tc.line), false)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteLine(t0, Stdout, nil, false); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: got %v, want ErrClosed", err)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		want    Entry
		wantErr bool
	}{
		{"full", "2025-03-14T15:09:26.535897932Z stdout F hi there\n", Entry{Time: t0, Stream: Stdout, Line: "hi there"}, false},
		{"partial no newline", "2025-03-14T15:09:26.535897932Z stderr P a", Entry{Time: t0, Stream: Stderr, Line: "a", Partial: true}, false},
		{"empty text", "2025-03-14T15:09:26.535897932Z stdout F \n", Entry{Time: t0, Stream: Stdout}, false},
		{"no text", "2025-03-14T15:09:26.535897932Z stdout F\n", Entry{}, true},
		{"bad time", "yesterday stdout F x\n", Entry{}, true},
		{"bad stream", "2025-03-14T15:09:26.535897932Z stdin F x\n", Entry{}, true},
		{"bad tag", "2025-03-14T15:09:26.535897932Z stdout X x\n", Entry{}, true},
		{"empty", "", Entry{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseLine([]byte(tc.line))
			if tc.wantErr {
				if !errors.Is(err, ErrBadLine) {
					t.Errorf("got error %v, want ErrBadLine", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("entry (-want +got):\n%s", diff)
			}
		})
	}
}

// readAll reads the whole log without following.
func readAll(t *testing.T, path string, opts ReadOptions) []Entry {
	t.Helper()
	var got []Entry
	err := Read(context.Background(), path, opts, func(e Entry) error {
		got = append(got, e)
		return nil
	})
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got
}

// lineTexts returns the Line of each entry.
func lineTexts(es []Entry) []string {
	var s []string
	for _, e := range es {
		s = append(s, e.Line)
	}
	return s
}
