package addons

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
)

// sink is the owner's mail provider in the tests: an SMTP server on
// 127.0.0.1 that keeps what it receives.
type sink struct {
	mu   sync.Mutex
	got  []string // "from -> to: body"
	addr netip.AddrPort
}

type sinkSession struct {
	k        *sink
	from, to string
}

func (s *sinkSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.k.mu.Lock()
	defer s.k.mu.Unlock()
	s.k.got = append(s.k.got, s.from+" -> "+s.to+": "+strings.TrimSpace(string(b)))
	return nil
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

func startSink(t *testing.T) *sink {
	t.Helper()
	k := &sink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &sinkSession{k: k}, nil }))
	srv.Domain = "sink.test"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	k.addr = netip.MustParseAddrPort(l.Addr().String())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return k
}

func (k *sink) messages() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]string(nil), k.got...)
}

// submit sends one message as an app would, with its environment, from src.
func submit(ctx context.Context, env map[string]string, user, password, from string, src netip.Addr) error {
	conn, err := dialFrom(src)(ctx, "tcp", net.JoinHostPort(env["MAIL_SMTP_SERVER"], env["MAIL_SMTP_PORT"]))
	if err != nil {
		return err
	}
	c := smtp.NewClient(conn)
	defer c.Close()
	if err := c.Auth(sasl.NewPlainClient("", user, password)); err != nil {
		return err
	}
	return c.SendMail(from, []string{"owner@example.net"}, strings.NewReader("Subject: hi\r\n\r\nhello from "+user+"\r\n"))
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestSendmail(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	k := startSink(t)
	var mu sync.Mutex
	relay := Relay{}
	s, err := NewSendmail(SendmailConfig{
		Dir: t.TempDir(), Port: freePort(t), RetryEvery: 50 * time.Millisecond,
		Relay: func() Relay { mu.Lock(); defer mu.Unlock(); return relay },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	pwA, pwB := NewPassword(), NewPassword()
	if err := s.Ensure(ctx, "notes", subnetA, pwA); err != nil {
		t.Fatal(err)
	}
	if err := s.Ensure(ctx, "blog", subnetB, pwB); err != nil {
		t.Fatal(err)
	}
	env := s.Env("notes", Conn{Host: local, Password: pwA})
	user, from := env["MAIL_SMTP_USERNAME"], env["MAIL_FROM"]

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct {
			name, user, password, from string
			src                        netip.Addr
			code                       int
		}{
			{"wrong password", user, pwB, from, clientA, 535},
			{"right password from another subnet", user, pwA, from, clientB, 535},
			{"another app's sender address", user, pwA, "blog@hearth.local", clientA, 553},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := submit(ctx, env, tc.user, tc.password, tc.from, tc.src); smtpCode(err) != tc.code {
					t.Errorf("got %v, want SMTP code %d", err, tc.code)
				}
			})
		}
	})
	t.Run("queued while no relay is set, across a restart", func(t *testing.T) {
		if err := submit(ctx, env, user, pwA, from, clientA); err != nil {
			t.Fatal(err)
		}
		if err := s.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		q, err := s.queueSnapshot()
		if err != nil || len(q) != 1 || q[0].App != "notes" {
			t.Fatalf("queue: got %+v, %v, want one message of notes", q, err)
		}
	})
	t.Run("an unreachable relay is retried later", func(t *testing.T) {
		dead := freePort(t)
		mu.Lock()
		relay = Relay{Host: "127.0.0.1", Port: dead}
		mu.Unlock()
		waitFor(t, func() bool {
			q, _ := s.queueSnapshot()
			return len(q) == 1 && q[0].Attempts > 0 && q[0].Next.After(q[0].Queued)
		})
	})
	t.Run("relayed once the relay answers", func(t *testing.T) {
		mu.Lock()
		relay = Relay{Host: k.addr.Addr().String(), Port: k.addr.Port()}
		mu.Unlock()
		// The failed attempt set Next a minute on: make the message due.
		q, _ := s.queueNames()
		m, err := s.readQueued(q[0])
		if err != nil {
			t.Fatal(err)
		}
		m.Next = time.Time{}
		if err := s.writeQueued(q[0], m); err != nil {
			t.Fatal(err)
		}
		waitFor(t, func() bool { return len(k.messages()) == 1 })
		want := []string{"notes@hearth.local -> owner@example.net: Subject: hi\r\n\r\nhello from app_notes"}
		if diff := cmp.Diff(want, k.messages()); diff != "" {
			t.Errorf("the sink got (-want +got):\n%s", diff)
		}
		if q, _ := s.queueSnapshot(); len(q) != 0 {
			t.Errorf("queue after delivery: got %d messages, want none", len(q))
		}
	})
	t.Run("dropped app cannot send", func(t *testing.T) {
		if err := s.Drop(ctx, "notes"); err != nil {
			t.Fatal(err)
		}
		if err := submit(ctx, env, user, pwA, from, clientA); smtpCode(err) != 535 {
			t.Errorf("got %v, want 535", err)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
