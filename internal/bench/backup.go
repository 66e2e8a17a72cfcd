package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hearthbox/hearth/agent/backup"
)

// BackupConfig configures the backup benchmark.
type BackupConfig struct {
	OutDir string
	// Restic is the restic binary both sides run.
	Restic string
	// Bytes is the size of the tree (default 1 GiB).
	Bytes int64
	// Runs is how many times each backup is measured, each time into fresh
	// repositories (default 5).
	Runs     int
	Work     string // scratch folder (default: a temporary one)
	Stdout   io.Writer
	Progress io.Writer
	Logger   *slog.Logger
}

// BackupResults are the raw measurements, milliseconds, one per run.
type BackupResults struct {
	Time                            time.Time
	Data                            backupData
	Bytes                           int64
	Changed                         int
	HearthFull, ResticFull          []float64
	HearthIncremental, ResticIncr   []float64
	HearthAddedFull, HearthAddedInc int64
	ResticVersion                   string
	Machine                         Machine
}

// runBackupBench times a first backup of a mixed tree and an incremental
// one after 1% of its files changed, through Hearth's backup package (what
// the agent runs for an app, less stopping and starting it) and through
// restic's own command line, on the same data, in the same run, each into
// its own fresh repository with its own cache, alternating which goes first.
func runBackupBench(ctx context.Context, cfg BackupConfig) error {
	if cfg.Bytes <= 0 {
		cfg.Bytes = 1 << 30
	}
	if cfg.Runs <= 0 {
		cfg.Runs = 5
	}
	if cfg.Restic == "" {
		cfg.Restic = "restic"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	work := cfg.Work
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "hearth-bench-backup-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	}
	out, err := exec.CommandContext(ctx, cfg.Restic, "version").Output()
	if err != nil {
		return fmt.Errorf("restic: %w (apt-get install restic)", err)
	}
	res := BackupResults{Time: time.Now().UTC(), Data: newBackupData(cfg.Bytes), ResticVersion: strings.TrimSpace(string(out)), Machine: hostInfo()}
	dataRoot := filepath.Join(work, "data")
	tree := filepath.Join(dataRoot, "bench")
	fmt.Fprintf(cfg.Progress, "backup: writing %d files (%s) under %s\n", res.Data.Files(), humanBytes(cfg.Bytes), tree)
	for i := 0; i < res.Data.Files(); i++ {
		n, err := res.Data.write(tree, i, 0)
		if err != nil {
			return fmt.Errorf("write the tree: %w", err)
		}
		res.Bytes += n
	}
	changed := res.Data.changed()
	res.Changed = len(changed)
	for run := 0; run < cfg.Runs; run++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if run > 0 { // put the changed files back
			for _, i := range changed {
				if _, err := res.Data.write(tree, i, 0); err != nil {
					return err
				}
			}
		}
		dir := filepath.Join(work, fmt.Sprintf("run-%d", run))
		c, err := backup.New(backup.Config{StateDir: filepath.Join(dir, "hearth-state"), Restic: cfg.Restic, Host: "bench", Logger: cfg.Logger})
		if err != nil {
			return err
		}
		hearthDest := backup.Destination{Kind: backup.KindLocal, Path: filepath.Join(dir, "repo-hearth")}
		resticRepo := filepath.Join(dir, "repo-restic")
		if err := c.Init(ctx, hearthDest); err != nil {
			return err
		}
		keyFile := filepath.Join(c.StateDir(), "repository.key")
		cli := func(args ...string) *exec.Cmd {
			cmd := exec.CommandContext(ctx, cfg.Restic, append([]string{"--repo", resticRepo, "--password-file", keyFile,
				"--cache-dir", filepath.Join(dir, "restic-cache")}, args...)...)
			cmd.Dir = dataRoot
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
			return cmd
		}
		if out, err := cli("init").CombinedOutput(); err != nil {
			return fmt.Errorf("restic init: %v: %s", err, out)
		}
		// Each backup starts with no dirty pages (the files just written, the
		// other side's repository) being flushed under it.
		hearth := func() (time.Duration, int64, error) {
			syscall.Sync()
			start := time.Now()
			s, err := c.Backup(ctx, hearthDest, backup.Request{App: "bench", DataRoot: dataRoot,
				Meta: backup.Meta{Version: "1.0.0", Manifest: []byte(`{"id":"bench"}`)}})
			return time.Since(start), s.Added, err
		}
		direct := func() (time.Duration, error) {
			syscall.Sync()
			start := time.Now()
			out, err := cli("backup", "--json", "--host", "bench", "--tag", "app:bench", "bench").CombinedOutput()
			if err != nil {
				return 0, fmt.Errorf("restic backup: %v: %s", err, lastLine(out))
			}
			return time.Since(start), nil
		}
		measure := func(name string, hs, rs *[]float64, added *int64) error {
			var hd, rd time.Duration
			var n int64
			var err error
			if run%2 == 0 {
				if hd, n, err = hearth(); err == nil {
					rd, err = direct()
				}
			} else {
				if rd, err = direct(); err == nil {
					hd, n, err = hearth()
				}
			}
			if err != nil {
				return fmt.Errorf("%s backup: %w", name, err)
			}
			*hs, *rs = append(*hs, millis(hd)), append(*rs, millis(rd))
			*added = n
			fmt.Fprintf(cfg.Progress, "backup: run %d %s: hearth %.0f ms, restic %.0f ms\n", run+1, name, millis(hd), millis(rd))
			return nil
		}
		if err := measure("full", &res.HearthFull, &res.ResticFull, &res.HearthAddedFull); err != nil {
			return err
		}
		for _, i := range changed {
			if _, err := res.Data.write(tree, i, run+1); err != nil {
				return err
			}
		}
		if err := measure("incremental", &res.HearthIncremental, &res.ResticIncr, &res.HearthAddedInc); err != nil {
			return err
		}
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
	}
	rep, err := newBackupReport(res)
	if err != nil {
		return err
	}
	if err := writeReport(filepath.Join(cfg.OutDir, "backup.json"), rep); err != nil {
		return err
	}
	if err := writeBackupTable(cfg.Stdout, rep); err != nil {
		return err
	}
	if !rep.Pass {
		return errTargetsMissed
	}
	return nil
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func humanBytes(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
