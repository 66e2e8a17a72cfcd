package agent

import (
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/state"
)

func TestNextBackup(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 3, 0, 0, 0, time.UTC)
	dest := &state.BackupDestination{Kind: "local", Path: "/media/usb"}
	for _, tc := range []struct {
		name string
		box  state.BoxBackup
		app  state.AppBackup
		want time.Time
	}{
		{"no destination", state.BoxBackup{EveryHours: 24}, state.AppBackup{LastBackup: t0}, time.Time{}},
		{"not on a schedule", state.BoxBackup{Destination: dest}, state.AppBackup{LastBackup: t0}, time.Time{}},
		{"box schedule", state.BoxBackup{Destination: dest, EveryHours: 24}, state.AppBackup{LastBackup: t0}, t0.Add(24 * time.Hour)},
		{"app schedule", state.BoxBackup{Destination: dest, EveryHours: 24}, state.AppBackup{LastBackup: t0, EveryHours: 6}, t0.Add(6 * time.Hour)},
		{"app off", state.BoxBackup{Destination: dest, EveryHours: 24}, state.AppBackup{LastBackup: t0, Off: true}, time.Time{}},
		{"never backed up: due now", state.BoxBackup{Destination: dest, EveryHours: 24}, state.AppBackup{}, time.Time{}.Add(24 * time.Hour)},
		{"failed: retried after an hour", state.BoxBackup{Destination: dest, EveryHours: 1},
			state.AppBackup{LastBackup: t0, LastAttempt: t0.Add(2 * time.Hour), LastError: "disk full"}, t0.Add(3 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextBackup(tc.box, tc.app); !got.Equal(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestBackupWarning(t *testing.T) {
	now := time.Date(2026, 5, 2, 12, 0, 0, 0, time.UTC)
	dest := &state.BackupDestination{Kind: "local", Path: "/media/usb"}
	for _, tc := range []struct {
		name string
		box  state.BoxBackup
		last time.Time
		want string
	}{
		{"not set up", state.BoxBackup{}, now, "backups are not set up"},
		{"never", state.BoxBackup{Destination: dest}, time.Time{}, "never backed up"},
		{"fresh", state.BoxBackup{Destination: dest}, now.Add(-23 * time.Hour), ""},
		{"stale", state.BoxBackup{Destination: dest}, now.Add(-25 * time.Hour), "no backup in the last day"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := backupWarning(tc.box, state.AppBackup{LastBackup: tc.last}, now); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestInWindow(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 5, 2, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		window string
		t      time.Time
		want   bool
	}{
		{"", at(12, 0), true},
		{"03:00-05:00", at(3, 0), true},
		{"03:00-05:00", at(4, 59), true},
		{"03:00-05:00", at(5, 0), false},
		{"03:00-05:00", at(2, 59), false},
		{"23:30-01:00", at(23, 45), true},
		{"23:30-01:00", at(0, 30), true},
		{"23:30-01:00", at(1, 30), false},
		{"nonsense", at(1, 30), false},
		{"3-5", at(4, 0), false},
	} {
		t.Run(tc.window+"@"+tc.t.Format("15:04"), func(t *testing.T) {
			if got := inWindow(tc.window, tc.t); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
