package addons

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Relay is the owner's mail provider that the sendmail addon sends
// through; Host "" means none is set (mail waits in the queue).
type Relay struct {
	Host     string
	Port     uint16
	Username string
	Password string
}

// SendmailConfig configures the sendmail addon's relay.
type SendmailConfig struct {
	// Dir holds the queue (Dir/queue); <state>/addons/sendmail.
	Dir string
	// Port is the port apps submit mail to; default 2525.
	Port uint16
	// Listen are the addresses besides 127.0.0.1 to listen on.
	Listen []netip.Addr
	// FromDomain is the domain of the apps' sender addresses
	// (MAIL_FROM is <app>@FromDomain); default "hearth.local".
	FromDomain string
	// Relay returns the owner's mail provider; nil or an empty Host
	// queues mail until one is set.
	Relay func() Relay
	// RetryEvery is how often the queue is tried; default 1 minute. A
	// message is given up after MaxAge (default 3 days).
	RetryEvery time.Duration
	MaxAge     time.Duration
	// DialTimeout bounds each connection to the relay; default 30 s.
	DialTimeout time.Duration
	Logger      *slog.Logger
}

// Sendmail is the sendmail addon: an SMTP submission server on the apps'
// gateways that takes mail from apps that log in with their own
// credentials, from their own subnet and with their own sender address,
// queues it on disk and relays it through the owner's mail provider,
// retrying until it is accepted.
type Sendmail struct {
	cfg SendmailConfig
	log *slog.Logger

	// mu guards users, listen and the running server's fields below.
	mu     sync.Mutex
	users  map[string]mailUser // by user name
	listen []netip.Addr
	srv    *smtp.Server
	cancel context.CancelFunc
	wake   chan struct{}
	wg     sync.WaitGroup // the listeners' and the delivery loop's goroutines
}

type mailUser struct {
	app    string
	subnet netip.Prefix
	hash   [32]byte
}

var _ Server = (*Sendmail)(nil)

// NewSendmail validates cfg. It starts nothing.
func NewSendmail(cfg SendmailConfig) (*Sendmail, error) {
	if !filepath.IsAbs(cfg.Dir) {
		return nil, fmt.Errorf("sendmail: Dir %q: must be an absolute path: %w", cfg.Dir, ErrInvalid)
	}
	if cfg.Port == 0 {
		cfg.Port = 2525
	}
	if cfg.FromDomain == "" {
		cfg.FromDomain = "hearth.local"
	}
	if cfg.Relay == nil {
		cfg.Relay = func() Relay { return Relay{} }
	}
	if cfg.RetryEvery == 0 {
		cfg.RetryEvery = time.Minute
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = 72 * time.Hour
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	listen, err := listenAddrs(cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("sendmail: %w", err)
	}
	return &Sendmail{cfg: cfg, log: cfg.Logger.With("component", "addons"), users: map[string]mailUser{}, listen: listen}, nil
}

func (s *Sendmail) queueDir() string { return filepath.Join(s.cfg.Dir, "queue") }

// Start listens on 127.0.0.1 and the gateways and starts the delivery loop.
func (s *Sendmail) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return nil
	}
	if err := os.MkdirAll(s.queueDir(), 0o700); err != nil {
		return fmt.Errorf("sendmail: %w", err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = s.cfg.FromDomain
	srv.AllowInsecureAuth = true // on the app's own network; see docs/addons.md
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 50
	srv.ReadTimeout, srv.WriteTimeout = time.Minute, time.Minute
	var ls []net.Listener
	for _, a := range s.listen {
		var lc net.ListenConfig
		l, err := lc.Listen(ctx, "tcp", netip.AddrPortFrom(a, s.cfg.Port).String())
		if err != nil {
			for _, l := range ls {
				l.Close()
			}
			return fmt.Errorf("sendmail: %w", err)
		}
		ls = append(ls, l)
	}
	loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.srv, s.cancel, s.wake = srv, cancel, make(chan struct{}, 1)
	for _, l := range ls {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := srv.Serve(l); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
				s.log.Warn("sendmail listener ended", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.deliverLoop(loopCtx, s.wake)
	}()
	return nil
}

// Stop closes the listeners and ends the delivery loop; queued mail stays
// on disk for the next Start.
func (s *Sendmail) Stop(ctx context.Context) error {
	s.mu.Lock()
	srv, cancel := s.srv, s.cancel
	s.srv, s.cancel = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	cancel()
	err := srv.Close()
	s.wg.Wait()
	if err != nil {
		return fmt.Errorf("sendmail: %w", err)
	}
	return nil
}

// Running says whether the server was started and not stopped.
func (s *Sendmail) Running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv != nil
}

// SetListen changes the addresses besides 127.0.0.1; a running server
// listens anew when they change.
func (s *Sendmail) SetListen(ctx context.Context, addrs []netip.Addr) error {
	listen, err := listenAddrs(addrs)
	if err != nil {
		return fmt.Errorf("sendmail: %w", err)
	}
	s.mu.Lock()
	same := slices.Equal(listen, s.listen)
	s.listen = listen
	running := s.srv != nil
	s.mu.Unlock()
	if same || !running {
		return nil
	}
	if err := s.Stop(ctx); err != nil {
		return err
	}
	return s.Start(ctx)
}

// Port is the submission port.
func (s *Sendmail) Port() uint16 { return s.cfg.Port }

// Ensure sets the app's credentials (kept in memory: the agent ensures
// every app again at start).
func (s *Sendmail) Ensure(ctx context.Context, app string, subnet netip.Prefix, password string) error {
	if err := checkArgs(app, subnet, password); err != nil {
		return fmt.Errorf("sendmail: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[UserName(app)] = mailUser{app: app, subnet: subnet, hash: sha256.Sum256([]byte(password))}
	return nil
}

// Drop forgets the app's credentials; its queued mail is still delivered.
func (s *Sendmail) Drop(ctx context.Context, app string) error {
	if err := checkApp(app); err != nil {
		return fmt.Errorf("sendmail: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, UserName(app))
	return nil
}

// Dump writes nothing: the addon keeps no data of the app's (the queue is
// mail on its way out).
func (s *Sendmail) Dump(ctx context.Context, app string, w io.Writer) error { return checkApp(app) }

// Restore reads and ignores a Dump.
func (s *Sendmail) Restore(ctx context.Context, app string, r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return errors.Join(checkApp(app), err)
}

// From is the app's sender address.
func (s *Sendmail) From(app string) string { return app + "@" + s.cfg.FromDomain }

// Env gives MAIL_SMTP_SERVER, _PORT, _USERNAME, _PASSWORD and MAIL_FROM.
func (s *Sendmail) Env(app string, c Conn) map[string]string {
	return map[string]string{
		"MAIL_SMTP_SERVER":   c.Host.String(),
		"MAIL_SMTP_PORT":     strconv.Itoa(int(s.cfg.Port)),
		"MAIL_SMTP_USERNAME": UserName(app),
		"MAIL_SMTP_PASSWORD": c.Password,
		"MAIL_FROM":          s.From(app),
	}
}

// login checks an app's credentials and that it connects from its subnet.
func (s *Sendmail) login(remote net.Addr, user, password string) (string, error) {
	s.mu.Lock()
	u, ok := s.users[user]
	s.mu.Unlock()
	h := sha256.Sum256([]byte(password))
	good := ok && subtle.ConstantTimeCompare(h[:], u.hash[:]) == 1
	if good {
		src, _ := netip.ParseAddrPort(remote.String())
		good = u.subnet.Contains(src.Addr().Unmap())
	}
	if !good {
		return "", &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "authentication failed"}
	}
	return u.app, nil
}

// session is one SMTP connection.
type session struct {
	s      *Sendmail
	remote net.Addr
	app    string
	msg    queued
}

func (s *Sendmail) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, remote: c.Conn().RemoteAddr()}, nil
}

var errNeedAuth = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, password string) error {
		if identity != "" && identity != user {
			return errors.New("identity must be the user")
		}
		app, err := ss.s.login(ss.remote, user, password)
		if err != nil {
			return err
		}
		ss.app = app
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.app == "" {
		return errNeedAuth
	}
	if !strings.EqualFold(from, ss.s.From(ss.app)) {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "sender must be " + ss.s.From(ss.app)}
	}
	ss.msg = queued{App: ss.app, From: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.app == "" {
		return errNeedAuth
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.app == "" {
		return errNeedAuth
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = b
	if err := ss.s.enqueue(ss.msg); err != nil {
		ss.s.log.Error("sendmail: queue", "app", ss.app, "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "could not queue the message"}
	}
	return nil
}

func (ss *session) Reset()        { ss.msg = queued{} }
func (ss *session) Logout() error { return nil }

var _ smtp.AuthSession = (*session)(nil)

// queueSnapshot lists the queued messages (tests and status).
func (s *Sendmail) queueSnapshot() ([]queued, error) {
	names, err := s.queueNames()
	if err != nil {
		return nil, err
	}
	var out []queued
	for _, n := range names {
		q, err := s.readQueued(n)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}
