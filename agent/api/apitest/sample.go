package apitest

import (
	"time"

	"github.com/hearthbox/hearth/agent/api"
)

// T0 is the sample's clock: a fixed UTC time, so that JSON round trips and
// golden files are exact.
var T0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// Sample returns a Fake holding a small, plausible box: two catalogs, a
// store of three apps, two installed apps (one healthy, one unhealthy with
// an operation open), log lines and activity.
func Sample() *Fake {
	return &Fake{
		Box: api.Status{
			Version: "0.1.0", Started: T0, Apps: 2, Running: 2, Unhealthy: 1,
			Platform: "linux/amd64", DataRoot: "/var/lib/hearth/data", Ready: true,
		},
		CatalogList: []api.Catalog{
			{ID: "official", Title: "Hearth official", URL: "https://catalog.hearth.example/official.json", Official: true,
				Timestamp: T0.Add(-24 * time.Hour), Expires: T0.Add(364 * 24 * time.Hour), Apps: 27, LastRefresh: T0.Add(-time.Hour)},
			{ID: "friends", Title: "Friends' apps", URL: "https://example.org/catalog.json", ThirdParty: true,
				Timestamp: T0.Add(-48 * time.Hour), Expires: T0.Add(30 * 24 * time.Hour), Apps: 1, LastRefresh: T0.Add(-time.Hour),
				LastError: "catalog refused: signature does not verify"},
		},
		StoreApps: []api.CatalogApp{
			{ID: "nextcloud", Catalog: "official", Title: "Nextcloud", Tagline: "Files, calendars and contacts", Category: "productivity",
				Version: "29.0.1", Versions: []string{"29.0.0", "29.0.1"}, Platforms: []string{"linux/amd64", "linux/arm64"},
				Permissions: []string{"internet"}, MemoryMin: 512 << 20, Installed: true},
			{ID: "vaultwarden", Catalog: "official", Title: "Vaultwarden", Tagline: "Passwords, shared safely", Category: "security",
				Version: "1.32.0", Versions: []string{"1.32.0"}, Platforms: []string{"linux/amd64", "linux/arm64"},
				MemoryMin: 64 << 20},
			{ID: "pinboard", Catalog: "friends", ThirdParty: true, Title: "Pinboard", Tagline: "A wall of notes", Category: "productivity",
				Version: "0.3.0-beta.1", Versions: []string{"0.3.0-beta.1"}, Platforms: []string{"linux/amd64"},
				Permissions: []string{"lan"}, MemoryMin: 128 << 20},
		},
		Installed: []api.App{
			{ID: "nextcloud", Title: "Nextcloud", Catalog: "official", Version: "29.0.1", PreviousVersion: "29.0.0",
				Wanted: "running", State: "healthy", URLs: []string{"https://nextcloud.hearth.local"},
				Services: []api.AppService{
					{Name: "web", Container: "nextcloud-web", Image: "docker.io/library/nextcloud:29-apache@sha256:0123", State: "running", Health: "healthy", IP: "10.88.1.2"},
					{Name: "cron", Container: "nextcloud-cron", Image: "docker.io/library/nextcloud:29-apache@sha256:0123", State: "running", IP: "10.88.1.3"},
				},
				Installed: T0.Add(-72 * time.Hour), Updated: T0.Add(-2 * time.Hour),
				Notes:    "Sign in as admin with the password below.",
				Settings: []api.SettingKV{{ID: "admin_user", Label: "Admin user", Value: "admin"}, {ID: "admin_password", Label: "Admin password", Secret: true}},
			},
			{ID: "vaultwarden", Title: "Vaultwarden", Catalog: "official", Version: "1.32.0", Wanted: "running", State: "unhealthy",
				URLs: []string{"https://vaultwarden.hearth.local"},
				Services: []api.AppService{
					{Name: "server", Container: "vaultwarden-server", Image: "docker.io/vaultwarden/server:1.32.0@sha256:4567", State: "running", Health: "unhealthy", IP: "10.88.2.2"},
				},
				Operation: &api.Operation{ID: "op-9", App: "vaultwarden", Kind: "restart", State: "running", Started: T0,
					Steps: []api.Step{{Name: "stop", State: "done"}, {Name: "start", State: "running"}}},
				Installed: T0.Add(-24 * time.Hour),
			},
		},
		ActivityLog: []api.Activity{
			{Seq: 1, Time: T0.Add(-72 * time.Hour), Actor: "uid 0 pid 812 (hearth)", App: "nextcloud", Action: "install", Outcome: "done"},
			{Seq: 2, Time: T0.Add(-24 * time.Hour), Actor: "uid 0 pid 944 (hearth)", App: "vaultwarden", Action: "install", Outcome: "done"},
			{Seq: 3, Time: T0.Add(-2 * time.Hour), Actor: "system", App: "nextcloud", Action: "update", Outcome: "rolledback", Detail: "health check failed"},
			{Seq: 4, Time: T0.Add(-time.Hour), Actor: "uid 0 pid 1200 (hearth)", Action: "catalog refresh", Outcome: "refused", Detail: "friends: signature does not verify"},
		},
		LogLines: []api.LogLine{
			{Time: T0, Service: "web", Stream: "stdout", Line: "GET /status.php 200"},
			{Time: T0.Add(time.Second), Service: "cron", Stream: "stderr", Line: "cron: job took 2s"},
			{Time: T0.Add(2 * time.Second), Service: "web", Stream: "stdout", Line: "GET /index.php 302"},
		},
		NextOp: api.Operation{ID: "op-10", State: "running", Started: T0, Steps: []api.Step{{Name: "pull", State: "pending"}}},
		Progress: []api.Progress{
			{Operation: "op-10", Step: "pull", Message: "pulling images", BytesTotal: 100 << 20},
			{Operation: "op-10", Step: "pull", BytesDone: 50 << 20, BytesTotal: 100 << 20},
			{Operation: "op-10", Step: "pull", BytesDone: 100 << 20, BytesTotal: 100 << 20},
			{Operation: "op-10", Step: "start", Message: "starting web"},
			{Operation: "op-10", Done: true, State: "done"},
		},
	}
}
