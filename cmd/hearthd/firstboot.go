package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/firstboot"
)

// Paths of the first-boot pieces on the image (docs/firstboot.md).
const (
	boxConsoleFile = "/etc/issue.d/hearth.issue"
	boxResetMarker = "/boot/firmware/" + firstboot.ResetMarkerName
)

// firstbootDefaults fills the first-boot paths the flags left empty: on
// the box the console's issue file and the boot partition; in development
// files under the state folder (the host is not the box: its hostname and
// time zone are left alone).
func firstbootDefaults(c *config) {
	if c.consoleFile == "" {
		c.consoleFile = boxConsoleFile
		if c.dev {
			c.consoleFile = filepath.Join(c.stateDir, "console", "hearth.issue")
		}
	}
	if c.resetMarker == "" {
		c.resetMarker = boxResetMarker
		if c.dev {
			c.resetMarker = filepath.Join(c.stateDir, firstboot.ResetMarkerName)
		}
	}
}

// newSetup wires the first-boot wizard's pieces into the agent.
func newSetup(cfg config, log *slog.Logger) (agent.SetupConfig, error) {
	codesCfg := firstboot.CodesConfig{StateDir: cfg.stateDir, ConsoleFile: cfg.consoleFile, Logger: log}
	sysCfg := firstboot.SystemConfig{}
	if cfg.dev {
		sysCfg.HostnameFile = filepath.Join(cfg.stateDir, "hostname")
		sysCfg.TimezoneFile = filepath.Join(cfg.stateDir, "timezone")
	} else if p, err := exec.LookPath("agetty"); err == nil {
		codesCfg.Agetty = p
	}
	codes, err := firstboot.NewCodes(codesCfg)
	if err != nil {
		return agent.SetupConfig{}, err
	}
	sys := firstboot.NewSystem(sysCfg)
	return agent.SetupConfig{Code: codes, Limiter: firstboot.NewLimiter(firstboot.LimiterConfig{}), Hostname: sys, TimeZone: sys}, nil
}

// resetIfMarked runs a factory reset when the marker file is on the boot
// partition, then removes it so that the next start does not reset again.
func resetIfMarked(ctx context.Context, cfg config, ag *agent.Agent, log *slog.Logger) error {
	marked, err := firstboot.ResetRequested(cfg.resetMarker)
	if err != nil || !marked {
		return err
	}
	log.Warn("factory reset asked by the marker file", "marker", cfg.resetMarker)
	if err := ag.FactoryReset(ctx); err != nil {
		return fmt.Errorf("factory reset from %s: %w", cfg.resetMarker, err)
	}
	return firstboot.ClearReset(cfg.resetMarker)
}
