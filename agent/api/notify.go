package api

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// NotifyService is the part of Service that tells the owner what needs
// their eye: the notices the web UI lists, and the SMTP settings they
// are mailed through (docs/notifications.md).
type NotifyService interface {
	// Notices returns the notices kept, newest first, dismissed ones too.
	Notices(ctx context.Context) ([]Notice, error)
	// ReadNotice marks a notice read; DismissNotice hides it (and marks it
	// read). An unknown id is ErrNotFound.
	ReadNotice(ctx context.Context, id string) error
	DismissNotice(ctx context.Context, id string) error
	// SMTPSettings returns the mail settings, the password left out.
	SMTPSettings(ctx context.Context) (SMTPSettings, error)
	// SetSMTP replaces the mail settings; see SetSMTPRequest.
	SetSMTP(ctx context.Context, req SetSMTPRequest) (SMTPSettings, error)
	// TestSMTP sends a test mail now through the stored settings. No
	// settings is ErrInvalid; a server that cannot be reached or refuses
	// is ErrRefused, with the server's words.
	TestSMTP(ctx context.Context) error
}

// Notice is one thing the owner is told. Kind is backup-failed,
// backup-stale, update-rolled-back, app-oom, certificate-renewal-failed
// or disk-full.
type Notice struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	App   string `json:"app,omitempty"` // "" for the box
	Title string `json:"title"`
	Body  string `json:"body,omitempty"`
	// Time is when it first happened; it happened Count times, the last at
	// Last (zero when once), in the six hours that keep one kind and app
	// to one notice and one mail.
	Time      time.Time `json:"time"`
	Last      time.Time `json:"last,omitzero"`
	Count     int       `json:"count"`
	Read      bool      `json:"read"`
	Dismissed bool      `json:"dismissed"`
	// Mail is "" (no SMTP settings when it happened), pending, sent or
	// failed; MailError says why the last try failed.
	Mail      string `json:"mail,omitempty"`
	MailError string `json:"mailError,omitempty"`
}

// Connection security of SMTPSettings (there is no plain text).
const (
	SMTPStartTLS = "starttls"
	SMTPTLS      = "tls"
)

// SMTPSettings are the mail settings as the API shows them: whether a
// password is stored, never the password.
type SMTPSettings struct {
	// Host "" means no mail is sent.
	Host string `json:"host,omitempty"`
	// Port 0 means 587 for starttls and 465 for tls.
	Port        int      `json:"port,omitempty"`
	Security    string   `json:"security,omitempty"`
	User        string   `json:"user,omitempty"`
	PasswordSet bool     `json:"passwordSet"`
	From        string   `json:"from,omitempty"`
	To          []string `json:"to,omitempty"`
}

// SetSMTPRequest replaces the mail settings. Host "" turns mail off and
// forgets the settings. Password "" keeps the stored one (when User is
// still set).
type SetSMTPRequest struct {
	Host     string   `json:"host"`
	Port     int      `json:"port,omitempty"`
	Security string   `json:"security,omitempty"` // starttls (default) or tls
	User     string   `json:"user,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from,omitempty"`
	To       []string `json:"to,omitempty"`
}

// Notices implements NotifyService.
func (c *Client) Notices(ctx context.Context) ([]Notice, error) {
	var out []Notice
	err := c.call(ctx, http.MethodGet, "/v1/notices", nil, nil, &out)
	return out, err
}

// ReadNotice implements NotifyService.
func (c *Client) ReadNotice(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodPost, "/v1/notices/"+url.PathEscape(id)+"/read", nil, nil, nil)
}

// DismissNotice implements NotifyService.
func (c *Client) DismissNotice(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodPost, "/v1/notices/"+url.PathEscape(id)+"/dismiss", nil, nil, nil)
}

// SMTPSettings implements NotifyService.
func (c *Client) SMTPSettings(ctx context.Context) (SMTPSettings, error) {
	var s SMTPSettings
	err := c.call(ctx, http.MethodGet, "/v1/smtp", nil, nil, &s)
	return s, err
}

// SetSMTP implements NotifyService.
func (c *Client) SetSMTP(ctx context.Context, req SetSMTPRequest) (SMTPSettings, error) {
	var s SMTPSettings
	err := c.call(ctx, http.MethodPut, "/v1/smtp", nil, req, &s)
	return s, err
}

// TestSMTP implements NotifyService.
func (c *Client) TestSMTP(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/v1/smtp/test", nil, nil, nil)
}
