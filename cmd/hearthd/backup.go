package main

import (
	"log/slog"
	"os/exec"
	"path/filepath"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/agent/backup"
)

// newBackups returns the backup tool, its state under <state>/backup; nil
// (backups off, updates without a snapshot first) when restic is not
// installed.
func newBackups(stateDir, boxName string, log *slog.Logger) (agent.Backuper, error) {
	if _, err := exec.LookPath("restic"); err != nil {
		log.Warn("restic is not installed: backups are off (apt-get install restic)")
		return nil, nil
	}
	c, err := backup.New(backup.Config{StateDir: filepath.Join(stateDir, "backup"), Host: boxName, Logger: log})
	if err != nil {
		return nil, err
	}
	return c, nil
}
