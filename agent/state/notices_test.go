package state

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNoticesRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	s := openAt(t, path, Options{})
	if got, err := s.Notices(); err != nil || len(got) != 0 {
		t.Fatalf("before any write: got %v, %v; want none", got, err)
	}
	smtp := SMTP{Host: "mail.example.net", Port: 587, Security: "starttls", User: "box", Password: "pw", From: "box@example.net", To: []string{"me@example.net"}}
	if err := s.PutSMTP(smtp); err != nil {
		t.Fatalf("PutSMTP: %v", err)
	}
	a := Notice{ID: "0000000000000001", Kind: "app-oom", App: "photos", Title: "photos ran out of memory", Body: "line 1\nline 2", Time: t0, Count: 1, Mail: "pending", NextTry: t0}
	b := Notice{ID: "0000000000000002", Kind: "disk-full", Title: "The disk is almost full", Time: t0, Count: 1}
	for _, n := range []Notice{a, b} {
		if err := s.PutNotice(n); err != nil {
			t.Fatalf("PutNotice: %v", err)
		}
	}
	a.Mail, a.NextTry = "sent", zeroTime
	if err := s.PutNotice(a); err != nil {
		t.Fatalf("PutNotice again: %v", err)
	}
	before := writes(s)
	if err := s.PutNotice(a); err != nil {
		t.Fatal(err)
	}
	if w := writes(s); w != before {
		t.Errorf("the same notice again wrote %d pages, want none", w-before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path, Options{})
	got, err := s.Notices()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Notice{b, a}, got); diff != "" {
		t.Errorf("notices after reopening, newest first (-want +got):\n%s", diff)
	}
	gotSMTP, err := s.SMTP()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(smtp, gotSMTP); diff != "" {
		t.Errorf("smtp after reopening (-want +got):\n%s", diff)
	}
}

func TestNoticesBounded(t *testing.T) {
	s := openTest(t, Options{})
	for i := 1; i <= MaxNotices+5; i++ {
		if err := s.PutNotice(Notice{ID: fmt.Sprintf("%016x", i), Kind: "disk-full", Title: "full", Time: t0}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Notices()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxNotices {
		t.Fatalf("notices: got %d, want %d", len(got), MaxNotices)
	}
	if first, last := got[0].ID, got[len(got)-1].ID; first != fmt.Sprintf("%016x", MaxNotices+5) || last != fmt.Sprintf("%016x", 6) {
		t.Errorf("kept: got %s to %s, want the newest %d", first, last, MaxNotices)
	}
}

func TestNoticeValidation(t *testing.T) {
	good := Notice{ID: "0000000000000001", Kind: "app-oom", App: "photos", Title: "t", Time: t0}
	goodSMTP := SMTP{Host: "mail.example.net", Security: "tls", From: "a@b.c", To: []string{"me@example.net"}}
	tests := []struct {
		name  string
		put   func(s *Store) error
		field string
	}{
		{"id", func(s *Store) error { n := good; n.ID = "../x"; return s.PutNotice(n) }, "id"},
		{"app", func(s *Store) error { n := good; n.App = "Photos"; return s.PutNotice(n) }, "app"},
		{"title with a newline", func(s *Store) error { n := good; n.Title = "a\nb"; return s.PutNotice(n) }, "title"},
		{"body with a bell", func(s *Store) error { n := good; n.Body = "a\ab"; return s.PutNotice(n) }, "body"},
		{"mail", func(s *Store) error { n := good; n.Mail = "lost"; return s.PutNotice(n) }, "mail"},
		{"time", func(s *Store) error { n := good; n.Time = zeroTime; return s.PutNotice(n) }, "time"},
		{"smtp security", func(s *Store) error { m := goodSMTP; m.Security = "none"; return s.PutSMTP(m) }, "security"},
		{"smtp without host", func(s *Store) error { m := goodSMTP; m.Host = ""; return s.PutSMTP(m) }, "host"},
		{"smtp no recipient", func(s *Store) error { m := goodSMTP; m.To = nil; return s.PutSMTP(m) }, "to"},
		{"smtp port", func(s *Store) error { m := goodSMTP; m.Port = -1; return s.PutSMTP(m) }, "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, Options{})
			err := tt.put(s)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.field+": ") {
				t.Errorf("got %v, want ErrInvalid naming %q", err, tt.field)
			}
		})
	}
	s := openTest(t, Options{})
	if err := s.PutSMTP(SMTP{}); err != nil {
		t.Errorf("PutSMTP of no settings: got %v, want nil", err)
	}
}
