package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
)

// scheduleActor is who the activity log says started a scheduled operation.
const scheduleActor = "schedule"

// runSchedules starts the backups that are due and the updates the owner
// allowed; the run loop calls it on its schedule ticker. Operations run on
// their own goroutines: this returns at once.
func (a *Agent) runSchedules(ctx context.Context) {
	if err := a.scheduleBackups(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("backup schedule", "err", err)
	}
	if err := a.scheduleUpdates(ctx); err != nil && ctx.Err() == nil {
		a.log.Warn("update schedule", "err", err)
	}
}

// nextBackup is when the schedule backs the app up next: its interval
// after the last backup, not before an hour after a failed attempt; zero
// when it is not on a schedule.
func nextBackup(box state.BoxBackup, ab state.AppBackup) time.Time {
	every := box.EveryHours
	if ab.EveryHours > 0 {
		every = ab.EveryHours
	}
	if box.Destination == nil || ab.Off || every == 0 {
		return time.Time{}
	}
	due := ab.LastBackup.Add(time.Duration(every) * time.Hour)
	if ab.LastError != "" && ab.LastAttempt.Add(retryAfter).After(due) {
		due = ab.LastAttempt.Add(retryAfter)
	}
	return due
}

func (a *Agent) scheduleBackups(ctx context.Context) error {
	box, err := a.store.BoxBackup()
	if err != nil || box.Destination == nil || a.cfg.Backup == nil {
		return err
	}
	apps, err := a.store.Apps()
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	for _, app := range apps {
		if app.Wanted == state.WantPending {
			continue
		}
		ab, err := a.store.AppBackup(app.ID)
		if err != nil {
			return err
		}
		due := nextBackup(box, ab)
		if due.IsZero() || now.Before(due) {
			continue
		}
		_, err = a.begin(api.WithActor(ctx, scheduleActor), app.ID, OpBackup, backupParams{Target: targetBox})
		if err != nil && !errors.Is(err, api.ErrBusy) {
			a.log.Warn("scheduled backup", "app", app.ID, "err", err)
		}
	}
	return nil
}

// scheduleUpdates updates the apps whose policy is auto inside their
// maintenance window, and tells the owner (the activity log) once per
// version of those whose policy is notify.
func (a *Agent) scheduleUpdates(ctx context.Context) error {
	box, err := a.store.BoxBackup()
	if err != nil {
		return err
	}
	apps, err := a.store.Apps()
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	for _, app := range apps {
		if app.Wanted == state.WantPending || app.CatalogID == localCatalog {
			continue
		}
		ab, err := a.store.AppBackup(app.ID)
		if err != nil {
			return err
		}
		policy, window := box.UpdatePolicy, box.Window
		if ab.UpdatePolicy != "" {
			policy = ab.UpdatePolicy
		}
		if ab.Window != "" {
			window = ab.Window
		}
		if policy == "" {
			policy = state.UpdateNotify
		}
		if policy == state.UpdateOff {
			continue
		}
		rel, err := a.release(app.CatalogID, app.ID, "")
		if err != nil {
			continue // the catalog no longer has it: nothing to offer
		}
		if c, err := manifest.CompareVersions(rel.Version, app.Version); err != nil || c <= 0 {
			continue
		}
		switch {
		case policy == state.UpdateNotify && ab.NotifiedVersion != rel.Version:
			a.activity(scheduleActor, app.ID, "update.available", "notify", "version "+rel.Version+" is available")
			if err := a.store.UpdateAppBackup(app.ID, func(b *state.AppBackup) { b.NotifiedVersion = rel.Version }); err != nil {
				return err
			}
		case policy == state.UpdateAuto && inWindow(window, now):
			_, err := a.begin(api.WithActor(ctx, scheduleActor), app.ID, OpUpdate, updateParams{Version: rel.Version})
			if err != nil && !errors.Is(err, api.ErrBusy) {
				a.log.Warn("scheduled update", "app", app.ID, "err", err)
			}
		}
	}
	return nil
}

// inWindow says whether t (in its own location) falls in "HH:MM-HH:MM";
// a window may span midnight; "" is always.
func inWindow(window string, t time.Time) bool {
	if window == "" {
		return true
	}
	if len(window) != 11 || window[5] != '-' {
		return false
	}
	from, err1 := minuteOfDay(window[:5])
	to, err2 := minuteOfDay(window[6:])
	if err1 != nil || err2 != nil {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	if from <= to {
		return m >= from && m < to
	}
	return m >= from || m < to
}

func minuteOfDay(hhmm string) (int, error) {
	h, err := strconv.Atoi(hhmm[:2])
	if err != nil {
		return 0, err
	}
	m, err := strconv.Atoi(hhmm[3:])
	if err != nil {
		return 0, err
	}
	if h > 23 || m > 59 || hhmm[2] != ':' {
		return 0, fmt.Errorf("%q is not HH:MM", hhmm)
	}
	return h*60 + m, nil
}
