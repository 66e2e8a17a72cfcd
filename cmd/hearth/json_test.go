package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// TestJSONOutput checks that --json prints valid JSON equal to what the
// service returned.
func TestJSONOutput(t *testing.T) {
	s := apitest.Sample()
	finished := s.NextOp
	finished.App, finished.Kind, finished.State, finished.Ended = "vaultwarden", "install", "done", finished.Started.Add(time.Minute)
	noWait := s.NextOp
	noWait.App, noWait.Kind = "nextcloud", "restart"
	tests := []struct {
		name string
		args []string
		into func() any // a pointer to decode into
		want any
	}{
		{"status", []string{"status", "--json"}, func() any { return new(api.Status) }, &s.Box},
		{"catalogs", []string{"catalog", "ls", "--json"}, func() any { return new([]api.Catalog) }, &s.CatalogList},
		{"store", []string{"store", "--json"}, func() any { return new([]api.CatalogApp) }, &s.StoreApps},
		{"apps", []string{"app", "ls", "--json"}, func() any { return new([]api.App) }, &s.Installed},
		{"app", []string{"app", "info", "nextcloud", "--json"}, func() any { return new(api.App) }, &s.Installed[0]},
		{"activity", []string{"activity", "--json"}, func() any { return new([]api.Activity) }, &s.ActivityLog},
		{"install waits", []string{"app", "install", "vaultwarden", "--json"}, func() any { return new(api.Operation) }, &finished},
		{"no wait", []string{"app", "restart", "nextcloud", "--json", "--no-wait"}, func() any { return new(api.Operation) }, &noWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hearth(hearthd(t, apitest.Sample()), tt.args...)
			if r.code != 0 {
				t.Fatalf("got exit %d, stderr %q, want 0", r.code, r.stderr)
			}
			got := tt.into()
			dec := json.NewDecoder(strings.NewReader(r.stdout))
			dec.DisallowUnknownFields()
			if err := dec.Decode(got); err != nil {
				t.Fatalf("stdout %q: %v", r.stdout, err)
			}
			if dec.More() {
				t.Errorf("stdout %q: more than one JSON value", r.stdout)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("JSON (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLogsJSONFollow checks that a followed log prints the lines that come
// after the canned ones, one JSON object a line, and ends with the stream.
func TestLogsJSONFollow(t *testing.T) {
	f := apitest.Sample()
	live := api.LogLine{Time: apitest.T0.Add(time.Minute), Service: "web", Stream: "stdout", Line: "live"}
	f.Follow = make(chan api.LogLine, 1)
	f.Follow <- live
	close(f.Follow)
	r := hearth(hearthd(t, f), "app", "logs", "nextcloud", "-f", "--json")
	if r.code != 0 {
		t.Fatalf("got exit %d, stderr %q, want 0", r.code, r.stderr)
	}
	var got []api.LogLine
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	for dec.More() {
		var l api.LogLine
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("stdout %q: %v", r.stdout, err)
		}
		got = append(got, l)
	}
	want := append(apitest.Sample().LogLines, live)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if n := strings.Count(r.stdout, "\n"); n != len(want) {
		t.Errorf("got %d lines, want %d (one object a line)", n, len(want))
	}
}
