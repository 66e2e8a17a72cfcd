package apitest

import (
	"context"

	"github.com/hearthbox/hearth/agent/api"
)

// Backup is the Fake's canned backup state (Fake.Backup).
type Backup struct {
	// Settings is what BackupSettings returns; SetBackupSettings replaces
	// its box part.
	Settings api.BackupSettings
	// RecoveryKey is returned by the next SetBackupSettings, then cleared.
	RecoveryKey string
	// SnapshotList is what Snapshots filters by app.
	SnapshotList []api.Snapshot
}

// BackupSettings implements api.BackupService.
func (f *Fake) BackupSettings(ctx context.Context) (api.BackupSettings, error) {
	if err := f.record(ctx, "BackupSettings"); err != nil {
		return api.BackupSettings{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Backup.Settings, nil
}

// SetBackupSettings implements api.BackupService.
func (f *Fake) SetBackupSettings(ctx context.Context, req api.BoxBackupSettings) (api.BackupSettingsReply, error) {
	if err := f.record(ctx, "SetBackupSettings", req); err != nil {
		return api.BackupSettingsReply{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Backup.Settings.BoxBackupSettings = req
	reply := api.BackupSettingsReply{BackupSettings: f.Backup.Settings, RecoveryKey: f.Backup.RecoveryKey}
	f.Backup.RecoveryKey = ""
	return reply, nil
}

// SetAppBackup implements api.BackupService.
func (f *Fake) SetAppBackup(ctx context.Context, app string, req api.AppBackupSettings) (api.AppBackupState, error) {
	if err := f.record(ctx, "SetAppBackup", app, req); err != nil {
		return api.AppBackupState{}, err
	}
	if _, err := f.app(app); err != nil {
		return api.AppBackupState{}, err
	}
	return api.AppBackupState{App: app, AppBackupSettings: req}, nil
}

// BackupNow implements api.BackupService.
func (f *Fake) BackupNow(ctx context.Context, app string) (api.Operation, error) {
	return f.appOp(ctx, "BackupNow", "backup", app)
}

// Snapshots implements api.BackupService.
func (f *Fake) Snapshots(ctx context.Context, app string) ([]api.Snapshot, error) {
	if err := f.record(ctx, "Snapshots", app); err != nil {
		return nil, err
	}
	var out []api.Snapshot
	for _, s := range f.Backup.SnapshotList {
		if app == "" || s.App == app {
			out = append(out, s)
		}
	}
	return out, nil
}

// Restore implements api.BackupService.
func (f *Fake) Restore(ctx context.Context, req api.RestoreRequest) (api.Operation, error) {
	if err := f.record(ctx, "Restore", req); err != nil {
		return api.Operation{}, err
	}
	target := req.App
	if req.As != "" {
		target = req.As
	}
	return f.begin(target, "restore"), nil
}

// RestoreBox implements api.BackupService.
func (f *Fake) RestoreBox(ctx context.Context, req api.RestoreBoxRequest) ([]api.Operation, error) {
	if err := f.record(ctx, "RestoreBox", req); err != nil {
		return nil, err
	}
	var ops []api.Operation
	for _, a := range req.Apps {
		ops = append(ops, f.begin(a, "restore"))
	}
	return ops, nil
}
