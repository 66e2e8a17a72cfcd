package notify_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/notify"
	"github.com/hearthbox/hearth/agent/notify/notifytest"
)

// memStore is an in-memory notify.Store (package agent adapts the real
// state store; its tests run the same flows against it).
type memStore struct {
	mu      sync.Mutex
	notices []notify.Notice // oldest first
	smtp    notify.SMTP
}

func (m *memStore) Notices() ([]notify.Notice, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.notices)
	slices.Reverse(out)
	return out, nil
}

func (m *memStore) PutNotice(n notify.Notice) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range m.notices {
		if m.notices[i].ID == n.ID {
			m.notices[i] = n
			return nil
		}
	}
	m.notices = append(m.notices, n)
	return nil
}

func (m *memStore) SMTP() (notify.SMTP, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.smtp, nil
}

// clock is a test clock that moves when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

// settings are the SMTP settings of a sink.
func settings(t *testing.T, s *notifytest.Sink, sec notify.Security) notify.SMTP {
	host, port := s.HostPort(t)
	return notify.SMTP{Host: host, Port: port, Security: sec, User: notifytest.User, Password: notifytest.Password,
		From: "Hearth <box@example.net>", To: []string{"owner@example.net", "Second <second@example.org>"}}
}

// newNotifier returns a Notifier on a memStore with quick retries.
func newNotifier(t *testing.T, s *notifytest.Sink, st *memStore, c *clock, mod func(*notify.Config)) *notify.Notifier {
	t.Helper()
	cfg := notify.Config{Store: st, RootCAs: s.Roots(), RetryBase: 20 * time.Millisecond, RetryMax: 40 * time.Millisecond,
		RetryTick: 10 * time.Millisecond, Timeout: 5 * time.Second, Now: c.Now, BoxName: "hearth"}
	if mod != nil {
		mod(&cfg)
	}
	n, err := notify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// run runs n until the test ends.
func run(t *testing.T, n *notify.Notifier) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
	})
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func notice(st *memStore, id string) notify.Notice {
	list, _ := st.Notices()
	for _, n := range list {
		if n.ID == id {
			return n
		}
	}
	return notify.Notice{}
}

func TestMailEachKind(t *testing.T) {
	for _, sec := range []notify.Security{notify.StartTLS, notify.ImplicitTLS} {
		for _, kind := range notify.Kinds() {
			t.Run(string(sec)+"/"+string(kind), func(t *testing.T) {
				s := notifytest.New(t, sec == notify.ImplicitTLS, true)
				c := &clock{now: t0}
				st := &memStore{smtp: settings(t, s, sec)}
				nf := newNotifier(t, s, st, c, nil)
				run(t, nf)
				title := "Trouble: " + string(kind) + " ünïcode"
				n, err := nf.Notify(context.Background(), notify.Notice{Kind: kind, App: "photos", Title: title, Body: "What happened.\nWhat to do."})
				if err != nil {
					t.Fatalf("Notify: %v", err)
				}
				if n.Mail != notify.MailPending {
					t.Errorf("mail: got %q, want %q", n.Mail, notify.MailPending)
				}
				waitFor(t, "the mail", func() bool { return notice(st, n.ID).Mail == notify.MailSent })
				mails := s.Received()
				if len(mails) != 1 {
					t.Fatalf("mails: got %d, want 1", len(mails))
				}
				m := mails[0]
				if diff := cmp.Diff(notifytest.Mail{From: "box@example.net", To: []string{"owner@example.net", "second@example.org"}, TLS: true},
					notifytest.Mail{From: m.From, To: m.To, TLS: m.TLS}); diff != "" {
					t.Errorf("envelope (-want +got):\n%s", diff)
				}
				msg, body := m.Parse(t)
				if got, want := notifytest.DecodeHeader(t, msg.Header.Get("Subject")), "[hearth] "+title; got != want {
					t.Errorf("subject: got %q, want %q", got, want)
				}
				if !strings.Contains(body, "What happened.\r\nWhat to do.") || !strings.Contains(body, "App: photos") {
					t.Errorf("body: got %q, want the notice's text and app", body)
				}
			})
		}
	}
}

func TestDedup(t *testing.T) {
	s := notifytest.New(t, false, true)
	c := &clock{now: t0}
	st := &memStore{smtp: settings(t, s, notify.StartTLS)}
	nf := newNotifier(t, s, st, c, nil)
	run(t, nf)
	ctx := context.Background()
	first, err := nf.Notify(ctx, notify.Notice{Kind: notify.AppOOM, App: "photos", Title: "photos ran out of memory"})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name      string
		advance   time.Duration
		n         notify.Notice
		wantDup   bool
		wantCount int
	}{
		{"same kind and app an hour later", time.Hour, notify.Notice{Kind: notify.AppOOM, App: "photos", Title: "again"}, true, 2},
		{"another app", 0, notify.Notice{Kind: notify.AppOOM, App: "notes", Title: "notes ran out of memory"}, false, 1},
		{"another kind", 0, notify.Notice{Kind: notify.BackupFailed, App: "photos", Title: "backup failed"}, false, 1},
		{"just inside six hours", 5*time.Hour - time.Second, notify.Notice{Kind: notify.AppOOM, App: "photos", Title: "again"}, true, 3},
		{"six hours after the first", time.Second, notify.Notice{Kind: notify.AppOOM, App: "photos", Title: "and again"}, false, 1},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			c.Add(step.advance)
			got, err := nf.Notify(ctx, step.n)
			if dup := errors.Is(err, notify.ErrDuplicate); dup != step.wantDup || (err != nil && !dup) {
				t.Fatalf("Notify: got %v, want duplicate %v", err, step.wantDup)
			}
			if step.wantDup && got.ID != first.ID {
				t.Errorf("duplicate: got notice %s, want the first %s", got.ID, first.ID)
			}
			if got.Count != step.wantCount {
				t.Errorf("count: got %d, want %d", got.Count, step.wantCount)
			}
		})
	}
	waitFor(t, "4 mails", func() bool { return len(s.Received()) == 4 })
	list, _ := st.Notices()
	if len(list) != 4 {
		t.Errorf("notices: got %d, want 4", len(list))
	}
	time.Sleep(50 * time.Millisecond) // no fifth mail comes
	if got := len(s.Received()); got != 4 {
		t.Errorf("mails: got %d, want 4", got)
	}
}

func TestRetry(t *testing.T) {
	tests := []struct {
		name         string
		refuse       int
		maxAttempts  int
		wantMail     notify.MailState
		wantAttempts int
		wantMails    int
	}{
		{"the sink refuses twice, then takes it", 2, 5, notify.MailSent, 2, 1},
		{"the sink always refuses: given up", 100, 3, notify.MailFailed, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := notifytest.New(t, false, true)
			s.SetRefuse(tt.refuse)
			c := &clock{now: t0}
			st := &memStore{smtp: settings(t, s, notify.StartTLS)}
			nf := newNotifier(t, s, st, c, func(cfg *notify.Config) { cfg.MaxAttempts = tt.maxAttempts })
			n, err := nf.Notify(context.Background(), notify.Notice{Kind: notify.BackupFailed, App: "photos", Title: "backup failed"})
			if err != nil {
				t.Fatal(err)
			}
			run(t, nf)
			// The test clock stands still: move it past each backoff.
			waitFor(t, "the mail to settle", func() bool {
				c.Add(time.Second)
				m := notice(st, n.ID).Mail
				return m == notify.MailSent || m == notify.MailFailed
			})
			got := notice(st, n.ID)
			if got.Mail != tt.wantMail || got.Attempts != tt.wantAttempts {
				t.Errorf("mail: got %s after %d failed attempts, want %s after %d", got.Mail, got.Attempts, tt.wantMail, tt.wantAttempts)
			}
			if tt.wantMail == notify.MailFailed && !strings.Contains(got.MailError, "try again later") {
				t.Errorf("mail error: got %q, want the server's words", got.MailError)
			}
			if got := len(s.Received()); got != tt.wantMails {
				t.Errorf("mails: got %d, want %d", got, tt.wantMails)
			}
			if got, want := s.Attempts(), tt.wantAttempts+tt.wantMails; got != want {
				t.Errorf("MAIL commands: got %d, want %d", got, want)
			}
		})
	}
}

func TestRetryBackoff(t *testing.T) {
	s := notifytest.New(t, false, true)
	s.SetRefuse(1)
	c := &clock{now: t0}
	st := &memStore{smtp: settings(t, s, notify.StartTLS)}
	nf := newNotifier(t, s, st, c, func(cfg *notify.Config) { cfg.RetryBase, cfg.RetryMax = time.Minute, time.Hour })
	run(t, nf)
	n, err := nf.Notify(context.Background(), notify.Notice{Kind: notify.DiskFull, Title: "disk full"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first attempt", func() bool { return notice(st, n.ID).Attempts == 1 })
	if got, want := notice(st, n.ID).NextTry, t0.Add(time.Minute); !got.Equal(want) {
		t.Errorf("next try: got %v, want %v", got, want)
	}
	time.Sleep(50 * time.Millisecond) // several ticks: not due yet
	if got := s.Attempts(); got != 1 {
		t.Fatalf("attempts before the backoff passed: got %d, want 1", got)
	}
	c.Add(time.Minute)
	waitFor(t, "the retry", func() bool { return notice(st, n.ID).Mail == notify.MailSent })
}

func TestNoSMTP(t *testing.T) {
	st := &memStore{}
	c := &clock{now: t0}
	nf, err := notify.New(notify.Config{Store: st, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	n, err := nf.Notify(context.Background(), notify.Notice{Kind: notify.DiskFull, Title: "disk full"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Mail != notify.MailNone {
		t.Errorf("mail: got %q, want none", n.Mail)
	}
	if err := nf.TestMail(context.Background()); !errors.Is(err, notify.ErrNoSMTP) {
		t.Errorf("TestMail: got %v, want ErrNoSMTP", err)
	}
}

func TestTestMail(t *testing.T) {
	tests := []struct {
		name     string
		implicit bool
		offerTLS bool
		mod      func(*notify.SMTP)
		wantErr  string // "" = sent
	}{
		{"starttls", false, true, nil, ""},
		{"implicit tls", true, true, nil, ""},
		{"wrong password", false, true, func(s *notify.SMTP) { s.Password = "wrong" }, "invalid credentials"},
		{"no STARTTLS offered: refused", false, false, nil, "does not offer STARTTLS"},
		{"nobody listens", false, true, func(s *notify.SMTP) { s.Port = 1 }, "connect to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := notifytest.New(t, tt.implicit, tt.offerTLS)
			sec := notify.StartTLS
			if tt.implicit {
				sec = notify.ImplicitTLS
			}
			set := settings(t, s, sec)
			if tt.mod != nil {
				tt.mod(&set)
			}
			st := &memStore{smtp: set}
			nf := newNotifier(t, s, st, &clock{now: t0}, nil)
			err := nf.TestMail(context.Background())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("TestMail: got %v, want nil", err)
				}
				if got := len(s.Received()); got != 1 {
					t.Errorf("mails: got %d, want 1", got)
				}
				return
			}
			if !errors.Is(err, notify.ErrSend) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("TestMail: got %v, want ErrSend saying %q", err, tt.wantErr)
			}
			if got := len(s.Received()); got != 0 {
				t.Errorf("mails: got %d, want 0", got)
			}
		})
	}
}

func TestReadDismiss(t *testing.T) {
	st := &memStore{}
	nf, err := notify.New(notify.Config{Store: st, Now: (&clock{now: t0}).Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, _ := nf.Notify(ctx, notify.Notice{Kind: notify.AppOOM, App: "photos", Title: "a"})
	b, _ := nf.Notify(ctx, notify.Notice{Kind: notify.AppOOM, App: "notes", Title: "b"})
	if a.ID >= b.ID {
		t.Errorf("ids: got %s then %s, want growing ids", a.ID, b.ID)
	}
	if _, err := nf.MarkRead(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := nf.Dismiss(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := nf.Dismiss(ctx, "0000000000000001"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("Dismiss of an unknown id: got %v, want ErrNotFound", err)
	}
	list, err := nf.Notices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		Title           string
		Read, Dismissed bool
	}
	var got []state
	for _, n := range list {
		got = append(got, state{n.Title, n.Read, n.Dismissed})
	}
	if diff := cmp.Diff([]state{{"b", true, true}, {"a", true, false}}, got); diff != "" {
		t.Errorf("notices, newest first (-want +got):\n%s", diff)
	}
}

func TestValidate(t *testing.T) {
	good := notify.SMTP{Host: "mail.example.net", Security: notify.StartTLS, User: "u", Password: "p", From: "box@example.net", To: []string{"me@example.net"}}
	smtpTests := []struct {
		name  string
		mod   func(*notify.SMTP)
		field string // "" = valid
	}{
		{"good", func(*notify.SMTP) {}, ""},
		{"none", func(s *notify.SMTP) { *s = notify.SMTP{} }, ""},
		{"host with a slash", func(s *notify.SMTP) { s.Host = "mail/x" }, "host"},
		{"port", func(s *notify.SMTP) { s.Port = 70000 }, "port"},
		{"plain text", func(s *notify.SMTP) { s.Security = "none" }, "security"},
		{"password without user", func(s *notify.SMTP) { s.User = "" }, "user"},
		{"from", func(s *notify.SMTP) { s.From = "not an address" }, "from"},
		{"header injection", func(s *notify.SMTP) { s.From = "a@b\r\nBcc: x@y" }, "from"},
		{"no recipient", func(s *notify.SMTP) { s.To = nil }, "to"},
		{"bad recipient", func(s *notify.SMTP) { s.To = []string{"me@example.net", "nope"} }, "to[1]"},
	}
	for _, tt := range smtpTests {
		t.Run("smtp/"+tt.name, func(t *testing.T) {
			s := good
			tt.mod(&s)
			checkField(t, s.Validate(), tt.field)
		})
	}
	nf, err := notify.New(notify.Config{Store: &memStore{}})
	if err != nil {
		t.Fatal(err)
	}
	noticeTests := []struct {
		name  string
		n     notify.Notice
		field string
	}{
		{"unknown kind", notify.Notice{Kind: "party", Title: "x"}, "kind"},
		{"bad app", notify.Notice{Kind: notify.AppOOM, App: "Photos!", Title: "x"}, "app"},
		{"no title", notify.Notice{Kind: notify.AppOOM}, "title"},
		{"blank title", notify.Notice{Kind: notify.AppOOM, Title: "  "}, "title"},
	}
	for _, tt := range noticeTests {
		t.Run("notice/"+tt.name, func(t *testing.T) {
			_, err := nf.Notify(context.Background(), tt.n)
			checkField(t, err, tt.field)
		})
	}
}

// TestClean proves that text a caller passes on (an error, a name) is
// made safe rather than refused: no header can be added through a title.
func TestClean(t *testing.T) {
	st := &memStore{}
	nf, err := notify.New(notify.Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name              string
		title, body       string
		wantTitle, wantIn string
		bodyLen           int
	}{
		{"header injection in the title", "a\r\nBcc: x@y", "", "a  Bcc: x@y", "", 0},
		{"escape codes in the body", "t", "line 1\n\x1b[31mred\x1b[0m\tok", "t", "line 1\n [31mred [0m\tok", 0},
		{"invalid UTF-8", "caf\xe9", "", "caf\uFFFD", "", 0},
		{"long body cut", "t", strings.Repeat("é", notify.MaxBody), "t", "…", notify.MaxBody},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := nf.Notify(context.Background(), notify.Notice{Kind: notify.AppOOM, App: fmt.Sprintf("app%d", i), Title: tt.title, Body: tt.body})
			if err != nil {
				t.Fatal(err)
			}
			if n.Title != tt.wantTitle || !strings.Contains(n.Body, tt.wantIn) {
				t.Errorf("got title %q, body %q; want title %q and a body holding %q", n.Title, n.Body, tt.wantTitle, tt.wantIn)
			}
			if tt.bodyLen > 0 && (len(n.Body) > tt.bodyLen || !utf8.ValidString(n.Body)) {
				t.Errorf("body: got %d bytes (valid UTF-8 %v), want at most %d of valid UTF-8", len(n.Body), utf8.ValidString(n.Body), tt.bodyLen)
			}
		})
	}
}

func checkField(t *testing.T, err error, field string) {
	t.Helper()
	switch {
	case field == "" && err != nil:
		t.Errorf("got %v, want nil", err)
	case field != "" && (!errors.Is(err, notify.ErrInvalid) || !strings.Contains(err.Error(), field+": ")):
		t.Errorf("got %v, want ErrInvalid naming %q", err, field)
	}
}

func TestDiskThreshold(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name        string
		bsize       int64
		blocks      uint64
		avail       uint64
		wantNotices int
	}{
		{"plenty free", 4096, 100 * gib / 4096, 50 * gib / 4096, 0},
		{"under 1 GiB on a small disk", 4096, 8 * gib / 4096, gib/4096 - 1, 1},
		{"1 GiB on a small disk is fine", 4096, 8 * gib / 4096, gib / 4096, 0},
		{"under 5% of a large disk", 1 << 20, 2000 * gib >> 20, 99 * gib >> 20, 1},
		{"5% of a large disk is fine", 1 << 20, 2000 * gib >> 20, 100 * gib >> 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var asked string
			statfs := func(path string, st *syscall.Statfs_t) error {
				asked = path
				st.Bsize, st.Blocks, st.Bavail, st.Bfree = tt.bsize, tt.blocks, tt.avail, tt.avail+100
				return nil
			}
			nf, err := notify.New(notify.Config{Store: &memStore{}, DataRoot: "/srv/hearth", Statfs: statfs})
			if err != nil {
				t.Fatal(err)
			}
			got, err := nf.CheckDisk(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if asked != "/srv/hearth" {
				t.Errorf("statfs path: got %q, want /srv/hearth", asked)
			}
			if len(got) != tt.wantNotices {
				t.Fatalf("notices: got %d (%+v), want %d", len(got), got, tt.wantNotices)
			}
			if len(got) == 1 && (got[0].Kind != notify.DiskFull || !strings.Contains(got[0].Body, "/srv/hearth")) {
				t.Errorf("notice: got %+v, want disk-full naming the data root", got[0])
			}
		})
	}
}

func TestDiskReal(t *testing.T) {
	nf, err := notify.New(notify.Config{Store: &memStore{}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := nf.Disk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if d.Total == 0 || d.Free > d.Total {
		t.Errorf("disk: got %+v, want a size and free space no larger than it", d)
	}
	if _, err := nf.Disk("/no/such/folder"); err == nil {
		t.Error("Disk of a missing folder: got nil error, want one")
	}
}

// TestRunChecks proves that Run runs the disk check and the checks it is
// given at once, and that their notices are kept.
func TestRunChecks(t *testing.T) {
	st := &memStore{}
	statfs := func(_ string, s *syscall.Statfs_t) error {
		s.Bsize, s.Blocks, s.Bavail = 4096, 1000, 10
		return nil
	}
	stale := func(context.Context) ([]notify.Notice, error) {
		return []notify.Notice{{Kind: notify.BackupStale, App: "photos", Title: "photos has no backup from the last day"}}, nil
	}
	nf, err := notify.New(notify.Config{Store: st, DataRoot: "/srv", Statfs: statfs, Checks: []notify.Check{stale}})
	if err != nil {
		t.Fatal(err)
	}
	run(t, nf)
	waitFor(t, "two notices", func() bool { l, _ := st.Notices(); return len(l) == 2 })
	var kinds []string
	l, _ := st.Notices()
	for _, n := range l {
		kinds = append(kinds, fmt.Sprintf("%s/%s", n.Kind, n.App))
	}
	slices.Sort(kinds)
	if diff := cmp.Diff([]string{"backup-stale/photos", "disk-full/"}, kinds); diff != "" {
		t.Errorf("notices (-want +got):\n%s", diff)
	}
}
