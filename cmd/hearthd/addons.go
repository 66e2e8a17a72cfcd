package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hearthbox/hearth/agent/addons"
	"github.com/hearthbox/hearth/agent/state"
)

// newAddons makes the addon servers (PostgreSQL, MariaDB, Redis, the
// sendmail relay). None starts until an installed app asks for its kind.
// The servers run as their packages' system users, so the state folder and
// <state>/addons let them pass (0711: no listing); every file hearthd keeps
// in the state folder has its own owner-only mode.
func newAddons(stateDir string, store *state.Store, log *slog.Logger) (*addons.Manager, error) {
	dir := filepath.Join(stateDir, "addons")
	for _, d := range []string{stateDir, dir} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return nil, fmt.Errorf("addons folder: %w", err)
		}
		if err := os.Chmod(d, 0o711); err != nil {
			return nil, fmt.Errorf("addons folder: %w", err)
		}
	}
	relay := func() addons.Relay {
		s, err := store.SMTP()
		if err != nil || s.Host == "" {
			return addons.Relay{}
		}
		return addons.Relay{Host: s.Host, Port: uint16(s.Port), Username: s.User, Password: s.Password}
	}
	return addons.NewManager(addons.ManagerConfig{
		Dir:      dir,
		Sendmail: addons.SendmailConfig{Relay: relay, Logger: log},
		Logger:   log,
	})
}
