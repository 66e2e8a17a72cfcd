package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// bucketNotices holds the owner's notices, key "n/<id>" (ids are 16 hex
// digits that grow with time), and the SMTP settings, key "smtp". It came
// after schema 1 (see addedBuckets).
var bucketNotices = []byte("notices")

var (
	noticePrefix = []byte("n/")
	smtpKey      = []byte("smtp")
)

// MaxNotices is how many notices are kept, the newest.
const MaxNotices = 200

// Notice is one thing the owner was told (package notify makes them):
// kept for the web UI and mailed through the SMTP settings.
type Notice struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	App       string    `json:"app,omitempty"`
	Title     string    `json:"title"`
	Body      string    `json:"body,omitempty"`
	Time      time.Time `json:"time"`
	Last      time.Time `json:"last,omitzero"`
	Count     int       `json:"count,omitempty"`
	Read      bool      `json:"read,omitempty"`
	Dismissed bool      `json:"dismissed,omitempty"`
	// Mail is "", pending, sent or failed.
	Mail      string    `json:"mail,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	NextTry   time.Time `json:"nextTry,omitzero"`
	MailError string    `json:"mailError,omitempty"`
}

// SMTP is the owner's mail settings (bucket notices, key "smtp"). The
// password is stored here and never shown again.
type SMTP struct {
	Host     string   `json:"host,omitempty"`
	Port     int      `json:"port,omitempty"`
	Security string   `json:"security,omitempty"` // starttls | tls
	User     string   `json:"user,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

func noticeKey(id string) []byte { return append(bytes.Clone(noticePrefix), id...) }

// Notices returns the notices kept, newest first.
func (tx *Tx) Notices() ([]Notice, error) {
	b, err := tx.bucket(bucketNotices)
	if err != nil {
		return nil, err
	}
	var out []Notice
	c := b.Cursor()
	for k, v := c.Seek(noticePrefix); k != nil && bytes.HasPrefix(k, noticePrefix); k, v = c.Next() {
		var n Notice
		if err := decode(v, &n); err != nil {
			return nil, fmt.Errorf("notices/%s: %w", k, err)
		}
		out = append(out, n)
	}
	slices.Reverse(out)
	return out, nil
}

// PutNotice adds a notice or replaces the one with its ID, then deletes
// the oldest beyond MaxNotices. MailError is cut to MaxText bytes.
func (tx *Tx) PutNotice(n Notice) error {
	if err := tx.writable(); err != nil {
		return err
	}
	n.MailError = truncate(n.MailError)
	if err := validateNotice(n); err != nil {
		return err
	}
	if err := tx.put(bucketNotices, noticeKey(n.ID), n); err != nil {
		return err
	}
	b, err := tx.bucket(bucketNotices)
	if err != nil {
		return err
	}
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(noticePrefix); k != nil && bytes.HasPrefix(k, noticePrefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for len(keys) > MaxNotices {
		if err := b.Delete(keys[0]); err != nil {
			return fmt.Errorf("delete notices/%s: %w", keys[0], err)
		}
		tx.changed = true
		keys = keys[1:]
	}
	return nil
}

// SMTP returns the mail settings; the zero SMTP when none were set.
func (tx *Tx) SMTP() (SMTP, error) {
	var s SMTP
	if _, err := tx.get(bucketNotices, smtpKey, &s); err != nil {
		return SMTP{}, err
	}
	return s, nil
}

// PutSMTP replaces the mail settings after checking their shape (package
// notify checks the addresses).
func (tx *Tx) PutSMTP(s SMTP) error {
	if err := tx.writable(); err != nil {
		return err
	}
	if err := validateSMTP(s); err != nil {
		return err
	}
	return tx.put(bucketNotices, smtpKey, s)
}

// Notices returns the notices kept, newest first (see Tx.Notices).
func (s *Store) Notices() ([]Notice, error) {
	var out []Notice
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.Notices()
		return err
	})
	return out, err
}

// PutNotice adds or replaces a notice (see Tx.PutNotice).
func (s *Store) PutNotice(n Notice) error {
	return s.Update(func(tx *Tx) error { return tx.PutNotice(n) })
}

// SMTP returns the mail settings (see Tx.SMTP).
func (s *Store) SMTP() (SMTP, error) {
	var out SMTP
	err := s.View(func(tx *Tx) error {
		var err error
		out, err = tx.SMTP()
		return err
	})
	return out, err
}

// PutSMTP replaces the mail settings (see Tx.PutSMTP).
func (s *Store) PutSMTP(settings SMTP) error {
	return s.Update(func(tx *Tx) error { return tx.PutSMTP(settings) })
}

func validateNotice(n Notice) error {
	errs := []error{
		checkHexID("id", n.ID),
		checkWord("kind", n.Kind, 64, true),
		checkText("title", n.Title, 200, true),
		checkBody("body", n.Body, MaxText),
		checkText("mailError", n.MailError, MaxText, false),
		oneOf("mail", n.Mail, "", "pending", "sent", "failed"),
	}
	if n.App != "" {
		errs = append(errs, checkSlug("app", n.App))
	}
	if n.Time.IsZero() {
		errs = append(errs, &FieldError{Field: "time", Reason: "must be set"})
	}
	if n.Count < 0 || n.Attempts < 0 {
		errs = append(errs, &FieldError{Field: "count", Reason: "count and attempts must not be negative"})
	}
	return errors.Join(errs...)
}

// checkHexID accepts the 16 lowercase hex digits of a notice id.
func checkHexID(field, s string) error {
	ok := len(s) == 16
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f'
	}
	if !ok {
		return &FieldError{Field: field, Reason: fmt.Sprintf("%q must be 16 digits of 0-9 and a-f", s)}
	}
	return nil
}

// checkBody accepts printable UTF-8 with newlines and tabs.
func checkBody(field, s string, max int) error {
	switch {
	case len(s) > max:
		return &FieldError{Field: field, Reason: fmt.Sprintf("is %d bytes, more than %d", len(s), max)}
	case !utf8.ValidString(s):
		return &FieldError{Field: field, Reason: "is not valid UTF-8"}
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		return &FieldError{Field: field, Reason: "must not hold control characters but newlines and tabs"}
	}
	return nil
}

func validateSMTP(s SMTP) error {
	if s.Host == "" {
		if len(s.To) > 0 || s.From != "" || s.User != "" || s.Password != "" {
			return &FieldError{Field: "host", Reason: "must be set with the other settings"}
		}
		return nil
	}
	errs := []error{
		checkWord("host", s.Host, 253, true),
		oneOf("security", s.Security, "starttls", "tls"),
		checkText("user", s.User, 256, false),
		checkText("password", s.Password, 1024, false),
		checkText("from", s.From, 320, true),
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, &FieldError{Field: "port", Reason: fmt.Sprintf("%d is not 0 to 65535", s.Port)})
	}
	if len(s.To) == 0 || len(s.To) > 10 {
		errs = append(errs, &FieldError{Field: "to", Reason: fmt.Sprintf("names %d addresses, want 1 to 10", len(s.To))})
	}
	for i, to := range s.To {
		errs = append(errs, checkText(fmt.Sprintf("to[%d]", i), to, 320, true))
	}
	return errors.Join(errs...)
}
