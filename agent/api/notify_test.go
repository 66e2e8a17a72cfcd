package api_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

func TestNotifyRoundTrip(t *testing.T) {
	when := time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC)
	f := &apitest.Fake{Notify: apitest.Notify{
		Notices: []api.Notice{
			{ID: "187a0b0c0d0e0f11", Kind: "disk-full", Title: "The disk is almost full", Body: "812 MiB free", Time: when, Count: 1, Mail: "sent"},
			{ID: "187a0b0c0d0e0f10", Kind: "app-oom", App: "photos", Title: "photos ran out of memory", Time: when.Add(-time.Hour),
				Last: when, Count: 3, Read: true, Mail: "failed", MailError: "connect: refused"},
		},
		SMTP: api.SMTPSettings{Host: "mail.example.net", Security: "starttls", User: "box", PasswordSet: true, From: "box@example.net", To: []string{"me@example.net"}},
	}}
	c := client(t, server(t, f))
	ctx := context.Background()
	want := append([]api.Notice(nil), f.Notify.Notices...)
	got, err := c.Notices(ctx)
	if err != nil {
		t.Fatalf("Notices: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Notices (-want +got):\n%s", diff)
	}
	if err := c.DismissNotice(ctx, "187a0b0c0d0e0f11"); err != nil {
		t.Fatalf("DismissNotice: %v", err)
	}
	if err := c.ReadNotice(ctx, "187a0b0c0d0e0f11"); err != nil {
		t.Fatalf("ReadNotice: %v", err)
	}
	if err := c.ReadNotice(ctx, "00000000000000aa"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("ReadNotice of an unknown id: got %v, want ErrNotFound", err)
	}
	settings, err := c.SMTPSettings(ctx)
	if err != nil {
		t.Fatalf("SMTPSettings: %v", err)
	}
	if diff := cmp.Diff(f.Notify.SMTP, settings); diff != "" {
		t.Errorf("SMTPSettings (-want +got):\n%s", diff)
	}
	req := api.SetSMTPRequest{Host: "smtp.example.org", Port: 465, Security: "tls", User: "u", Password: "pw", From: "a@example.org", To: []string{"b@example.org"}}
	if _, err := c.SetSMTP(ctx, req); err != nil {
		t.Fatalf("SetSMTP: %v", err)
	}
	if err := c.TestSMTP(ctx); err != nil {
		t.Fatalf("TestSMTP: %v", err)
	}
	var methods []string
	for _, call := range f.Calls() {
		methods = append(methods, call.Method)
		if call.Method == "SetSMTP" && !cmp.Equal(call.Args, []any{req}) {
			t.Errorf("SetSMTP: got %+v, want %+v", call.Args, req)
		}
		if call.Actor != wantActor(t) {
			t.Errorf("%s: got actor %q, want %q", call.Method, call.Actor, wantActor(t))
		}
	}
	if diff := cmp.Diff([]string{"Notices", "DismissNotice", "ReadNotice", "ReadNotice", "SMTPSettings", "SetSMTP", "TestSMTP"}, methods); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

func TestNotifyErrors(t *testing.T) {
	t.Run("test mail refused", func(t *testing.T) {
		f := &apitest.Fake{Err: map[string]error{"TestSMTP": fmt.Errorf("test mail: 535 invalid credentials: %w", api.ErrRefused)}}
		c := client(t, server(t, f))
		if err := c.TestSMTP(context.Background()); !errors.Is(err, api.ErrRefused) {
			t.Errorf("TestSMTP: got %v, want ErrRefused", err)
		}
	})
	sock := server(t, &apitest.Fake{})
	tests := []struct {
		name, method, path, body string
		status                   int
	}{
		{"bad notice id", "POST", "/v1/notices/..%2fx/dismiss", "", 400},
		{"uppercase notice id", "POST", "/v1/notices/187A0B0C0D0E0F11/read", "", 400},
		{"query on notices", "GET", "/v1/notices?all=1", "", 400},
		{"unknown smtp field", "PUT", "/v1/smtp", `{"host":"x","passwd":"y"}`, 400},
		{"empty smtp body", "PUT", "/v1/smtp", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := ""
			if tt.body != "" {
				ct = "application/json"
			}
			a := raw(t, sock, tt.method, tt.path, ct, tt.body)
			if a.status != tt.status {
				t.Errorf("got %d %s, want %d", a.status, a.body, tt.status)
			}
		})
	}
}
