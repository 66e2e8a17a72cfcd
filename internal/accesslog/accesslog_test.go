package accesslog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/proxy"
	"github.com/hearthbox/hearth/runtime/logfile"
)

func TestOneFilePerRoute(t *testing.T) {
	dir := t.TempDir()
	s := New(dir, 1<<20, 2, nil)
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	entries := []proxy.AccessEntry{
		{Time: t0, RouteID: "hello", Method: "GET", Host: "hello.hearth.local", Path: "/", Status: 200, Bytes: 12, Duration: 1500 * time.Microsecond, RemoteAddr: "192.168.1.5:50000"},
		{Time: t0, RouteID: "notes", Method: "POST", Host: "notes.hearth.local", Path: "/save", Status: 201},
		{Time: t0, RouteID: "", Method: "GET", Host: "nobody.example", Path: "/", Status: 404},
		{Time: t0, RouteID: "../escape", Method: "GET", Host: "x", Path: "/", Status: 404},
	}
	for _, e := range entries {
		s.Write(e)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		file   string
		want   int
		status int
	}{{"hello", 1, 200}, {"notes", 1, 201}, {unmatched, 2, 404}}
	for _, c := range cases {
		var got []line
		err := logfile.Read(context.Background(), s.Path(c.file), logfile.ReadOptions{}, func(e logfile.Entry) error {
			var l line
			if err := json.Unmarshal([]byte(e.Line), &l); err != nil {
				return err
			}
			got = append(got, l)
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if len(got) != c.want || got[0].Status != c.status {
			t.Errorf("%s: got %+v, want %d entries with status %d", c.file, got, c.want, c.status)
		}
	}
}

func TestAppendLineMatchesJSON(t *testing.T) {
	tests := []struct {
		name string
		l    line
	}{
		{"plain", line{Method: "GET", Host: "hello.hearth.local", Path: "/", Status: 200, Bytes: 1024, DurationMS: 1.5, Remote: "192.168.1.5:50000"}},
		{"zero", line{}},
		{"escapes", line{Method: "G\"E\\T", Host: "<a>&b", Path: "/\x00\x01\b\f\n\r\t\x1f\x7f", Remote: "[::1]:1"}},
		{"unicode", line{Path: "/caf\u00e9/\u2028\u2029/\U0001F600", Host: "bad\xff\xfeutf8"}},
		{"tiny and huge durations", line{DurationMS: 0.000001, Bytes: -1, Status: 499}},
		{"huge duration", line{DurationMS: 1e21}},
		{"small duration", line{DurationMS: 1e-7}},
		{"round duration", line{DurationMS: 250}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.l)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendLine(nil, tt.l); string(got) != string(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"hello", true}, {"a", true}, {"0app-1", true}, {"", false}, {"-a", false}, {"A", false},
		{"a_b", false}, {"../x", false}, {strings.Repeat("a", 63), true}, {strings.Repeat("a", 64), false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if got := validID(tt.id); got != tt.want {
				t.Errorf("validID(%q): got %v, want %v", tt.id, got, tt.want)
			}
		})
	}
}

func BenchmarkWrite(b *testing.B) {
	s := New(b.TempDir(), 1<<30, 2, nil)
	b.Cleanup(func() { _ = s.Close() })
	e := proxy.AccessEntry{Time: time.Now(), RouteID: "hello", Method: "GET", Host: "hello.hearth.local", Path: "/index.html",
		Status: 200, Bytes: 1024, Duration: 1500 * time.Microsecond, RemoteAddr: "192.168.1.5:50000"}
	b.ReportAllocs()
	for b.Loop() {
		s.Write(e)
	}
}
