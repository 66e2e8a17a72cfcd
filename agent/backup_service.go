package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/backup"
	"github.com/hearthbox/hearth/agent/state"
)

// BackupSettings returns the box's backup policy (the S3 secret left out),
// each installed app's policy and last backup, and the box's SSH key.
func (a *Agent) BackupSettings(ctx context.Context) (api.BackupSettings, error) {
	box, err := a.store.BoxBackup()
	if err != nil {
		return api.BackupSettings{}, err
	}
	out := api.BackupSettings{BoxBackupSettings: boxView(box)}
	if a.cfg.Backup != nil {
		if out.SSHPublicKey, err = a.cfg.Backup.SSHPublicKey(); err != nil {
			a.log.Warn("backup ssh key", "err", err)
		}
	}
	apps, err := a.store.Apps()
	if err != nil {
		return api.BackupSettings{}, err
	}
	now := a.cfg.Now()
	for _, app := range apps {
		ab, err := a.store.AppBackup(app.ID)
		if err != nil {
			return api.BackupSettings{}, err
		}
		out.Apps = append(out.Apps, appBackupView(box, ab, now))
	}
	return out, nil
}

// SetBackupSettings validates and stores the box's policy. A new or changed
// destination gets its repository made at once (so that a bad address or
// key fails here, not at night); the reply that made the key carries it.
func (a *Agent) SetBackupSettings(ctx context.Context, req api.BoxBackupSettings) (api.BackupSettingsReply, error) {
	old, err := a.store.BoxBackup()
	if err != nil {
		return api.BackupSettingsReply{}, err
	}
	box := state.BoxBackup{EveryHours: req.EveryHours, Retention: state.Retention(req.Retention), UpdatePolicy: req.UpdatePolicy,
		Window: req.Window, KeyShown: old.KeyShown}
	if err := backup.Retention(req.Retention).Validate(); err != nil {
		return api.BackupSettingsReply{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	var key string
	if d := req.Destination; d != nil {
		dest := state.BackupDestination(*d)
		if dest.Kind == backup.KindS3 && dest.SecretAccessKey == "" && old.Destination != nil {
			dest.SecretAccessKey = old.Destination.SecretAccessKey // "" keeps the secret the box has
		}
		if err := backup.Destination(dest).Validate(); err != nil {
			return api.BackupSettingsReply{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
		box.Destination = &dest
		tool, err := a.backupTool()
		if err != nil {
			return api.BackupSettingsReply{}, err
		}
		// The key may be older than the destination (pre-update snapshots
		// use it too): the owner sees it with the first destination, once.
		k, _, err := tool.EnsureKey()
		if err != nil {
			return api.BackupSettingsReply{}, err
		}
		if !box.KeyShown {
			key, box.KeyShown = k, true
		}
		if old.Destination == nil || *old.Destination != dest {
			if err := tool.Init(ctx, backup.Destination(dest)); err != nil {
				return api.BackupSettingsReply{}, fmt.Errorf("the destination does not take a repository: %w: %w", err, api.ErrRefused)
			}
		}
	}
	if err := a.store.PutBoxBackup(box); err != nil {
		return api.BackupSettingsReply{}, stateErr(err)
	}
	a.activity(api.ActorFrom(ctx), "", "backup.config", "done", destinationText(box.Destination))
	st, err := a.BackupSettings(ctx)
	return api.BackupSettingsReply{BackupSettings: st, RecoveryKey: key}, err
}

// SetAppBackup stores one app's policy.
func (a *Agent) SetAppBackup(ctx context.Context, app string, req api.AppBackupSettings) (api.AppBackupState, error) {
	if err := a.installed(app); err != nil {
		return api.AppBackupState{}, err
	}
	if req.Retention != nil {
		if err := backup.Retention(*req.Retention).Validate(); err != nil {
			return api.AppBackupState{}, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
	}
	err := a.store.UpdateAppBackup(app, func(b *state.AppBackup) {
		b.EveryHours, b.Off, b.UpdatePolicy, b.Window = req.EveryHours, req.Off, req.UpdatePolicy, req.Window
		b.Retention = nil
		if req.Retention != nil {
			r := state.Retention(*req.Retention)
			b.Retention = &r
		}
	})
	if err != nil {
		return api.AppBackupState{}, stateErr(err)
	}
	box, err := a.store.BoxBackup()
	if err != nil {
		return api.AppBackupState{}, err
	}
	ab, err := a.store.AppBackup(app)
	if err != nil {
		return api.AppBackupState{}, err
	}
	return appBackupView(box, ab, a.cfg.Now()), nil
}

// BackupNow backs an app up to the box's destination.
func (a *Agent) BackupNow(ctx context.Context, app string) (api.Operation, error) {
	if err := a.installed(app); err != nil {
		return api.Operation{}, err
	}
	if _, err := a.destination(targetBox); err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, app, OpBackup, backupParams{Target: targetBox})
}

// Snapshots lists the snapshots at the box's destination.
func (a *Agent) Snapshots(ctx context.Context, app string) ([]api.Snapshot, error) {
	if app != "" && !appIDPattern.MatchString(app) {
		return nil, fmt.Errorf("app: %q is not an app id: %w", app, api.ErrInvalid)
	}
	tool, err := a.backupTool()
	if err != nil {
		return nil, err
	}
	dest, err := a.destination(targetBox)
	if err != nil {
		return nil, err
	}
	snaps, err := tool.Snapshots(ctx, dest, app)
	if err != nil {
		return nil, err
	}
	out := make([]api.Snapshot, 0, len(snaps))
	for _, s := range snaps {
		out = append(out, api.Snapshot{ID: s.ID, ShortID: s.ShortID, App: s.App, Time: s.Time, Host: s.Host, Tags: s.Tags})
	}
	return out, nil
}

// Restore restores an app (or a clone of it) from a snapshot at the box's
// destination.
func (a *Agent) Restore(ctx context.Context, req api.RestoreRequest) (api.Operation, error) {
	if !appIDPattern.MatchString(req.App) {
		return api.Operation{}, fmt.Errorf("app: %q is not an app id: %w", req.App, api.ErrInvalid)
	}
	target := req.App
	if req.As != "" {
		if !appIDPattern.MatchString(req.As) {
			return api.Operation{}, fmt.Errorf("as: %q is not an app id: %w", req.As, api.ErrInvalid)
		}
		if _, err := a.store.App(req.As); err == nil {
			return api.Operation{}, fmt.Errorf("as: app %s is already installed: %w", req.As, api.ErrInvalid)
		}
		target = req.As
	}
	id, err := a.pickSnapshot(ctx, req.App, req.Snapshot)
	if err != nil {
		return api.Operation{}, err
	}
	return a.begin(ctx, target, OpRestore, restoreParams{Target: targetBox, Snapshot: id, From: req.App})
}

// pickSnapshot finds the app's snapshot id (or prefix), "" = the newest.
func (a *Agent) pickSnapshot(ctx context.Context, app, id string) (string, error) {
	snaps, err := a.Snapshots(ctx, app)
	if err != nil {
		return "", err
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		if id == "" || s.ID == id || s.ShortID == id {
			return s.ID, nil
		}
	}
	if id == "" {
		return "", notFound("app %s has no backup", app)
	}
	return "", notFound("app %s has no snapshot %s", app, id)
}

// RestoreBox sets the box up on an existing repository with the owner's
// recovery key, and restores each app from its newest snapshot.
func (a *Agent) RestoreBox(ctx context.Context, req api.RestoreBoxRequest) ([]api.Operation, error) {
	tool, err := a.backupTool()
	if err != nil {
		return nil, err
	}
	dest := state.BackupDestination(req.Destination)
	if err := backup.Destination(dest).Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if err := tool.TryKey(ctx, backup.Destination(dest), req.RecoveryKey); err != nil {
		if errors.Is(err, backup.ErrInvalid) {
			return nil, fmt.Errorf("%w: %w", err, api.ErrInvalid)
		}
		return nil, fmt.Errorf("the recovery key does not open the repository at %s: %w: %w", backup.Destination(dest), err, api.ErrRefused)
	}
	old, err := a.store.BoxBackup()
	if err != nil {
		return nil, err
	}
	// A box that backs up elsewhere keeps its own key; a new one takes the
	// owner's. Its pre-update snapshots were made with the key it had: they
	// go (none is needed between operations).
	current, _, err := tool.EnsureKey()
	if err != nil {
		return nil, err
	}
	if err := tool.SetKey(req.RecoveryKey, old.Destination == nil); err != nil {
		return nil, fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	if current != strings.TrimSpace(req.RecoveryKey) {
		if err := os.RemoveAll(filepath.Join(tool.StateDir(), targetUpdates)); err != nil {
			return nil, fmt.Errorf("remove the pre-update snapshots: %w", err)
		}
	}
	snaps, err := tool.Snapshots(ctx, backup.Destination(dest), "")
	if err != nil {
		return nil, err
	}
	if old.Destination == nil || !old.KeyShown {
		if old.Destination == nil {
			old.Destination = &dest
		}
		old.KeyShown = true // the owner has it: they just gave it
		if err := a.store.PutBoxBackup(old); err != nil {
			return nil, stateErr(err)
		}
	}
	newest := map[string]backup.Snapshot{}
	for _, s := range snaps {
		if n, ok := newest[s.App]; !ok || s.Time.After(n.Time) {
			newest[s.App] = s
		}
	}
	apps := req.Apps
	if len(apps) == 0 {
		apps = sortedKeys(newest)
	}
	var ops []api.Operation
	var errs []error
	for _, app := range apps {
		s, ok := newest[app]
		if !ok {
			errs = append(errs, notFound("app %s has no backup in the repository", app))
			continue
		}
		if _, err := a.store.App(app); err == nil {
			errs = append(errs, fmt.Errorf("app %s is installed already: %w", app, api.ErrInvalid))
			continue
		}
		op, err := a.begin(ctx, app, OpRestore, restoreParams{Target: targetBox, Snapshot: s.ID, From: app})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 && len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, err := range errs {
		a.log.Warn("restore box", "err", err)
	}
	return ops, nil
}

// stateErr turns the store's validation errors into the API's.
func stateErr(err error) error {
	if errors.Is(err, state.ErrInvalid) {
		return fmt.Errorf("%w: %w", err, api.ErrInvalid)
	}
	return err
}

func boxView(b state.BoxBackup) api.BoxBackupSettings {
	out := api.BoxBackupSettings{EveryHours: b.EveryHours, Retention: api.Retention(b.Retention), UpdatePolicy: b.UpdatePolicy, Window: b.Window}
	if b.Destination != nil {
		d := api.BackupDestination(*b.Destination)
		d.SecretAccessKey = ""
		out.Destination = &d
	}
	return out
}

func appBackupView(box state.BoxBackup, ab state.AppBackup, now time.Time) api.AppBackupState {
	out := api.AppBackupState{App: ab.App, AppBackupSettings: api.AppBackupSettings{EveryHours: ab.EveryHours, Off: ab.Off,
		UpdatePolicy: ab.UpdatePolicy, Window: ab.Window},
		LastAttempt: ab.LastAttempt, LastBackup: ab.LastBackup, LastSnapshot: ab.LastSnapshot, LastError: ab.LastError}
	if ab.Retention != nil {
		r := api.Retention(*ab.Retention)
		out.Retention = &r
	}
	out.NextBackup = nextBackup(box, ab)
	if w := backupWarning(box, ab, now); w != "" {
		out.Warning = w
	}
	return out
}

// backupWarning says why an app's backups need the owner's eye.
func backupWarning(box state.BoxBackup, ab state.AppBackup, now time.Time) string {
	switch {
	case box.Destination == nil:
		return "backups are not set up"
	case ab.LastBackup.IsZero():
		return "never backed up"
	case now.Sub(ab.LastBackup) > staleAfter:
		return "no backup in the last day"
	}
	return ""
}

func destinationText(d *state.BackupDestination) string {
	if d == nil {
		return "no destination"
	}
	return backup.Destination(*d).String()
}

// renameManifest gives a manifest another app id (a clone).
func renameManifest(raw json.RawMessage, id string) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("snapshot manifest: %w", err)
	}
	b, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	m["id"] = b
	return json.Marshal(m)
}
