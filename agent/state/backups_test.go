package state

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackupRecordsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	box := BoxBackup{Destination: &BackupDestination{Kind: "s3", Endpoint: "http://127.0.0.1:1", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"},
		EveryHours: 24, Retention: Retention{Last: 3, Daily: 7}, UpdatePolicy: UpdateAuto, Window: "03:00-05:00"}
	if err := s.PutBoxBackup(box); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.UpdateAppBackup("hello", func(a *AppBackup) { a.LastBackup, a.LastSnapshot = when, "0123abcd" }); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{}) // verify reads every record back
	gotBox, err := s.BoxBackup()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(box, gotBox); diff != "" {
		t.Errorf("box (-want +got):\n%s", diff)
	}
	apps, err := s.AppBackups()
	if err != nil {
		t.Fatal(err)
	}
	want := []AppBackup{{App: "hello", LastBackup: when, LastSnapshot: "0123abcd"}}
	if diff := cmp.Diff(want, apps); diff != "" {
		t.Errorf("apps (-want +got):\n%s", diff)
	}
	fresh, err := s.AppBackup("other")
	if err != nil || fresh.App != "other" {
		t.Errorf("an app never backed up: got %+v, %v; want the zero record", fresh, err)
	}
}

func TestBackupRecordsAreValidated(t *testing.T) {
	s := openTest(t, Options{})
	for _, tc := range []struct {
		name  string
		put   func() error
		field string
	}{
		{"policy", func() error { return s.PutBoxBackup(BoxBackup{UpdatePolicy: "sometimes"}) }, "updatePolicy"},
		{"window", func() error { return s.PutBoxBackup(BoxBackup{Window: "25:00-01:00"}) }, "window"},
		{"retention", func() error { return s.PutBoxBackup(BoxBackup{Retention: Retention{Daily: -1}}) }, "retention.daily"},
		{"destination", func() error { return s.PutBoxBackup(BoxBackup{Destination: &BackupDestination{Kind: "ftp"}}) }, "destination.kind"},
		{"every", func() error { return s.PutAppBackup(AppBackup{App: "hello", EveryHours: -2}) }, "everyHours"},
		{"app", func() error { return s.PutAppBackup(AppBackup{App: "_box"}) }, "app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.put()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("got %v, want ErrInvalid naming %s", err, tc.field)
			}
		})
	}
}
