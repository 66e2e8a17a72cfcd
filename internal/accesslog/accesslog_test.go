package accesslog

import (
	"context"
	"encoding/json"
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
