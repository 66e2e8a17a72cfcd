package api_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// TestBackupRoundTrip calls every BackupService method through the Client
// and the server, and checks what the fake saw and what came back.
func TestBackupRoundTrip(t *testing.T) {
	f := apitest.Sample()
	t0 := apitest.T0
	f.Backup.Settings = api.BackupSettings{
		BoxBackupSettings: api.BoxBackupSettings{Destination: &api.BackupDestination{Kind: "local", Path: "/media/usb"}, EveryHours: 24},
		Apps:              []api.AppBackupState{{App: "nextcloud", LastBackup: t0, LastSnapshot: "0a1b2c3d"}},
	}
	f.Backup.SnapshotList = []api.Snapshot{
		{ID: "0a1b2c3d4e", ShortID: "0a1b2c3d", App: "nextcloud", Time: t0, Host: "hearth", Tags: []string{"app:nextcloud"}},
		{ID: "9f8e7d6c5b", ShortID: "9f8e7d6c", App: "vaultwarden", Time: t0.Add(time.Hour), Host: "hearth"},
	}
	f.Backup.RecoveryKey = "abcdefgh-ijklmnop"
	sock := server(t, f)
	c := client(t, sock)
	op := func(app, kind string) api.Operation {
		o := apitest.Sample().NextOp
		o.App, o.Kind = app, kind
		if o.ID == "" {
			o.ID = "op-1"
		}
		if o.State == "" {
			o.State = "running"
		}
		return o
	}
	newBox := api.BoxBackupSettings{Destination: &api.BackupDestination{Kind: "s3", Endpoint: "https://s3.example.com", Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"},
		Retention: api.Retention{Last: 3}, UpdatePolicy: "auto", Window: "03:00-05:00"}
	appReq := api.AppBackupSettings{EveryHours: 6, Retention: &api.Retention{Daily: 7}}
	restoreBox := api.RestoreBoxRequest{Destination: api.BackupDestination{Kind: "local", Path: "/media/usb"}, RecoveryKey: "abcdefgh-ijklmnop", Apps: []string{"nextcloud"}}
	tests := []struct {
		name     string
		call     func(context.Context) (any, error)
		want     any
		wantCall apitest.Call
	}{
		{"settings", func(ctx context.Context) (any, error) { return c.BackupSettings(ctx) },
			f.Backup.Settings, apitest.Call{Method: "BackupSettings"}},
		{"set settings", func(ctx context.Context) (any, error) { return c.SetBackupSettings(ctx, newBox) },
			api.BackupSettingsReply{BackupSettings: api.BackupSettings{BoxBackupSettings: newBox, Apps: f.Backup.Settings.Apps}, RecoveryKey: "abcdefgh-ijklmnop"},
			apitest.Call{Method: "SetBackupSettings", Args: []any{newBox}}},
		{"set app", func(ctx context.Context) (any, error) { return c.SetAppBackup(ctx, "nextcloud", appReq) },
			api.AppBackupState{App: "nextcloud", AppBackupSettings: appReq}, apitest.Call{Method: "SetAppBackup", Args: []any{"nextcloud", appReq}}},
		{"now", func(ctx context.Context) (any, error) { return c.BackupNow(ctx, "nextcloud") },
			op("nextcloud", "backup"), apitest.Call{Method: "BackupNow", Args: []any{"nextcloud"}}},
		{"snapshots", func(ctx context.Context) (any, error) { return c.Snapshots(ctx, "") },
			f.Backup.SnapshotList, apitest.Call{Method: "Snapshots", Args: []any{""}}},
		{"snapshots of one app", func(ctx context.Context) (any, error) { return c.Snapshots(ctx, "vaultwarden") },
			f.Backup.SnapshotList[1:], apitest.Call{Method: "Snapshots", Args: []any{"vaultwarden"}}},
		{"restore clone", func(ctx context.Context) (any, error) {
			return c.Restore(ctx, api.RestoreRequest{App: "nextcloud", Snapshot: "0a1b2c3d", As: "nc2"})
		}, op("nc2", "restore"), apitest.Call{Method: "Restore", Args: []any{api.RestoreRequest{App: "nextcloud", Snapshot: "0a1b2c3d", As: "nc2"}}}},
		{"restore box", func(ctx context.Context) (any, error) { return c.RestoreBox(ctx, restoreBox) },
			[]api.Operation{op("nextcloud", "restore")}, apitest.Call{Method: "RestoreBox", Args: []any{restoreBox}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call(context.Background())
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			calls := f.Calls()
			last := calls[len(calls)-1]
			last.Actor = ""
			if diff := cmp.Diff(tt.wantCall, last); diff != "" {
				t.Errorf("call (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBackupRequestsAreChecked refuses bad ids before the service sees
// them.
func TestBackupRequestsAreChecked(t *testing.T) {
	f := apitest.Sample()
	c := client(t, server(t, f))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"restore bad app", func() error { _, err := c.Restore(ctx, api.RestoreRequest{App: "../x"}); return err }},
		{"restore bad clone", func() error {
			_, err := c.Restore(ctx, api.RestoreRequest{App: "nextcloud", As: "Not An Id"})
			return err
		}},
		{"snapshots bad app", func() error { _, err := c.Snapshots(ctx, "a b"); return err }},
		{"restore box bad app", func() error { _, err := c.RestoreBox(ctx, api.RestoreBoxRequest{Apps: []string{"UP"}}); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, api.ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
	for _, call := range f.Calls() {
		if call.Method == "Restore" || call.Method == "Snapshots" || call.Method == "RestoreBox" {
			t.Errorf("the service saw %+v, want it refused before", call)
		}
	}
}
