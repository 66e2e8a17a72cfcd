package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/notify"
	"github.com/hearthbox/hearth/agent/notify/notifytest"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy/certs"
	rt "github.com/hearthbox/hearth/runtime"
)

// notifyBox is a setup box whose agent has a running notifier on its
// state store, and a real SMTP sink.
func notifyBox(t *testing.T) (*setupBox, *notifytest.Sink) {
	t.Helper()
	clock := newClock()
	b := newSetupBox(t, t.TempDir(), clock)
	sink := notifytest.New(t, false, true)
	n, err := NewNotifier(b.store, notify.Config{RootCAs: sink.Roots(), RetryTick: 10 * time.Millisecond, RetryBase: 10 * time.Millisecond, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	b.a.cfg.Notifier = n
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return b, sink
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNotifyOverTheAPI sets the SMTP settings, sends a test mail, and
// reads, marks and dismisses notices through the socket.
func TestNotifyOverTheAPI(t *testing.T) {
	b, sink := notifyBox(t)
	c := serveAPI(t, b)
	ctx := context.Background()
	host, port := sink.HostPort(t)
	req := api.SetSMTPRequest{Host: host, Port: port, User: notifytest.User, Password: notifytest.Password,
		From: "Hearth <box@example.net>", To: []string{"owner@example.net"}}

	if err := c.TestSMTP(ctx); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("TestSMTP before settings: got %v, want ErrInvalid", err)
	}
	bad := req
	bad.To = []string{"owner@example.net", "nobody"}
	if _, err := c.SetSMTP(ctx, bad); !errors.Is(err, api.ErrInvalid) || !strings.Contains(err.Error(), "to[1]") {
		t.Errorf("SetSMTP with a bad address: got %v, want ErrInvalid naming to[1]", err)
	}
	got, err := c.SetSMTP(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := api.SMTPSettings{Host: host, Port: port, Security: api.SMTPStartTLS, User: notifytest.User, PasswordSet: true,
		From: "Hearth <box@example.net>", To: []string{"owner@example.net"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SetSMTP (-want +got):\n%s", diff)
	}
	keep := req
	keep.Password = ""
	if got, err = c.SetSMTP(ctx, keep); err != nil || !got.PasswordSet {
		t.Errorf("SetSMTP without a password: got %+v, %v; want the stored password kept", got, err)
	}
	raw := rawGet(t, b, "/v1/smtp")
	if strings.Contains(raw, notifytest.Password) || !strings.Contains(raw, `"passwordSet":true`) {
		t.Errorf("GET /v1/smtp: got %s, want passwordSet and no password", raw)
	}
	if err := c.TestSMTP(ctx); err != nil {
		t.Fatalf("TestSMTP: %v", err)
	}
	if n := len(sink.Received()); n != 1 {
		t.Errorf("test mails: got %d, want 1", n)
	}

	b.a.notify(notify.DiskFull, "", "The disk is almost full", "Only 812 MiB free.")
	b.a.notify(notify.DiskFull, "", "The disk is almost full", "Only 700 MiB free.") // a repeat: counted
	b.a.notify(notify.AppOOM, "photos", "photos ran out of memory", "")
	waitUntil(t, "two notice mails", func() bool { return len(sink.Received()) == 3 })
	waitUntil(t, "the mails recorded", func() bool {
		l, _ := c.Notices(ctx)
		return len(l) == 2 && l[0].Mail == "sent" && l[1].Mail == "sent"
	})
	list, err := c.Notices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind, App, Mail string
		Count           int
	}
	var rows []row
	for _, n := range list {
		rows = append(rows, row{n.Kind, n.App, n.Mail, n.Count})
	}
	if diff := cmp.Diff([]row{{"app-oom", "photos", "sent", 1}, {"disk-full", "", "sent", 2}}, rows); diff != "" {
		t.Errorf("notices, newest first (-want +got):\n%s", diff)
	}
	if err := c.ReadNotice(ctx, list[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DismissNotice(ctx, list[0].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DismissNotice(ctx, "00000000000000ff"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("DismissNotice of an unknown id: got %v, want ErrNotFound", err)
	}
	if err := c.DismissNotice(ctx, "NOT-HEX"); !errors.Is(err, api.ErrInvalid) {
		t.Errorf("DismissNotice of a bad id: got %v, want ErrInvalid", err)
	}
	list, err = c.Notices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !list[0].Dismissed || !list[0].Read || list[1].Dismissed || !list[1].Read {
		t.Errorf("after read and dismiss: got %+v, want the first dismissed and both read", list)
	}

	wrong := req
	wrong.Password = "wrong"
	if _, err := c.SetSMTP(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	if err := c.TestSMTP(ctx); !errors.Is(err, api.ErrRefused) || !strings.Contains(err.Error(), "invalid credentials") {
		t.Errorf("TestSMTP with a wrong password: got %v, want ErrRefused with the server's words", err)
	}
	if got, err := c.SetSMTP(ctx, api.SetSMTPRequest{}); err != nil || got.Host != "" || got.PasswordSet {
		t.Errorf("SetSMTP off: got %+v, %v; want no settings", got, err)
	}
	if s, _ := b.store.SMTP(); s.Password != "" {
		t.Errorf("stored password after turning mail off: got %q, want none", s.Password)
	}
}

// rawGet reads a route's raw answer over the agent's socket.
func rawGet(t *testing.T, b *setupBox, path string) string {
	t.Helper()
	sock := t.TempDir() + "/raw.sock"
	ln, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.NewServer(b.a, api.ServerConfig{}).Serve(ctx, ln) }()
	defer func() { cancel(); <-done }()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	defer hc.CloseIdleConnections()
	resp, err := hc.Get("http://hearthd" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestNoticeHooks proves what the agent tells from an OOM event, a failed
// backup and an undone update.
func TestNoticeHooks(t *testing.T) {
	b, _ := notifyBox(t)
	for _, id := range []string{"photos", "photos-db"} {
		if err := b.store.PutApp(state.App{ID: id, Version: "1.0", Manifest: json.RawMessage(`{"id":"` + id + `"}`), Wanted: state.WantRunning}); err != nil {
			t.Fatal(err)
		}
	}
	b.a.noticeEvent(rt.Event{Type: rt.EventOOM, Container: "photos-db-server"})
	b.a.noticeEvent(rt.Event{Type: rt.EventExit, Container: "photos-db-server", ExitCode: 137, OOMKilled: true}) // the same kill
	b.a.noticeEvent(rt.Event{Type: rt.EventOOM, Container: "photos-web"})
	b.a.noticeEvent(rt.Event{Type: rt.EventExit, Container: "photos-worker", ExitCode: 1}) // no OOM: nothing
	b.a.noticeEvent(rt.Event{Type: rt.EventOOM, Container: "stranger-x"})                  // no app: nothing
	b.a.noticeBackup("photos", errors.New("restic: repository is locked"))
	b.a.noticeBackup("photos", nil)
	b.a.noticeBackup("photos", fmt.Errorf("stopping: %w", context.Canceled))
	b.a.noticeRolledBack("photos-db", "1.0", errors.New("service server is unhealthy"))
	list, err := b.store.Notices()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range list {
		got = append(got, n.Kind+" "+n.App+": "+n.Title)
	}
	slices.Sort(got)
	want := []string{
		"app-oom photos-db: photos-db ran out of memory",
		"app-oom photos: photos ran out of memory",
		"backup-failed photos: The backup of photos failed",
		"update-rolled-back photos-db: The update of photos-db was undone",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
	for _, n := range list {
		if n.Kind == "app-oom" && n.App == "photos-db" && (!strings.Contains(n.Body, "service server of photos-db") || n.Count != 1) {
			t.Errorf("OOM notice: got %q counted %d, want the service named, counted once", n.Body, n.Count)
		}
	}
}

func TestStaleBackupCheck(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	now := b.clock.Now()
	check := StaleBackupCheck(b.store, b.clock.Now)
	if got, err := check(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("no destination: got %v, %v; want nothing", got, err)
	}
	if err := b.store.PutBoxBackup(state.BoxBackup{Destination: &state.BackupDestination{Kind: "local", Path: "/mnt/usb"}, EveryHours: 24}); err != nil {
		t.Fatal(err)
	}
	apps := []struct {
		id     string
		last   time.Duration // before now; 0 = never
		every  int
		off    bool
		pend   bool
		stale  bool
		reason string
	}{
		{"fresh", 2 * time.Hour, 0, false, false, false, ""},
		{"stale", 30 * time.Hour, 0, false, false, true, "last backup"},
		{"never", 0, 0, false, false, true, "never"},
		{"weekly", 100 * time.Hour, 168, false, false, false, ""},
		{"off", 100 * time.Hour, 0, true, false, false, ""},
		{"pending", 0, 0, false, true, false, ""},
	}
	for _, a := range apps {
		wanted := state.WantRunning
		if a.pend {
			wanted = state.WantPending
		}
		if err := b.store.PutApp(state.App{ID: a.id, Version: "1", Manifest: json.RawMessage(`{}`), Wanted: wanted, Installed: now.Add(-48 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		ab := state.AppBackup{App: a.id, EveryHours: a.every, Off: a.off}
		if a.last > 0 {
			ab.LastBackup = now.Add(-a.last)
		}
		if err := b.store.PutAppBackup(ab); err != nil {
			t.Fatal(err)
		}
	}
	got, err := check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stale []string
	for _, n := range got {
		if n.Kind != notify.BackupStale {
			t.Errorf("kind: got %s, want backup-stale", n.Kind)
		}
		stale = append(stale, n.App)
	}
	slices.Sort(stale)
	if diff := cmp.Diff([]string{"never", "stale"}, stale); diff != "" {
		t.Errorf("stale apps (-want +got):\n%s", diff)
	}
}

// certStatuses stands in for the certificate manager: a failed renewal is
// not something a test can cause cheaply with the real one.
type certStatuses map[string]certs.CertStatus

func (c certStatuses) Status(name string) certs.CertStatus { return c[name] }

func TestCertificateCheck(t *testing.T) {
	b := newSetupBox(t, t.TempDir(), newClock())
	now := b.clock.Now()
	if err := b.store.PutApp(state.App{ID: "photos", Version: "1", Manifest: json.RawMessage(`{}`), Wanted: state.WantRunning}); err != nil {
		t.Fatal(err)
	}
	cs := certStatuses{
		"example.net":        {NotAfter: now.Add(60 * 24 * time.Hour)},
		"photos.example.net": {NotAfter: now.Add(10 * 24 * time.Hour), LastError: errors.New("acme: rate limited")},
	}
	got, err := CertificateCheck(b.store, "example.net", cs, b.clock.Now)(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Kind != notify.CertRenewalFailed || got[0].App != "photos" ||
		!strings.Contains(got[0].Body, "rate limited") || !strings.Contains(got[0].Body, "expires in 10 days") {
		t.Errorf("got %+v, want one certificate-renewal-failed notice for photos with the error and the days left", got)
	}
	if got, _ := CertificateCheck(b.store, "", cs, b.clock.Now)(context.Background()); len(got) != 0 {
		t.Errorf("without a domain: got %+v, want nothing", got)
	}
}
