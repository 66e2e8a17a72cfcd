package agent

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/backup"
	"github.com/hearthbox/hearth/agent/state"
)

// Operation kinds of backups.
const (
	OpBackup  = state.KindBackup
	OpRestore = state.KindRestore
)

// backupParams carry a backup across a crash.
type backupParams struct {
	Target string `json:"target"`
	// WasWanted is what the owner wanted before the copy stopped the app.
	WasWanted string `json:"wasWanted,omitempty"`
	// Dumped says that the dump command ran: the app was not stopped.
	Dumped   bool   `json:"dumped,omitempty"`
	Snapshot string `json:"snapshot,omitempty"`
}

// backupKind: stop (or dump), copy, start, prune. A crash anywhere resumes
// at the step it was in: a copy that did not finish left no snapshot
// (restic writes it last), so it runs again; the app is started again
// whatever happened.
func (a *Agent) backupKind() kindDef {
	return kindDef{
		steps: []stepDef{
			{"stop", a.backupStop},
			{"copy", a.backupCopy},
			{"start", a.backupStart},
			{"prune", a.backupPrune},
		},
		undo: func(ctx context.Context, r *opRun, cause error) (string, error) {
			var p backupParams
			if err := r.params(&p); err != nil {
				return opFailed, err
			}
			a.noteBackup(r.op.App, "", cause)
			if p.WasWanted != "" && !p.Dumped {
				return opFailed, a.setWanted(r.op.App, p.WasWanted)
			}
			return opFailed, nil
		},
	}
}

func (a *Agent) backupStop(ctx context.Context, r *opRun) error {
	var p backupParams
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
	if app.Wanted == state.WantStopped {
		return a.waitStopped(ctx, app.ID)
	}
	dumped, err := a.stopForCopy(ctx, r, app)
	if err != nil {
		return err
	}
	p.Dumped = dumped
	return r.saveParams(p)
}

func (a *Agent) backupCopy(ctx context.Context, r *opRun) error {
	var p backupParams
	if err := r.params(&p); err != nil {
		return err
	}
	app, err := a.store.App(r.op.App)
	if err != nil {
		return err
	}
	a.noteAttempt(app.ID)
	snap, err := a.takeSnapshot(ctx, r, p.Target, app)
	if err != nil {
		return err
	}
	p.Snapshot = snap.ID
	if err := r.saveParams(p); err != nil {
		return err
	}
	a.noteBackup(app.ID, snap.ID, nil)
	r.report(api.Progress{Step: "copy", Message: fmt.Sprintf("snapshot %s: %d files, %d bytes added", snap.ShortID, snap.Files, snap.Added)})
	return nil
}

func (a *Agent) backupStart(ctx context.Context, r *opRun) error {
	var p backupParams
	if err := r.params(&p); err != nil {
		return err
	}
	if p.Dumped || p.WasWanted == "" || p.WasWanted == state.WantStopped {
		return nil
	}
	if err := a.setWanted(r.op.App, p.WasWanted); err != nil {
		return err
	}
	return a.waitHealthy(ctx, r, r.op.App)
}

// backupPrune forgets the snapshots the retention does not keep. A prune
// that fails does not fail the backup: it is logged and tried next time.
func (a *Agent) backupPrune(ctx context.Context, r *opRun) error {
	var p backupParams
	if err := r.params(&p); err != nil {
		return err
	}
	tool, err := a.backupTool()
	if err != nil {
		return err
	}
	dest, err := a.destination(p.Target)
	if err != nil {
		return err
	}
	keep := backup.Retention{Last: 1}
	if p.Target == targetBox {
		box, err := a.store.BoxBackup()
		if err != nil {
			return err
		}
		ab, err := a.store.AppBackup(r.op.App)
		if err != nil {
			return err
		}
		keep = effectiveRetention(box, ab)
	}
	if err := tool.Forget(ctx, dest, r.op.App, keep); err != nil && ctx.Err() == nil {
		a.log.Warn("prune backups", "app", r.op.App, "err", err)
		r.report(api.Progress{Step: "prune", Message: "old snapshots stay for now: " + err.Error()})
	}
	return nil
}

// noteAttempt and noteBackup record how an app's backups go.
func (a *Agent) noteAttempt(app string) {
	if err := a.store.UpdateAppBackup(app, func(b *state.AppBackup) { b.LastAttempt = a.cfg.Now() }); err != nil {
		a.log.Warn("record backup", "app", app, "err", err)
	}
}

func (a *Agent) noteBackup(app, snapshot string, cause error) {
	a.noticeBackup(app, cause)
	err := a.store.UpdateAppBackup(app, func(b *state.AppBackup) {
		b.LastAttempt = a.cfg.Now()
		if cause != nil {
			b.LastError = cause.Error()
			return
		}
		b.LastBackup, b.LastSnapshot, b.LastError = a.cfg.Now(), snapshot, ""
	})
	if err != nil {
		a.log.Warn("record backup", "app", app, "err", err)
	}
}

// restoreParams carry a restore across a crash.
type restoreParams struct {
	Target   string `json:"target"`
	Snapshot string `json:"snapshot"`
	// From is the app the snapshot holds (another one for a clone).
	From string `json:"from"`
	// Meta is the snapshot's description of the app, once fetched.
	Meta *backup.Meta `json:"meta,omitempty"`
	// Fresh says that the restore made the app's record (a new box, a
	// clone): a failed restore removes it again.
	Fresh     bool   `json:"fresh,omitempty"`
	WasWanted string `json:"wasWanted,omitempty"`
	// Switched says that the app's record was put back to the snapshot's
	// version (its images are then pulled again).
	Switched bool `json:"switched,omitempty"`
}

// restoreKind: fetch (into a staging folder beside the data folders),
// stop (or make the app's record), pull (a new record's images), swap (two
// renames), start. Until swap the old data is untouched.
func (a *Agent) restoreKind() kindDef {
	return kindDef{
		steps: []stepDef{
			{"fetch", a.restoreFetch},
			{"stop", a.restoreStop},
			{"pull", func(ctx context.Context, r *opRun) error {
				var p restoreParams
				if err := r.params(&p); err != nil {
					return err
				}
				if !p.Fresh && !p.Switched {
					return nil
				}
				return a.pullImages(ctx, r)
			}},
			{"swap", func(ctx context.Context, r *opRun) error {
				var p restoreParams
				if err := r.params(&p); err != nil {
					return err
				}
				return a.swapIn(p.From, r.op.App)
			}},
			{"start", func(ctx context.Context, r *opRun) error {
				var p restoreParams
				if err := r.params(&p); err != nil {
					return err
				}
				if p.WasWanted == state.WantStopped {
					return a.setWanted(r.op.App, state.WantStopped)
				}
				if err := a.setWanted(r.op.App, state.WantRunning); err != nil {
					return err
				}
				return a.waitHealthy(ctx, r, r.op.App)
			}},
		},
		undo: func(ctx context.Context, r *opRun, _ error) (string, error) {
			var p restoreParams
			if err := r.params(&p); err != nil {
				return opFailed, err
			}
			if p.Fresh {
				// Nothing of a restore that made the app stays.
				return opFailed, a.removeApp(ctx, r, false)
			}
			errs := []error{os.RemoveAll(a.restoreDir(r.op.App))}
			if p.WasWanted != "" {
				errs = append(errs, a.setWanted(r.op.App, p.WasWanted))
			}
			return opFailed, errors.Join(errs...)
		},
	}
}

func (a *Agent) restoreFetch(ctx context.Context, r *opRun) error {
	var p restoreParams
	if err := r.params(&p); err != nil {
		return err
	}
	r.report(api.Progress{Step: "fetch", Message: "restoring snapshot " + p.Snapshot + " into a staging folder"})
	got, err := a.fetchSnapshot(ctx, p.Target, p.Snapshot, p.From, r.op.App)
	if err != nil {
		return err
	}
	meta := got.Meta
	if r.op.App != p.From {
		raw, err := renameManifest(meta.Manifest, r.op.App)
		if err != nil {
			return err
		}
		meta.Manifest, meta.Catalog = raw, localCatalog
	}
	p.Meta = &meta
	return r.saveParams(p)
}

func (a *Agent) restoreStop(ctx context.Context, r *opRun) error {
	var p restoreParams
	if err := r.params(&p); err != nil {
		return err
	}
	app, err := a.store.App(r.op.App)
	switch {
	case err == nil && p.Fresh:
		return nil // made before a crash
	case err == nil:
		if p.WasWanted == "" {
			p.WasWanted = app.Wanted
			if err := r.saveParams(p); err != nil {
				return err
			}
		}
		if err := a.setWanted(app.ID, state.WantStopped); err != nil {
			return err
		}
		if err := a.waitStopped(ctx, app.ID); err != nil {
			return err
		}
		return a.restoreVersion(r, &p, app)
	case !errors.Is(err, state.ErrNotFound):
		return err
	}
	if p.Meta == nil {
		return fmt.Errorf("restore %s: the snapshot's metadata is missing", r.op.App)
	}
	rel, err := a.releaseFor(localCatalog, r.op.App, "", p.Meta.Manifest)
	if err != nil {
		return err
	}
	if err := a.admit(rel); err != nil {
		return err
	}
	port, err := a.freePort()
	if err != nil {
		return err
	}
	p.Fresh, p.WasWanted = true, state.WantRunning
	if err := r.saveParams(p); err != nil {
		return err
	}
	catalogID := p.Meta.Catalog
	if catalogID == "" {
		catalogID = localCatalog
	}
	return a.store.PutApp(state.App{ID: r.op.App, CatalogID: catalogID, Version: p.Meta.Version, Manifest: p.Meta.Manifest,
		Settings: p.Meta.Settings, Secrets: p.Meta.Secrets, Wanted: state.WantPending, Port: port})
}

// restoreVersion puts an installed app back to the version, manifest,
// settings and secrets its snapshot was taken with, when they differ: data
// goes with the version that wrote it. The current version becomes the
// previous one.
func (a *Agent) restoreVersion(r *opRun, p *restoreParams, app state.App) error {
	if p.Meta == nil || (app.Version == p.Meta.Version && sameJSON(app.Manifest, p.Meta.Manifest)) {
		return nil
	}
	p.Switched = true
	if err := r.saveParams(*p); err != nil {
		return err
	}
	app.PreviousVersion, app.PreviousManifest, app.PreviousSettings, app.PreviousImages = app.Version, app.Manifest, app.Settings, app.Images
	app.Version, app.Manifest, app.Settings, app.Secrets, app.Images = p.Meta.Version, p.Meta.Manifest, p.Meta.Settings, p.Meta.Secrets, p.Meta.Images
	r.report(api.Progress{Step: "stop", Message: "the snapshot was taken with version " + p.Meta.Version + ": restoring it with that version"})
	return a.store.PutApp(app)
}
