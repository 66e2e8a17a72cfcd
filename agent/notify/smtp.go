package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// Security is how the mail connection is protected. There is no plain
// text: the password and the notices cross the network.
type Security string

// The kinds of connection security.
const (
	// StartTLS connects in plain text and upgrades with STARTTLS (port
	// 587); a server that does not offer it is refused.
	StartTLS Security = "starttls"
	// ImplicitTLS speaks TLS from the first byte (port 465).
	ImplicitTLS Security = "tls"
)

// MaxRecipients bounds SMTP.To.
const MaxRecipients = 10

// SMTP is the owner's mail settings. The zero SMTP (no Host) sends no mail.
type SMTP struct {
	Host string
	// Port is 587 (StartTLS) or 465 (ImplicitTLS) when 0.
	Port     int
	Security Security
	// User and Password log in (PLAIN, over TLS only); no User sends
	// without logging in.
	User     string
	Password string
	// From is the sender ("Hearth <box@example.net>"); To the owner's
	// addresses.
	From string
	To   []string
}

// Configured reports whether mail is to be sent.
func (s SMTP) Configured() bool { return s.Host != "" }

// port is the port to dial.
func (s SMTP) port() int {
	switch {
	case s.Port != 0:
		return s.Port
	case s.Security == ImplicitTLS:
		return 465
	}
	return 587
}

// Validate checks settings that are Configured; the zero SMTP is valid.
func (s SMTP) Validate() error {
	if !s.Configured() {
		return nil
	}
	var errs []error
	if err := checkText("host", s.Host, 253, true, false); err != nil {
		errs = append(errs, err)
	} else if strings.ContainsAny(s.Host, " /:@") && net.ParseIP(s.Host) == nil {
		errs = append(errs, fieldErr("host", fmt.Sprintf("%q is not a host name or address", s.Host)))
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, fieldErr("port", fmt.Sprintf("%d is not 0 to 65535", s.Port)))
	}
	if s.Security != StartTLS && s.Security != ImplicitTLS {
		errs = append(errs, fieldErr("security", fmt.Sprintf("%q is not starttls or tls", s.Security)))
	}
	errs = append(errs, checkText("user", s.User, 256, false, false), checkText("password", s.Password, 1024, false, false))
	if s.Password != "" && s.User == "" {
		errs = append(errs, fieldErr("user", "must be set with a password"))
	}
	if _, err := parseAddress("from", s.From); err != nil {
		errs = append(errs, err)
	}
	switch {
	case len(s.To) == 0:
		errs = append(errs, fieldErr("to", "must name at least one address"))
	case len(s.To) > MaxRecipients:
		errs = append(errs, fieldErr("to", fmt.Sprintf("names %d addresses, more than %d", len(s.To), MaxRecipients)))
	}
	for i, to := range s.To {
		if _, err := parseAddress(fmt.Sprintf("to[%d]", i), to); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parseAddress parses one mail address ("Name <a@b>" or "a@b").
func parseAddress(field, s string) (*mail.Address, error) {
	if err := checkText(field, s, 320, true, false); err != nil {
		return nil, err
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return nil, fieldErr(field, fmt.Sprintf("%q is not a mail address", s))
	}
	return a, nil
}

// mailer sends one message through the SMTP settings.
type mailer struct {
	// roots checks the server's certificate; nil means the system's CAs.
	roots   *x509.CertPool
	helo    string
	timeout time.Duration
}

// send delivers msg (a complete RFC 5322 message) to s.To. Errors wrap
// ErrSend, and ErrInvalid when the settings are wrong.
func (m mailer) send(ctx context.Context, s SMTP, msg []byte) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !s.Configured() {
		return ErrNoSMTP
	}
	from, _ := mail.ParseAddress(s.From)
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.port()))
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	tlsCfg := &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12, RootCAs: m.roots}
	var conn net.Conn
	var err error
	dialer := &net.Dialer{}
	if s.Security == ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w: %w", addr, err, ErrSend)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp %s: greeting: %w: %w", addr, err, ErrSend)
	}
	defer c.Close()
	if err := m.converse(c, s, tlsCfg, from.Address, msg); err != nil {
		return fmt.Errorf("smtp %s: %w: %w", addr, err, ErrSend)
	}
	return nil
}

// converse runs the SMTP dialogue after the greeting.
func (m mailer) converse(c *smtp.Client, s SMTP, tlsCfg *tls.Config, from string, msg []byte) error {
	if err := c.Hello(m.helo); err != nil {
		return fmt.Errorf("ehlo: %w", err)
	}
	if s.Security == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS; use security tls or another server")
		}
		if err := c.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.User != "" {
		if err := c.Auth(smtp.PlainAuth("", s.User, s.Password, s.Host)); err != nil {
			return fmt.Errorf("log in as %s: %w", s.User, err)
		}
	}
	if err := c.Mail(from); err != nil {
		return fmt.Errorf("mail from: %w", err)
	}
	for _, to := range s.To {
		a, _ := mail.ParseAddress(to)
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("rcpt to %s: %w", a.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("data: %w", err)
	}
	if err := c.Quit(); err != nil {
		return fmt.Errorf("quit: %w", err)
	}
	return nil
}

// message renders a notice as a plain-text mail from s.From to s.To.
func message(s SMTP, n Notice, box string, now time.Time) []byte {
	var b bytes.Buffer
	from, _ := mail.ParseAddress(s.From)
	var to []string
	for _, addr := range s.To {
		if a, err := mail.ParseAddress(addr); err == nil {
			to = append(to, a.String())
		}
	}
	host := "hearth"
	if from != nil {
		if _, domain, ok := strings.Cut(from.Address, "@"); ok {
			host = domain
		}
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	if from != nil {
		header("From", from.String())
	}
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", "["+box+"] "+n.Title))
	header("Date", now.Format(time.RFC1123Z))
	id := n.ID
	if id == "" {
		id = strconv.FormatInt(now.UnixNano(), 16)
	}
	header("Message-ID", "<"+string(n.Kind)+"."+id+"@"+host+">")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	b.WriteString("\r\n")
	var text strings.Builder
	if n.Body != "" {
		text.WriteString(n.Body + "\n\n")
	}
	if n.App != "" {
		fmt.Fprintf(&text, "App: %s\n", n.App)
	}
	t := n.Time
	if t.IsZero() {
		t = now
	}
	fmt.Fprintf(&text, "When: %s\nBox: %s\n\n", t.UTC().Format("2006-01-02 15:04 MST"), box)
	text.WriteString("The box's notices page (and 'hearth notices') lists this and what else needs your eye.\n" +
		"You get one mail per kind of trouble and app every six hours at most.\n")
	qp := quotedprintable.NewWriter(&b)
	qp.Write([]byte(strings.ReplaceAll(text.String(), "\n", "\r\n")))
	qp.Close()
	return b.Bytes()
}
