package notify

import (
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Store keeps the notices and reads the SMTP settings. Package agent
// adapts its state store to it.
type Store interface {
	// Notices returns the notices kept, newest first.
	Notices() ([]Notice, error)
	// PutNotice adds a notice, or replaces the one with its ID; the store
	// keeps a bounded number, dropping the oldest.
	PutNotice(n Notice) error
	// SMTP returns the mail settings; the zero SMTP when none are set.
	SMTP() (SMTP, error)
}

// Check looks for trouble on a timer (a stale backup, a certificate that
// could not be renewed) and returns the notices to give.
type Check func(ctx context.Context) ([]Notice, error)

// StatfsFunc reads a file system's numbers (syscall.Statfs).
type StatfsFunc func(path string, st *syscall.Statfs_t) error

// Defaults of Config.
const (
	DefaultDedup         = 6 * time.Hour
	DefaultRetryBase     = time.Minute
	DefaultRetryMax      = time.Hour
	DefaultMaxAttempts   = 12
	DefaultRetryTick     = 15 * time.Second
	DefaultCheckInterval = 5 * time.Minute
	DefaultTimeout       = 30 * time.Second
)

// Config wires a Notifier. Store is required.
type Config struct {
	Store Store
	// DataRoot is the file system the disk check watches; "" turns the
	// check off. Statfs reads it (default syscall.Statfs).
	DataRoot string
	Statfs   StatfsFunc
	// Checks run with the disk check, every CheckInterval (default 5
	// minutes), first when Run starts.
	Checks        []Check
	CheckInterval time.Duration
	// Dedup is how long the same kind and app stay quiet after a notice
	// (default 6 hours).
	Dedup time.Duration
	// RetryBase is the wait after the first failed mail, doubled after
	// each further failure up to RetryMax (defaults 1 minute, 1 hour);
	// after MaxAttempts failures (default 12) the mail is given up.
	// RetryTick is how often due mails are looked for (default 15 s).
	RetryBase, RetryMax time.Duration
	MaxAttempts         int
	RetryTick           time.Duration
	// Timeout bounds one mail's SMTP conversation (default 30 s).
	Timeout time.Duration
	// RootCAs checks the mail server's certificate; nil means the
	// system's CAs (tests give their own).
	RootCAs *x509.CertPool
	// BoxName names the box in subjects and in EHLO (default "hearth").
	BoxName string
	Now     func() time.Time
	Logger  *slog.Logger
}

// Notifier keeps notices and mails them. Its methods are safe for
// concurrent use; Run sends the mails and runs the checks.
type Notifier struct {
	cfg   Config
	log   *slog.Logger
	store Store
	mail  mailer
	kick  chan struct{} // capacity 1: a mail is due

	// mu serialises the read-modify-write of notices in the store and
	// guards lastID, the newest id given (ids grow).
	mu     sync.Mutex
	lastID int64
}

// New checks cfg and returns a Notifier.
func New(cfg Config) (*Notifier, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("notify config: Store is required: %w", ErrInvalid)
	}
	if cfg.Statfs == nil {
		cfg.Statfs = syscall.Statfs
	}
	defaults := []struct {
		d   *time.Duration
		def time.Duration
	}{{&cfg.CheckInterval, DefaultCheckInterval}, {&cfg.Dedup, DefaultDedup}, {&cfg.RetryBase, DefaultRetryBase},
		{&cfg.RetryMax, DefaultRetryMax}, {&cfg.RetryTick, DefaultRetryTick}, {&cfg.Timeout, DefaultTimeout}}
	for _, d := range defaults {
		if *d.d <= 0 {
			*d.d = d.def
		}
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.BoxName == "" {
		cfg.BoxName = "hearth"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "notify"),
		store: cfg.Store,
		mail:  mailer{roots: cfg.RootCAs, helo: cfg.BoxName, timeout: cfg.Timeout},
		kick:  make(chan struct{}, 1),
	}, nil
}

// Notify keeps n for the web UI and queues its mail when SMTP settings
// are stored. When the same kind and app were notified less than Dedup
// ago, that notice counts one more and Notify returns it with an error
// matching ErrDuplicate: no new notice, no new mail.
func (nf *Notifier) Notify(ctx context.Context, n Notice) (Notice, error) {
	if err := n.validate(); err != nil {
		return Notice{}, fmt.Errorf("notice: %w", err)
	}
	n = n.clean()
	if err := ctx.Err(); err != nil {
		return Notice{}, err
	}
	now := nf.now()
	if n.Time.IsZero() {
		n.Time = now
	}
	settings, err := nf.store.SMTP()
	if err != nil {
		return Notice{}, fmt.Errorf("read smtp settings: %w", err)
	}
	nf.mu.Lock()
	defer nf.mu.Unlock()
	list, err := nf.store.Notices()
	if err != nil {
		return Notice{}, fmt.Errorf("read notices: %w", err)
	}
	for _, old := range list {
		if old.Kind == n.Kind && old.App == n.App && now.Sub(old.Time) < nf.cfg.Dedup {
			old.Count++
			old.Last = n.Time
			if err := nf.store.PutNotice(old); err != nil {
				return Notice{}, fmt.Errorf("store notice: %w", err)
			}
			return old, fmt.Errorf("%s for %q at %s: %w", n.Kind, n.App, old.Time.Format(time.RFC3339), ErrDuplicate)
		}
	}
	n.ID = nf.newID(now, list)
	n.Count, n.Last, n.Read, n.Dismissed = 1, time.Time{}, false, false
	n.Mail, n.Attempts, n.NextTry, n.MailError = MailNone, 0, time.Time{}, ""
	if settings.Configured() {
		n.Mail, n.NextTry = MailPending, now
	}
	if err := nf.store.PutNotice(n); err != nil {
		return Notice{}, fmt.Errorf("store notice: %w", err)
	}
	nf.log.Info("notice", "kind", n.Kind, "app", n.App, "id", n.ID, "mail", n.Mail)
	if n.Mail == MailPending {
		select {
		case nf.kick <- struct{}{}:
		default:
		}
	}
	return n, nil
}

// newID returns an id that sorts after every other: the time in
// nanoseconds, 16 hex digits. nf.mu is held.
func (nf *Notifier) newID(now time.Time, list []Notice) string {
	id := now.UnixNano()
	for _, n := range list {
		if v, err := strconv.ParseInt(n.ID, 16, 64); err == nil && v > nf.lastID {
			nf.lastID = v
		}
	}
	if id <= nf.lastID {
		id = nf.lastID + 1
	}
	nf.lastID = id
	return fmt.Sprintf("%016x", id)
}

// Notices returns the notices kept, newest first, the dismissed ones too.
func (nf *Notifier) Notices(ctx context.Context) ([]Notice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list, err := nf.store.Notices()
	if err != nil {
		return nil, fmt.Errorf("read notices: %w", err)
	}
	return list, nil
}

// MarkRead marks a notice read.
func (nf *Notifier) MarkRead(ctx context.Context, id string) (Notice, error) {
	return nf.update(ctx, id, func(n *Notice) { n.Read = true })
}

// Dismiss hides a notice from the list (and marks it read).
func (nf *Notifier) Dismiss(ctx context.Context, id string) (Notice, error) {
	return nf.update(ctx, id, func(n *Notice) { n.Read, n.Dismissed = true, true })
}

// update changes the notice with id under nf.mu.
func (nf *Notifier) update(ctx context.Context, id string, change func(*Notice)) (Notice, error) {
	if err := ctx.Err(); err != nil {
		return Notice{}, err
	}
	nf.mu.Lock()
	defer nf.mu.Unlock()
	list, err := nf.store.Notices()
	if err != nil {
		return Notice{}, fmt.Errorf("read notices: %w", err)
	}
	for _, n := range list {
		if n.ID == id {
			change(&n)
			if err := nf.store.PutNotice(n); err != nil {
				return Notice{}, fmt.Errorf("store notice: %w", err)
			}
			return n, nil
		}
	}
	return Notice{}, fmt.Errorf("notice %q: %w", id, ErrNotFound)
}

// TestMail sends a test mail through the stored settings now and says
// why it failed: ErrNoSMTP when there are none, ErrSend (with the
// server's words) when the server refused it.
func (nf *Notifier) TestMail(ctx context.Context) error {
	s, err := nf.store.SMTP()
	if err != nil {
		return fmt.Errorf("read smtp settings: %w", err)
	}
	if !s.Configured() {
		return ErrNoSMTP
	}
	now := nf.now()
	n := Notice{Kind: Test, Title: "Test mail", Time: now,
		Body: "This is a test of the box's mail settings. Notices about backups, updates, memory, certificates and disk space arrive like this one."}
	return nf.mail.send(ctx, s, message(s, n, nf.cfg.BoxName, now))
}

func (nf *Notifier) now() time.Time { return nf.cfg.Now().UTC().Round(0) }

// backoff is the wait after the attempts-th failure.
func (nf *Notifier) backoff(attempts int) time.Duration {
	d := nf.cfg.RetryBase
	for i := 1; i < attempts && d < nf.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, nf.cfg.RetryMax)
}
