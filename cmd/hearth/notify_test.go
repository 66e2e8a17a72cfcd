package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// noticesSample is a box with a new, a read and a dismissed notice.
func noticesSample(f *apitest.Fake) {
	f.Notify.Notices = []api.Notice{
		{ID: "187a0b0c0d0e0f12", Kind: "disk-full", Title: "The disk is almost full", Time: apitest.T0.Add(-10 * time.Minute), Count: 1, Mail: "pending",
			Body:      "Only 812.0 MiB of 29.5 GiB is free on the disk that holds the apps' data (/srv/hearth).\nRemove what you do not need.",
			MailError: "smtp mail.example.net:587: connect: connection refused"},
		{ID: "187a0b0c0d0e0f11", Kind: "app-oom", App: "photos", Title: "photos ran out of memory", Time: apitest.T0.Add(-2 * time.Hour),
			Last: apitest.T0.Add(-30 * time.Minute), Count: 3, Read: true, Mail: "sent",
			Body: "The service server of photos used all the memory it may use and was stopped by the kernel; Hearth starts it again."},
		{ID: "187a0b0c0d0e0f10", Kind: "backup-failed", App: "notes", Title: "The backup of notes failed", Time: apitest.T0.Add(-26 * time.Hour),
			Count: 1, Read: true, Dismissed: true, Mail: "failed", MailError: "535 invalid credentials", Body: "restic: repository is locked"},
	}
}

// smtpSample is a box that mails its notices.
func smtpSample(f *apitest.Fake) {
	f.Notify.SMTP = api.SMTPSettings{Host: "mail.example.net", Security: "starttls", User: "box@example.net", PasswordSet: true,
		From: "Hearth <box@example.net>", To: []string{"anna@example.net", "ben@example.org"}}
}

func TestNotifyOutput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
	}{
		{"notices", noticesSample, []string{"notices"}},
		{"notices_all", noticesSample, []string{"notices", "--all"}},
		{"notices_empty", nil, []string{"notices"}},
		{"notices_dismiss", noticesSample, []string{"notices", "dismiss", "187a0b0c0d0e0f12"}},
		{"notices_dismiss_unknown", noticesSample, []string{"notices", "dismiss", "00000000000000aa"}},
		{"smtp_show", smtpSample, []string{"smtp", "show"}},
		{"smtp_show_none", nil, []string{"smtp", "show"}},
		{"smtp_set", nil, []string{"smtp", "set", "--host", "smtp.example.org", "--security", "tls", "--from", "box@example.org", "--to", "anna@example.org"}},
		{"smtp_set_usage", nil, []string{"smtp", "set", "--host", "smtp.example.org"}},
		{"smtp_set_off", smtpSample, []string{"smtp", "set", "--off"}},
		{"smtp_test", smtpSample, []string{"smtp", "test"}},
		{"smtp_test_refused", func(f *apitest.Fake) {
			smtpSample(f)
			f.Err = map[string]error{"TestSMTP": fmt.Errorf("test mail: smtp mail.example.net:587: log in as box@example.net: 535 5.7.8 invalid credentials: %w", api.ErrRefused)}
		}, []string{"smtp", "test"}},
		{"smtp_test_none", func(f *apitest.Fake) {
			f.Err = map[string]error{"TestSMTP": fmt.Errorf("smtp settings: none are set: %w", api.ErrInvalid)}
		}, []string{"smtp", "test"}},
		{"help_notices", nil, []string{"notices", "--help"}},
		{"help_smtp", nil, []string{"smtp", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			if tt.setup != nil {
				tt.setup(f)
			}
			golden(t, tt.name, hearth(hearthd(t, f), tt.args...))
		})
	}
}

func TestSMTPSetCalls(t *testing.T) {
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("correct horse\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want api.SetSMTPRequest
	}{
		{"with a password file",
			[]string{"smtp", "set", "--host", "mail.example.net", "--port", "2525", "--user", "box", "--password-file", pwFile,
				"--from", "Hearth <box@example.net>", "--to", "anna@example.net", "--to", "ben@example.org"},
			api.SetSMTPRequest{Host: "mail.example.net", Port: 2525, Security: "starttls", User: "box", Password: "correct horse",
				From: "Hearth <box@example.net>", To: []string{"anna@example.net", "ben@example.org"}}},
		{"off", []string{"smtp", "set", "--off"}, api.SetSMTPRequest{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			r := hearth(hearthd(t, f), tt.args...)
			var got []any
			for _, c := range f.Calls() {
				if c.Method == "SetSMTP" {
					got = c.Args
				}
			}
			if diff := cmp.Diff([]any{tt.want}, got); diff != "" {
				t.Errorf("SetSMTP request (-want +got):\n%s\n%+v", diff, r)
			}
			if strings.Contains(r.stdout+r.stderr, "correct horse") {
				t.Errorf("output shows the password:\n%s", r.stdout)
			}
		})
	}
}
