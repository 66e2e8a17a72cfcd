package apitest

import (
	"context"
	"fmt"

	"github.com/hearthbox/hearth/agent/api"
)

// Notify is the canned notices and mail settings of a Fake.
type Notify struct {
	// Notices is what Notices returns; ReadNotice and DismissNotice
	// change them.
	Notices []api.Notice
	// SMTP is what SMTPSettings returns; SetSMTP replaces it (the password
	// as PasswordSet only, as the agent shows it).
	SMTP api.SMTPSettings
}

// Notices implements api.NotifyService.
func (f *Fake) Notices(ctx context.Context) ([]api.Notice, error) {
	if err := f.record(ctx, "Notices"); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Notice(nil), f.Notify.Notices...), nil
}

// ReadNotice implements api.NotifyService.
func (f *Fake) ReadNotice(ctx context.Context, id string) error {
	if err := f.record(ctx, "ReadNotice", id); err != nil {
		return err
	}
	return f.changeNotice(id, func(n *api.Notice) { n.Read = true })
}

// DismissNotice implements api.NotifyService.
func (f *Fake) DismissNotice(ctx context.Context, id string) error {
	if err := f.record(ctx, "DismissNotice", id); err != nil {
		return err
	}
	return f.changeNotice(id, func(n *api.Notice) { n.Read, n.Dismissed = true, true })
}

func (f *Fake) changeNotice(id string, change func(*api.Notice)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.Notify.Notices {
		if f.Notify.Notices[i].ID == id {
			change(&f.Notify.Notices[i])
			return nil
		}
	}
	return fmt.Errorf("notice %q: %w", id, api.ErrNotFound)
}

// SMTPSettings implements api.NotifyService.
func (f *Fake) SMTPSettings(ctx context.Context) (api.SMTPSettings, error) {
	if err := f.record(ctx, "SMTPSettings"); err != nil {
		return api.SMTPSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Notify.SMTP, nil
}

// SetSMTP implements api.NotifyService.
func (f *Fake) SetSMTP(ctx context.Context, req api.SetSMTPRequest) (api.SMTPSettings, error) {
	if err := f.record(ctx, "SetSMTP", req); err != nil {
		return api.SMTPSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if req.Host == "" {
		f.Notify.SMTP = api.SMTPSettings{}
		return f.Notify.SMTP, nil
	}
	set := req.Password != "" || (f.Notify.SMTP.PasswordSet && req.User != "")
	if req.Security == "" {
		req.Security = api.SMTPStartTLS
	}
	f.Notify.SMTP = api.SMTPSettings{Host: req.Host, Port: req.Port, Security: req.Security, User: req.User,
		PasswordSet: set, From: req.From, To: req.To}
	return f.Notify.SMTP, nil
}

// TestSMTP implements api.NotifyService: it sends nothing.
func (f *Fake) TestSMTP(ctx context.Context) error {
	return f.record(ctx, "TestSMTP")
}
