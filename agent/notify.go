package agent

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/notify"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy/certs"
	rt "github.com/hearthbox/hearth/runtime"
)

// NewNotifier returns the notifier of Config.Notifier, keeping its notices
// and reading the SMTP settings in st, and looking on its timer for apps
// whose backups are stale (backup-stale). cfg.Store is set here; cmd/hearthd
// runs the notifier's Run.
func NewNotifier(st *state.Store, cfg notify.Config) (*notify.Notifier, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Store = NoticeStore(st)
	cfg.Checks = append(cfg.Checks, StaleBackupCheck(st, cfg.Now))
	return notify.New(cfg)
}

// NoticeStore adapts the state store to notify.Store.
func NoticeStore(st *state.Store) notify.Store { return noticeStore{st: st} }

type noticeStore struct{ st *state.Store }

var _ notify.Store = noticeStore{}

func (s noticeStore) Notices() ([]notify.Notice, error) {
	recs, err := s.st.Notices()
	if err != nil {
		return nil, err
	}
	out := make([]notify.Notice, 0, len(recs))
	for _, r := range recs {
		out = append(out, notify.Notice{ID: r.ID, Kind: notify.Kind(r.Kind), App: r.App, Title: r.Title, Body: r.Body,
			Time: r.Time, Last: r.Last, Count: r.Count, Read: r.Read, Dismissed: r.Dismissed,
			Mail: notify.MailState(r.Mail), Attempts: r.Attempts, NextTry: r.NextTry, MailError: r.MailError})
	}
	return out, nil
}

func (s noticeStore) PutNotice(n notify.Notice) error {
	return s.st.PutNotice(state.Notice{ID: n.ID, Kind: string(n.Kind), App: n.App, Title: n.Title, Body: n.Body,
		Time: n.Time.UTC(), Last: n.Last.UTC(), Count: n.Count, Read: n.Read, Dismissed: n.Dismissed,
		Mail: string(n.Mail), Attempts: n.Attempts, NextTry: n.NextTry.UTC(), MailError: n.MailError})
}

func (s noticeStore) SMTP() (notify.SMTP, error) {
	r, err := s.st.SMTP()
	if err != nil {
		return notify.SMTP{}, err
	}
	return notify.SMTP{Host: r.Host, Port: r.Port, Security: notify.Security(r.Security), User: r.User,
		Password: r.Password, From: r.From, To: r.To}, nil
}

// notifier returns Config.Notifier, or ErrUnavailable without one.
func (a *Agent) notifier() (*notify.Notifier, error) {
	if a.cfg.Notifier == nil {
		return nil, fmt.Errorf("notifications are off in this hearthd: %w", api.ErrUnavailable)
	}
	return a.cfg.Notifier, nil
}

// Notices implements api.NotifyService.
func (a *Agent) Notices(ctx context.Context) ([]api.Notice, error) {
	n, err := a.notifier()
	if err != nil {
		return nil, err
	}
	list, err := n.Notices(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]api.Notice, 0, len(list))
	for _, x := range list {
		out = append(out, api.Notice{ID: x.ID, Kind: string(x.Kind), App: x.App, Title: x.Title, Body: x.Body,
			Time: x.Time, Last: x.Last, Count: x.Count, Read: x.Read, Dismissed: x.Dismissed,
			Mail: string(x.Mail), MailError: x.MailError})
	}
	return out, nil
}

// ReadNotice implements api.NotifyService.
func (a *Agent) ReadNotice(ctx context.Context, id string) error {
	n, err := a.notifier()
	if err == nil {
		_, err = n.MarkRead(ctx, id)
	}
	return noticeErr(id, err)
}

// DismissNotice implements api.NotifyService.
func (a *Agent) DismissNotice(ctx context.Context, id string) error {
	n, err := a.notifier()
	if err == nil {
		_, err = n.Dismiss(ctx, id)
	}
	return noticeErr(id, err)
}

func noticeErr(id string, err error) error {
	if errors.Is(err, notify.ErrNotFound) {
		return notFound("notice %q", id)
	}
	return err
}

// SMTPSettings implements api.NotifyService.
func (a *Agent) SMTPSettings(ctx context.Context) (api.SMTPSettings, error) {
	s, err := a.store.SMTP()
	if err != nil {
		return api.SMTPSettings{}, err
	}
	return smtpView(s), nil
}

// smtpView is the settings without the password.
func smtpView(s state.SMTP) api.SMTPSettings {
	return api.SMTPSettings{Host: s.Host, Port: s.Port, Security: s.Security, User: s.User, PasswordSet: s.Password != "",
		From: s.From, To: s.To}
}

// SetSMTP implements api.NotifyService.
func (a *Agent) SetSMTP(ctx context.Context, req api.SetSMTPRequest) (api.SMTPSettings, error) {
	var next state.SMTP
	if req.Host != "" {
		if req.Security == "" {
			req.Security = api.SMTPStartTLS
		}
		next = state.SMTP{Host: req.Host, Port: req.Port, Security: req.Security, User: req.User, Password: req.Password, From: req.From, To: req.To}
		cur, err := a.store.SMTP()
		if err != nil {
			return api.SMTPSettings{}, err
		}
		if next.Password == "" && next.User != "" {
			next.Password = cur.Password
		}
		n := notify.SMTP{Host: next.Host, Port: next.Port, Security: notify.Security(next.Security), User: next.User,
			Password: next.Password, From: next.From, To: next.To}
		if err := n.Validate(); err != nil {
			return api.SMTPSettings{}, invalid("smtp settings", err, notify.ErrInvalid)
		}
	}
	if err := a.store.PutSMTP(next); err != nil {
		if errors.Is(err, state.ErrInvalid) {
			return api.SMTPSettings{}, invalid("smtp settings", err, state.ErrInvalid)
		}
		return api.SMTPSettings{}, err
	}
	detail := "off"
	if next.Host != "" {
		detail = fmt.Sprintf("%s %s, to %s", next.Host, next.Security, strings.Join(next.To, ", "))
	}
	a.activity(api.ActorFrom(ctx), "", "smtp.set", "done", detail)
	return smtpView(next), nil
}

// TestSMTP implements api.NotifyService.
func (a *Agent) TestSMTP(ctx context.Context) error {
	n, err := a.notifier()
	if err != nil {
		return err
	}
	err = n.TestMail(ctx)
	switch {
	case errors.Is(err, notify.ErrNoSMTP):
		return fmt.Errorf("smtp settings: none are set: %w", api.ErrInvalid)
	case errors.Is(err, notify.ErrInvalid):
		return invalid("smtp settings", err, notify.ErrInvalid)
	case errors.Is(err, notify.ErrSend):
		msg := strings.TrimSuffix(err.Error(), ": "+notify.ErrSend.Error())
		return fmt.Errorf("test mail: %s: %w", msg, api.ErrRefused)
	}
	return err
}

// invalid rewraps a validation error (one or joined) as api.ErrInvalid,
// without the lower package's sentinel words.
func invalid(what string, err, sentinel error) error {
	var lines []string
	for l := range strings.SplitSeq(err.Error(), "\n") {
		lines = append(lines, strings.TrimSuffix(l, ": "+sentinel.Error()))
	}
	return fmt.Errorf("%s: %s: %w", what, strings.Join(lines, "; "), api.ErrInvalid)
}

// notify tells the owner (a notice, and a mail); a repeat inside the
// notifier's window only counts. Without Config.Notifier it does nothing.
func (a *Agent) notify(kind notify.Kind, app, title, body string) {
	if a.cfg.Notifier == nil {
		return
	}
	_, err := a.cfg.Notifier.Notify(a.ctx, notify.Notice{Kind: kind, App: app, Title: title, Body: body, Time: a.cfg.Now()})
	if err != nil && !errors.Is(err, notify.ErrDuplicate) && a.ctx.Err() == nil {
		a.log.Warn("notify", "kind", kind, "app", app, "err", err)
	}
}

// noticeEvent tells the owner of an app killed for want of memory. The
// runtime sends an oom event for each OOM kill (the exit that follows
// repeats it with OOMKilled: not counted twice).
func (a *Agent) noticeEvent(ev rt.Event) {
	if ev.Type != rt.EventOOM {
		return
	}
	apps, err := a.store.Apps()
	if err != nil {
		a.log.Warn("notify", "kind", notify.AppOOM, "err", err)
		return
	}
	app, service := "", ""
	for _, x := range apps {
		if rest, ok := strings.CutPrefix(ev.Container, x.ID+"-"); ok && len(x.ID) > len(app) {
			app, service = x.ID, rest
		}
	}
	if app == "" {
		return // not an app's container
	}
	a.notify(notify.AppOOM, app, app+" ran out of memory",
		fmt.Sprintf("The service %s of %s used all the memory it may use and was stopped by the kernel; Hearth starts it again. "+
			"If it happens again, stop apps you do not use or give the box more memory.", service, app))
}

// noticeBackup tells the owner of a failed backup (cause nil: a success,
// nothing to tell).
func (a *Agent) noticeBackup(app string, cause error) {
	if cause == nil || errors.Is(cause, context.Canceled) {
		return
	}
	a.notify(notify.BackupFailed, app, "The backup of "+app+" failed",
		fmt.Sprintf("%v\n\nHearth tries again within the hour. 'hearth backup ls %s' shows the last good backup.", cause, app))
}

// noticeRolledBack tells the owner that an update was undone.
func (a *Agent) noticeRolledBack(app, version string, cause error) {
	a.notify(notify.UpdateRolledBack, app, "The update of "+app+" was undone",
		fmt.Sprintf("The new version did not start well (%v), so Hearth put back version %s and the app's data as they were before the update.\n\n"+
			"The app works as before. 'hearth activity' shows what happened.", cause, version))
}

// StaleBackupCheck is a notify.Check: a backup-stale notice for each app
// on a backup schedule whose last backup (or install, when never backed
// up) is older than a day, or than its interval when that is longer.
func StaleBackupCheck(st *state.Store, now func() time.Time) notify.Check {
	return func(ctx context.Context) ([]notify.Notice, error) {
		box, err := st.BoxBackup()
		if err != nil || box.Destination == nil {
			return nil, err
		}
		apps, err := st.Apps()
		if err != nil {
			return nil, err
		}
		t := now()
		var out []notify.Notice
		for _, app := range apps {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			if app.Wanted == state.WantPending {
				continue
			}
			ab, err := st.AppBackup(app.ID)
			if err != nil {
				return out, err
			}
			if nextBackup(box, ab).IsZero() {
				continue // not on a schedule
			}
			every := time.Duration(box.EveryHours) * time.Hour
			if ab.EveryHours > 0 {
				every = time.Duration(ab.EveryHours) * time.Hour
			}
			since, what := ab.LastBackup, "The last backup of "+app.ID+" is from "+ab.LastBackup.UTC().Format("2006-01-02 15:04 MST")
			if since.IsZero() {
				since, what = app.Installed, app.ID+" has never been backed up"
			}
			if since.IsZero() || t.Sub(since) <= max(staleAfter, every+time.Hour) {
				continue
			}
			body := what + "."
			if ab.LastError != "" {
				body += "\nThe last attempt failed: " + ab.LastError
			}
			body += fmt.Sprintf("\n\nCheck the backup destination ('hearth backup config'), or back it up now with 'hearth backup now %s'.", app.ID)
			out = append(out, notify.Notice{Kind: notify.BackupStale, App: app.ID, Title: app.ID + " has no backup from the last day", Body: body})
		}
		return out, nil
	}
}

// CertStatuses is what the certificate check needs of the proxy's
// certificate manager.
type CertStatuses interface {
	Status(name string) certs.CertStatus
}

var _ CertStatuses = (*certs.Manager)(nil)

// CertificateCheck is a notify.Check: a certificate-renewal-failed notice
// for each public name (domain, and each app's name under it) whose last
// attempt to obtain or renew its certificate failed. Without a domain it
// finds nothing.
func CertificateCheck(st *state.Store, domain string, cs CertStatuses, now func() time.Time) notify.Check {
	return func(ctx context.Context) ([]notify.Notice, error) {
		if domain == "" || cs == nil {
			return nil, nil
		}
		apps, err := st.Apps()
		if err != nil {
			return nil, err
		}
		names := map[string]string{domain: ""}
		for _, app := range apps {
			names[hostName(app)+"."+domain] = app.ID
		}
		var out []notify.Notice
		for name, app := range names {
			s := cs.Status(name)
			if s.LastError == nil {
				continue
			}
			body := fmt.Sprintf("Hearth could not obtain a certificate for %s: %v", name, s.LastError)
			if !s.NotAfter.IsZero() {
				body += fmt.Sprintf("\nThe current certificate expires in %d days (%s).", int(s.NotAfter.Sub(now()).Hours()/24), s.NotAfter.UTC().Format("2006-01-02"))
			}
			body += "\n\nHearth keeps trying. Check that the name points to the box and that ports 80 and 443 reach it ('hearth ddns status')."
			out = append(out, notify.Notice{Kind: notify.CertRenewalFailed, App: app, Title: "The certificate of " + name + " could not be renewed", Body: body})
		}
		return out, nil
	}
}
