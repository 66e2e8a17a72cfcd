package agent

import (
	"context"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/backup"
	"github.com/hearthbox/hearth/agent/state"
)

// updateBackup is an update's step between pull and switch: it stops the
// app and backs its data up to the box's own updates repository, so that a
// failed update puts the data back as well as the version. Without a backup
// tool it does nothing.
func (a *Agent) updateBackup(ctx context.Context, r *opRun) error {
	if a.cfg.Backup == nil {
		return nil
	}
	var p updateParams
	if err := r.params(&p); err != nil {
		return err
	}
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	if p.WasWanted == "" {
		p.WasWanted = app.Wanted
		if err := r.saveParams(p); err != nil {
			return err
		}
	}
	r.report(api.Progress{Step: "backup", Message: "stopping the app to back up its data"})
	if err := a.setWanted(app.ID, state.WantStopped); err != nil {
		return err
	}
	if err := a.waitStopped(ctx, app.ID); err != nil {
		return err
	}
	snap, err := a.takeSnapshot(ctx, r, targetUpdates, app, "reason:update")
	if err != nil {
		return err
	}
	p.Snapshot = snap.ID
	if err := r.saveParams(p); err != nil {
		return err
	}
	r.report(api.Progress{Step: "backup", Message: "snapshot " + snap.ShortID + " taken"})
	// Only the newest pre-update snapshot of an app is kept.
	if dest, err := a.destination(targetUpdates); err == nil {
		if err := a.cfg.Backup.Forget(ctx, dest, app.ID, backup.Retention{Last: 1}); err != nil && ctx.Err() == nil {
			a.log.Warn("prune pre-update snapshots", "app", app.ID, "err", err)
		}
	}
	return nil
}

// putBackData restores the pre-update snapshot while the previous version
// is wanted stopped; revert then starts it.
func (a *Agent) putBackData(ctx context.Context, r *opRun, p updateParams) error {
	if p.Snapshot == "" || a.cfg.Backup == nil {
		return nil
	}
	stopped := *p.Before
	stopped.Wanted = state.WantStopped
	if err := a.store.PutApp(stopped); err != nil {
		return err
	}
	a.poke()
	if err := a.waitStopped(ctx, r.op.App); err != nil {
		return err
	}
	short := p.Snapshot[:min(8, len(p.Snapshot))]
	r.report(api.Progress{Step: "revert", Message: "restoring the data from snapshot " + short})
	if err := a.restoreData(ctx, targetUpdates, p.Snapshot, r.op.App); err != nil {
		return err
	}
	a.activity(r.op.Actor, r.op.App, "update.data", "restored", "the data folder is back as it was before the update (snapshot "+short+")")
	return nil
}

// startAfterBackup gives the app back what the owner wanted when an update
// failed after its backup stopped the app but before the switch.
func (a *Agent) startAfterBackup(app, wasWanted string) error {
	if wasWanted == "" {
		return nil
	}
	return a.setWanted(app, wasWanted)
}
