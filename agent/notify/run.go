package notify

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Run sends the mails that are due, retrying failed ones with backoff,
// and runs the disk check and Config.Checks on their timer, until ctx
// ends. It returns nil once the goroutines it started have stopped.
func (nf *Notifier) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { nf.mailLoop(ctx) })
	wg.Go(func() { nf.checkLoop(ctx) })
	wg.Wait()
	return nil
}

// mailLoop sends the due mails when woken by Notify and on RetryTick.
func (nf *Notifier) mailLoop(ctx context.Context) {
	ticker := time.NewTicker(nf.cfg.RetryTick)
	defer ticker.Stop()
	for {
		nf.sendDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-nf.kick:
		case <-ticker.C:
		}
	}
}

// sendDue tries every pending mail whose NextTry has come, oldest first.
func (nf *Notifier) sendDue(ctx context.Context) {
	list, err := nf.store.Notices()
	if err != nil {
		nf.log.Warn("read notices", "err", err)
		return
	}
	settings, err := nf.store.SMTP()
	if err != nil {
		nf.log.Warn("read smtp settings", "err", err)
		return
	}
	now := nf.now()
	slices.Reverse(list)
	for _, n := range list {
		if n.Mail != MailPending || n.NextTry.After(now) || ctx.Err() != nil {
			continue
		}
		var sendErr error
		if !settings.Configured() {
			sendErr = ErrNoSMTP
		} else {
			sendErr = nf.mail.send(ctx, settings, message(settings, n, nf.cfg.BoxName, nf.now()))
		}
		if sendErr != nil && ctx.Err() != nil {
			return // stopping: the attempt does not count
		}
		_, err := nf.update(context.WithoutCancel(ctx), n.ID, func(x *Notice) {
			if x.Mail != MailPending {
				return
			}
			switch {
			case sendErr == nil:
				x.Mail, x.MailError, x.NextTry = MailSent, "", time.Time{}
			case errors.Is(sendErr, ErrNoSMTP) || errors.Is(sendErr, ErrInvalid):
				x.Mail, x.MailError, x.NextTry = MailFailed, sendErr.Error(), time.Time{}
			default:
				x.Attempts++
				x.MailError = sendErr.Error()
				x.NextTry = nf.now().Add(nf.backoff(x.Attempts))
				if x.Attempts >= nf.cfg.MaxAttempts {
					x.Mail, x.NextTry = MailFailed, time.Time{}
				}
			}
		})
		switch {
		case err != nil:
			nf.log.Warn("record mail", "id", n.ID, "err", err)
		case sendErr != nil:
			nf.log.Warn("mail not sent", "id", n.ID, "kind", n.Kind, "app", n.App, "err", sendErr)
		default:
			nf.log.Info("mail sent", "id", n.ID, "kind", n.Kind, "app", n.App)
		}
	}
}

// checkLoop runs the checks at once and then every CheckInterval.
func (nf *Notifier) checkLoop(ctx context.Context) {
	ticker := time.NewTicker(nf.cfg.CheckInterval)
	defer ticker.Stop()
	for {
		nf.runChecks(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// runChecks runs the disk check and Config.Checks and gives their notices.
func (nf *Notifier) runChecks(ctx context.Context) {
	checks := nf.cfg.Checks
	if nf.cfg.DataRoot != "" {
		checks = append([]Check{nf.CheckDisk}, checks...)
	}
	for _, check := range checks {
		if ctx.Err() != nil {
			return
		}
		notices, err := check(ctx)
		if err != nil {
			nf.log.Warn("check", "err", err)
		}
		for _, n := range notices {
			if _, err := nf.Notify(ctx, n); err != nil && !errors.Is(err, ErrDuplicate) && ctx.Err() == nil {
				nf.log.Warn("notify", "kind", n.Kind, "app", n.App, "err", err)
			}
		}
	}
}
