package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// backupSample adds a backup picture to the sample box.
func backupSample(f *apitest.Fake) {
	f.Backup.Settings = api.BackupSettings{
		BoxBackupSettings: api.BoxBackupSettings{
			Destination: &api.BackupDestination{Kind: "s3", Endpoint: "https://s3.example.com", Bucket: "family-box", AccessKeyID: "AKIA1"},
			EveryHours:  24, Retention: api.Retention{Last: 3, Daily: 7, Weekly: 4, Monthly: 6}, UpdatePolicy: "auto", Window: "03:00-05:00",
		},
		SSHPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample hearth-backup@hearth",
		Apps: []api.AppBackupState{
			{App: "nextcloud", LastBackup: apitest.T0.Add(-3 * time.Hour), NextBackup: apitest.T0.Add(21 * time.Hour), LastSnapshot: "0a1b2c3d"},
			{App: "vaultwarden", LastAttempt: apitest.T0.Add(-time.Hour), LastError: "restic backup: connection refused", Warning: "never backed up"},
		},
	}
	f.Backup.SnapshotList = []api.Snapshot{
		{ID: "0a1b2c3d4e5f", ShortID: "0a1b2c3d", App: "nextcloud", Time: apitest.T0.Add(-3 * time.Hour), Host: "hearth", Tags: []string{"app:nextcloud"}},
		{ID: "9f8e7d6c5b4a", ShortID: "9f8e7d6c", App: "vaultwarden", Time: apitest.T0.Add(-50 * time.Hour), Host: "hearth", Tags: []string{"app:vaultwarden", "reason:manual"}},
	}
}

// TestBackupOutput checks the backup commands' human output against
// golden files.
func TestBackupOutput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
	}{
		{"backup_config", backupSample, []string{"backup", "config"}},
		{"backup_config_none", nil, []string{"backup", "config"}},
		{"backup_config_set_local", func(f *apitest.Fake) { f.Backup.RecoveryKey = "abcdefgh-ijklmnop-qrstuvwx-yz234567" },
			[]string{"backup", "config", "--local", "/media/usb/hearth", "--every", "24", "--keep-daily", "7"}},
		{"backup_ls", backupSample, []string{"backup", "ls"}},
		{"backup_ls_app", backupSample, []string{"backup", "ls", "nextcloud"}},
		{"backup_ls_empty", nil, []string{"backup", "ls"}},
		{"backup_now", func(f *apitest.Fake) {
			f.Progress = []api.Progress{
				{Operation: "op-10", Step: "stop", Message: "stopping the app for a consistent copy"},
				{Operation: "op-10", Step: "copy", Message: "backing up to s3:https://s3.example.com/family-box"},
				{Operation: "op-10", Step: "copy", Message: "snapshot 0a1b2c3d: 812 files, 3 MiB added"},
				{Operation: "op-10", Step: "start", Message: "waiting for the app to be healthy"},
				{Operation: "op-10", Done: true, State: "done"},
			}
		}, []string{"backup", "now", "nextcloud"}},
		{"backup_restore_no_wait", nil, []string{"backup", "restore", "nextcloud", "--as", "nextcloud-copy", "--no-wait"}},
		{"backup_app", nil, []string{"backup", "app", "nextcloud", "--every", "6", "--keep-daily", "7", "--updates", "auto"}},
		{"help_backup", nil, []string{"backup", "--help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			if tt.setup != nil {
				tt.setup(f)
			}
			golden(t, tt.name, hearth(hearthd(t, f), tt.args...))
		})
	}
}

// TestBackupCalls checks what the backup commands ask of hearthd.
func TestBackupCalls(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hk := "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample"
	tests := []struct {
		name string
		args []string
		want apitest.Call
	}{
		{"restore newest", []string{"backup", "restore", "nextcloud", "--no-wait"},
			apitest.Call{Method: "Restore", Args: []any{api.RestoreRequest{App: "nextcloud"}}}},
		{"restore clone", []string{"backup", "restore", "nextcloud", "--snapshot", "0a1b2c3d", "--as", "nc2", "--no-wait"},
			apitest.Call{Method: "Restore", Args: []any{api.RestoreRequest{App: "nextcloud", Snapshot: "0a1b2c3d", As: "nc2"}}}},
		{"now", []string{"backup", "now", "nextcloud", "--no-wait"}, apitest.Call{Method: "BackupNow", Args: []any{"nextcloud"}}},
		{"ls app", []string{"backup", "ls", "nextcloud"}, apitest.Call{Method: "Snapshots", Args: []any{"nextcloud"}}},
		{"app off", []string{"backup", "app", "nextcloud", "--off", "--window", "01:00-02:00"},
			apitest.Call{Method: "SetAppBackup", Args: []any{"nextcloud", api.AppBackupSettings{Off: true, Window: "01:00-02:00"}}}},
		{"config s3", []string{"backup", "config", "--s3", "http://127.0.0.1:7070", "--bucket", "box", "--access-key", "AK", "--secret-key-file", secret, "--updates", "off"},
			apitest.Call{Method: "SetBackupSettings", Args: []any{api.BoxBackupSettings{UpdatePolicy: "off",
				Destination: &api.BackupDestination{Kind: "s3", Endpoint: "http://127.0.0.1:7070", Bucket: "box", AccessKeyID: "AK", SecretAccessKey: "s3cret"}}}}},
		{"config sftp", []string{"backup", "config", "--sftp", "backup@nas.lan:/srv/hearth", "--port", "2222", "--host-key", hk, "--window", "02:00-04:00", "--keep-last", "5"},
			apitest.Call{Method: "SetBackupSettings", Args: []any{api.BoxBackupSettings{Window: "02:00-04:00", Retention: api.Retention{Last: 5},
				Destination: &api.BackupDestination{Kind: "sftp", User: "backup", Host: "nas.lan", Port: 2222, Path: "/srv/hearth", HostKey: hk}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			sock := hearthd(t, f)
			r := hearth(sock, tt.args...)
			var got *apitest.Call
			for _, c := range f.Calls() {
				if c.Method == tt.want.Method {
					c.Actor = ""
					got = &c
				}
			}
			if got == nil {
				t.Fatalf("no %s call; got %+v", tt.want.Method, r)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("call (-want +got):\n%s\n%+v", diff, r)
			}
		})
	}
}

// TestBackupUsage checks the refusals that never reach hearthd.
func TestBackupUsage(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"two destinations", []string{"backup", "config", "--local", "/x", "--sftp", "a@b:/c"}, "do not go together"},
		{"bad sftp", []string{"backup", "config", "--sftp", "nas:/srv"}, "want user@host:/path"},
		{"restore without app", []string{"backup", "restore"}, "missing <app>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := hearth(hearthd(t, apitest.Sample()), tt.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("got exit %d, stderr %q; want exit 2 saying %q", r.code, r.stderr, tt.want)
			}
		})
	}
}
