package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/backup"
	"github.com/hearthbox/hearth/agent/state"
)

// Backuper is what the agent needs of the backup tool (backup.Client).
type Backuper interface {
	EnsureKey() (key string, created bool, err error)
	SetKey(key string, replace bool) error
	TryKey(ctx context.Context, dest backup.Destination, key string) error
	SSHPublicKey() (string, error)
	StateDir() string
	Init(ctx context.Context, dest backup.Destination) error
	Backup(ctx context.Context, dest backup.Destination, req backup.Request) (backup.Snapshot, error)
	Snapshots(ctx context.Context, dest backup.Destination, app string) ([]backup.Snapshot, error)
	Restore(ctx context.Context, dest backup.Destination, id, app, staging string) (backup.Restored, error)
	Forget(ctx context.Context, dest backup.Destination, app string, r backup.Retention) error
}

var _ Backuper = (*backup.Client)(nil)

// Repositories a backup operation writes to.
const (
	// targetBox is the owner's destination.
	targetBox = "box"
	// targetUpdates is the box's own repository of pre-update snapshots,
	// under the backup state folder: always there, fast to restore, and
	// pruned to the last one per app.
	targetUpdates = "updates"
)

// staleAfter is the age past which an app's last backup earns a warning.
const staleAfter = 24 * time.Hour

// retryAfter is how long the schedule waits after a failed backup.
const retryAfter = time.Hour

// execRuntime is a runtime that can run a command in a running container,
// which a manifest's backup.dump needs; without it the app is stopped for
// the copy instead.
type execRuntime interface {
	Exec(ctx context.Context, id string, argv []string) (int, string, error)
}

// backupTool returns the configured tool or api.ErrUnavailable.
func (a *Agent) backupTool() (Backuper, error) {
	if a.cfg.Backup == nil {
		return nil, fmt.Errorf("backups are not configured on this hearthd: %w", api.ErrUnavailable)
	}
	return a.cfg.Backup, nil
}

// destination returns the repository of a target.
func (a *Agent) destination(target string) (backup.Destination, error) {
	tool, err := a.backupTool()
	if err != nil {
		return backup.Destination{}, err
	}
	if target == targetUpdates {
		return backup.Destination{Kind: backup.KindLocal, Path: filepath.Join(tool.StateDir(), "updates")}, nil
	}
	box, err := a.store.BoxBackup()
	if err != nil {
		return backup.Destination{}, err
	}
	if box.Destination == nil {
		return backup.Destination{}, fmt.Errorf("no backup destination is set up (hearth backup config): %w", api.ErrInvalid)
	}
	return backup.Destination(*box.Destination), nil
}

// metaOf describes an app for its snapshot.
func (a *Agent) metaOf(app state.App) backup.Meta {
	return backup.Meta{Catalog: app.CatalogID, Version: app.Version, Manifest: app.Manifest, Settings: app.Settings,
		Secrets: app.Secrets, Images: app.Images, Hearth: a.cfg.Version, Time: a.cfg.Now().UTC()}
}

// takeSnapshot backs the app's data folder and record up to target, the
// repository made first if it is not there.
func (a *Agent) takeSnapshot(ctx context.Context, r *opRun, target string, app state.App, tags ...string) (backup.Snapshot, error) {
	tool, err := a.backupTool()
	if err != nil {
		return backup.Snapshot{}, err
	}
	dest, err := a.destination(target)
	if err != nil {
		return backup.Snapshot{}, err
	}
	if _, _, err := tool.EnsureKey(); err != nil {
		return backup.Snapshot{}, err
	}
	r.report(api.Progress{Step: "copy", Message: "backing up to " + dest.String()})
	req := backup.Request{App: app.ID, DataRoot: a.cfg.DataRoot, Meta: a.metaOf(app), Tags: tags,
		Progress: func(s backup.Status) {
			r.report(api.Progress{Step: "copy", BytesDone: s.BytesDone, BytesTotal: s.BytesTotal})
		}}
	snap, err := tool.Backup(ctx, dest, req)
	if errors.Is(err, backup.ErrNoRepository) {
		// The first backup to the updates repository, or a destination
		// emptied since it was set up: make the repository, once.
		if err := tool.Init(ctx, dest); err != nil {
			return backup.Snapshot{}, err
		}
		snap, err = tool.Backup(ctx, dest, req)
	}
	return snap, err
}

// restoreDir is the app's restore work folder beside the data folders: a
// name no app can have (ids start with a letter), on the same file system,
// so that the swap is a rename.
func (a *Agent) restoreDir(app string) string {
	return filepath.Join(a.cfg.DataRoot, ".restore-"+app)
}

// fetchSnapshot restores a snapshot of app from into the app's restore
// folder and returns it; the data folder is not touched.
func (a *Agent) fetchSnapshot(ctx context.Context, target, id, from, app string) (backup.Restored, error) {
	tool, err := a.backupTool()
	if err != nil {
		return backup.Restored{}, err
	}
	dest, err := a.destination(target)
	if err != nil {
		return backup.Restored{}, err
	}
	return tool.Restore(ctx, dest, id, from, filepath.Join(a.restoreDir(app), "snapshot"))
}

// swapIn moves the fetched copy of app's data (snapshot of from) into
// place: the old folder is renamed aside, the new one renamed in, then the
// old one deleted. Each step can run again after a crash; until the second
// rename the old data is whole.
func (a *Agent) swapIn(from, app string) error {
	dir, err := a.dataDir(app)
	if err != nil {
		return err
	}
	work := a.restoreDir(app)
	fetched := filepath.Join(work, "snapshot", from)
	if _, err := os.Stat(fetched); err == nil {
		old := filepath.Join(work, "old")
		if _, err := os.Lstat(dir); err == nil {
			if err := os.RemoveAll(old); err != nil {
				return fmt.Errorf("restore %s: %w", app, err)
			}
			if err := os.Rename(dir, old); err != nil {
				return fmt.Errorf("restore %s: %w", app, err)
			}
		}
		if err := os.Rename(fetched, dir); err != nil {
			return fmt.Errorf("restore %s: %w", app, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore %s: %w", app, err)
	} else if _, err := os.Stat(dir); err != nil {
		return fmt.Errorf("restore %s: the fetched copy is gone and there is no data folder: %w", app, err)
	}
	if err := os.RemoveAll(work); err != nil {
		return fmt.Errorf("restore %s: %w", app, err)
	}
	return nil
}

// restoreData puts app's data back from a snapshot of target (the app is
// stopped by the caller).
func (a *Agent) restoreData(ctx context.Context, target, id, app string) error {
	if _, err := a.fetchSnapshot(ctx, target, id, app, app); err != nil {
		return err
	}
	return a.swapIn(app, app)
}

// stopForCopy makes the app's data still: a manifest's dump command when
// the app runs and the runtime can exec, else stopping its services. It
// says whether it dumped (the app then still runs).
func (a *Agent) stopForCopy(ctx context.Context, r *opRun, app state.App) (bool, error) {
	m, err := parseManifest(app.Manifest)
	if err != nil {
		return false, err
	}
	if ex, ok := a.rt.(execRuntime); ok && m.Backup != nil && len(m.Backup.Dump) > 0 && app.Wanted == state.WantRunning {
		svc := m.Backup.DumpService(m)
		timeout := time.Duration(m.Backup.Timeout)
		if timeout <= 0 {
			timeout = 10 * time.Minute
		}
		r.report(api.Progress{Step: "stop", Message: "running the dump command in " + svc})
		dctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		code, out, err := ex.Exec(dctx, app.ID+"-"+svc, m.Backup.Dump)
		if err == nil && code == 0 {
			return true, nil
		}
		a.log.Warn("backup dump failed: stopping the app instead", "app", app.ID, "code", code, "output", out, "err", err)
	}
	r.report(api.Progress{Step: "stop", Message: "stopping the app for a consistent copy"})
	if err := a.setWanted(app.ID, state.WantStopped); err != nil {
		return false, err
	}
	return false, a.waitStopped(ctx, app.ID)
}

// effectiveRetention is the app's retention, or the box's.
func effectiveRetention(box state.BoxBackup, ab state.AppBackup) backup.Retention {
	if ab.Retention != nil {
		return backup.Retention(*ab.Retention)
	}
	return backup.Retention(box.Retention)
}
