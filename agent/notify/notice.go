package notify

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors of the package; match them with errors.Is.
var (
	// ErrInvalid: a notice or the SMTP settings failed validation; the
	// error names the field.
	ErrInvalid = errors.New("invalid")
	// ErrNotFound: no notice with that id.
	ErrNotFound = errors.New("notice not found")
	// ErrDuplicate: the same kind and app was notified less than the
	// de-duplication window ago; the earlier notice counts one more.
	ErrDuplicate = errors.New("already notified")
	// ErrNoSMTP: no SMTP settings are stored, so no mail can be sent.
	ErrNoSMTP = errors.New("no smtp settings")
	// ErrSend: the mail server could not be reached or refused the mail.
	ErrSend = errors.New("mail not sent")
)

// Kind is what a notice is about.
type Kind string

// The kinds of notice.
const (
	BackupFailed      Kind = "backup-failed"
	BackupStale       Kind = "backup-stale" // no backup newer than a day
	UpdateRolledBack  Kind = "update-rolled-back"
	AppOOM            Kind = "app-oom"
	CertRenewalFailed Kind = "certificate-renewal-failed"
	DiskFull          Kind = "disk-full"
	// Test is the kind of the mail TestSMTP sends; it is never stored.
	Test Kind = "test"
)

// Kinds lists the kinds Notify accepts.
func Kinds() []Kind {
	return []Kind{BackupFailed, BackupStale, UpdateRolledBack, AppOOM, CertRenewalFailed, DiskFull}
}

// MailState is where a notice's mail stands.
type MailState string

// The states of a notice's mail. A notice made while no SMTP settings
// were stored has no mail (MailNone).
const (
	MailNone    MailState = ""
	MailPending MailState = "pending"
	MailSent    MailState = "sent"
	MailFailed  MailState = "failed" // given up after MaxAttempts
)

// Limits on a notice's text.
const (
	MaxTitle = 200
	MaxBody  = 4096
)

// Notice is one thing the owner is told. Notify fills in ID, Time (when
// zero), Count and Mail; the rest is the caller's.
type Notice struct {
	ID   string
	Kind Kind
	// App is the app it is about; "" for the box (a full disk).
	App   string
	Title string
	Body  string
	// Time is when it first happened; Last is when it last happened again
	// inside the de-duplication window, and Count how often it happened.
	Time  time.Time
	Last  time.Time
	Count int
	// Read and Dismissed are the owner's: a dismissed notice is hidden
	// from the list, but still keeps its kind and app quiet for the window.
	Read      bool
	Dismissed bool
	// Mail is where its mail stands; Attempts counts the failed tries,
	// NextTry is when the next one is due and MailError why the last failed.
	Mail      MailState
	Attempts  int
	NextTry   time.Time
	MailError string
}

// validate checks what the caller of Notify gives.
func (n Notice) validate() error {
	var errs []error
	known := false
	for _, k := range Kinds() {
		known = known || n.Kind == k
	}
	if !known {
		errs = append(errs, fieldErr("kind", fmt.Sprintf("%q is not one of %s", n.Kind, kindList())))
	}
	if n.App != "" && !isSlug(n.App) {
		errs = append(errs, fieldErr("app", fmt.Sprintf("%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", n.App)))
	}
	if strings.TrimSpace(n.Title) == "" {
		errs = append(errs, fieldErr("title", "must not be empty"))
	}
	return errors.Join(errs...)
}

// clean makes a notice's text safe to store and to mail: invalid UTF-8
// and control characters (but newlines and tabs in the body) become
// spaces or U+FFFD, and text over the limits is cut, ending in "…". A
// title can then never add a mail header.
func (n Notice) clean() Notice {
	n.Title = cleanText(n.Title, MaxTitle, false)
	n.Body = cleanText(n.Body, MaxBody, true)
	return n
}

func cleanText(s string, max int, multiline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

func fieldErr(field, reason string) error {
	return fmt.Errorf("%s: %s: %w", field, reason, ErrInvalid)
}

// checkText accepts valid UTF-8 of at most max bytes without control
// characters (but newlines and tabs when multiline).
func checkText(field, s string, max int, required, multiline bool) error {
	switch {
	case s == "" && required:
		return fieldErr(field, "must not be empty")
	case len(s) > max:
		return fieldErr(field, fmt.Sprintf("is %d bytes, more than %d", len(s), max))
	case !utf8.ValidString(s):
		return fieldErr(field, "is not valid UTF-8")
	}
	bad := func(r rune) bool { return unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t')) }
	if strings.IndexFunc(s, bad) >= 0 {
		return fieldErr(field, "must not hold control characters")
	}
	return nil
}

// isSlug reports whether s is an app id: [a-z][a-z0-9-]{0,30}[a-z0-9].
func isSlug(s string) bool {
	if len(s) < 2 || len(s) > 32 || s[0] < 'a' || s[0] > 'z' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
