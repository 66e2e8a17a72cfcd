package addons

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
)

// AppAccess is one app's share of an addon: what Ensure needs to make it
// again on another server.
type AppAccess struct {
	App      string
	Subnet   netip.Prefix
	Password string
}

// Migrate moves every app's data from one server to another: the path of
// a major version upgrade (PostgreSQL 15 to 16: a new cluster made by the
// new version's binaries, docs/addons.md). Each app is first dumped to
// backupDir/<app>.dump (the backup, kept: the caller deletes it once the
// new server is in service), then given its user and database on the new
// server and restored there. The old server is not changed; a failure
// leaves it as it was and names the app.
func Migrate(ctx context.Context, from, to Provisioner, apps []AppAccess, backupDir string) error {
	if err := os.MkdirAll(backupDir, 0o700); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, a := range apps {
		if err := checkArgs(a.App, a.Subnet, a.Password); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	for _, a := range apps {
		if err := DumpFile(ctx, from, a.App, filepath.Join(backupDir, a.App+".dump")); err != nil {
			return fmt.Errorf("migrate %s: %w", a.App, err)
		}
	}
	for _, a := range apps {
		if err := to.Ensure(ctx, a.App, a.Subnet, a.Password); err != nil {
			return fmt.Errorf("migrate %s: %w", a.App, err)
		}
		if err := RestoreFile(ctx, to, a.App, filepath.Join(backupDir, a.App+".dump")); err != nil {
			return fmt.Errorf("migrate %s: %w", a.App, err)
		}
	}
	return nil
}

// DumpFile writes the app's dump to path through a temporary file, so that
// a dump at path is always whole (mode 0600).
func DumpFile(ctx context.Context, p Provisioner, app, path string) error {
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	err = p.Dump(ctx, app, f)
	if err == nil {
		err = f.Sync()
	}
	err = errors.Join(err, f.Close())
	if err != nil {
		os.Remove(path + ".tmp")
		return err
	}
	return os.Rename(path+".tmp", path)
}

// RestoreFile restores the app's data from a dump file written by DumpFile.
func RestoreFile(ctx context.Context, p Provisioner, app, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	return p.Restore(ctx, app, f)
}
