package api_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
)

// TestRoundTrip calls every Service method through the Client and the
// server, and checks what the fake saw and what came back.
func TestRoundTrip(t *testing.T) {
	f := apitest.Sample()
	sock := server(t, f)
	c := client(t, sock)
	sample := apitest.Sample()
	op := func(app, kind string) api.Operation {
		o := sample.NextOp
		o.App, o.Kind = app, kind
		return o
	}
	tests := []struct {
		name     string
		call     func(context.Context) (any, error)
		want     any
		wantCall apitest.Call
	}{
		{"status", func(ctx context.Context) (any, error) { return c.Status(ctx) },
			sample.Box, apitest.Call{Method: "Status"}},
		{"catalogs", func(ctx context.Context) (any, error) { return c.Catalogs(ctx) },
			sample.CatalogList, apitest.Call{Method: "Catalogs"}},
		{"refresh all", func(ctx context.Context) (any, error) { return c.RefreshCatalogs(ctx, "") },
			sample.CatalogList, apitest.Call{Method: "RefreshCatalogs", Args: []any{""}}},
		{"refresh one", func(ctx context.Context) (any, error) { return c.RefreshCatalogs(ctx, "friends") },
			sample.CatalogList[1:], apitest.Call{Method: "RefreshCatalogs", Args: []any{"friends"}}},
		{"add catalog", func(ctx context.Context) (any, error) {
			return c.AddCatalog(ctx, api.AddCatalogRequest{ID: "more", URL: "https://more.example/c.json", PublicKey: "a2V5", Title: "More"})
		}, api.Catalog{ID: "more", Title: "More", URL: "https://more.example/c.json", ThirdParty: true},
			apitest.Call{Method: "AddCatalog", Args: []any{api.AddCatalogRequest{ID: "more", URL: "https://more.example/c.json", PublicKey: "a2V5", Title: "More"}}}},
		{"remove catalog", func(ctx context.Context) (any, error) { return nil, c.RemoveCatalog(ctx, "friends") },
			nil, apitest.Call{Method: "RemoveCatalog", Args: []any{"friends"}}},
		{"store", func(ctx context.Context) (any, error) { return c.CatalogApps(ctx, "") },
			sample.StoreApps, apitest.Call{Method: "CatalogApps", Args: []any{""}}},
		{"store of one catalog", func(ctx context.Context) (any, error) { return c.CatalogApps(ctx, "friends") },
			sample.StoreApps[2:], apitest.Call{Method: "CatalogApps", Args: []any{"friends"}}},
		{"apps", func(ctx context.Context) (any, error) { return c.Apps(ctx) },
			sample.Installed, apitest.Call{Method: "Apps"}},
		{"app", func(ctx context.Context) (any, error) { return c.App(ctx, "vaultwarden") },
			sample.Installed[1], apitest.Call{Method: "App", Args: []any{"vaultwarden"}}},
		{"install", func(ctx context.Context) (any, error) {
			return c.Install(ctx, api.InstallRequest{App: "vaultwarden", Catalog: "official", Version: "1.32.0", Settings: map[string]string{"domain": "vw.example"}})
		}, op("vaultwarden", "install"),
			apitest.Call{Method: "Install", Args: []any{api.InstallRequest{App: "vaultwarden", Catalog: "official", Version: "1.32.0", Settings: map[string]string{"domain": "vw.example"}}}}},
		{"start", func(ctx context.Context) (any, error) { return c.Start(ctx, "nextcloud") },
			op("nextcloud", "start"), apitest.Call{Method: "Start", Args: []any{"nextcloud"}}},
		{"stop", func(ctx context.Context) (any, error) { return c.Stop(ctx, "nextcloud") },
			op("nextcloud", "stop"), apitest.Call{Method: "Stop", Args: []any{"nextcloud"}}},
		{"restart", func(ctx context.Context) (any, error) { return c.Restart(ctx, "nextcloud") },
			op("nextcloud", "restart"), apitest.Call{Method: "Restart", Args: []any{"nextcloud"}}},
		{"rollback", func(ctx context.Context) (any, error) { return c.Rollback(ctx, "nextcloud") },
			op("nextcloud", "rollback"), apitest.Call{Method: "Rollback", Args: []any{"nextcloud"}}},
		{"update to latest", func(ctx context.Context) (any, error) { return c.Update(ctx, "nextcloud", "") },
			op("nextcloud", "update"), apitest.Call{Method: "Update", Args: []any{"nextcloud", ""}}},
		{"update to a version", func(ctx context.Context) (any, error) { return c.Update(ctx, "nextcloud", "29.0.0") },
			op("nextcloud", "update"), apitest.Call{Method: "Update", Args: []any{"nextcloud", "29.0.0"}}},
		{"uninstall keeping data", func(ctx context.Context) (any, error) { return c.Uninstall(ctx, "nextcloud", true) },
			op("nextcloud", "uninstall"), apitest.Call{Method: "Uninstall", Args: []any{"nextcloud", true}}},
		{"uninstall with data", func(ctx context.Context) (any, error) { return c.Uninstall(ctx, "nextcloud", false) },
			op("nextcloud", "uninstall"), apitest.Call{Method: "Uninstall", Args: []any{"nextcloud", false}}},
		{"operation", func(ctx context.Context) (any, error) { return c.Operation(ctx, "op-10") },
			op("nextcloud", "uninstall"), apitest.Call{Method: "Operation", Args: []any{"op-10"}}},
		{"activity", func(ctx context.Context) (any, error) { return c.Activity(ctx, 0, 0) },
			sample.ActivityLog, apitest.Call{Method: "Activity", Args: []any{uint64(0), 0}}},
		{"activity since, limited", func(ctx context.Context) (any, error) { return c.Activity(ctx, 1, 2) },
			sample.ActivityLog[1:3], apitest.Call{Method: "Activity", Args: []any{uint64(1), 2}}},
	}
	actor := wantActor(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call(context.Background())
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
			}
			calls := f.Calls()
			last := calls[len(calls)-1]
			tt.wantCall.Actor = actor
			if diff := cmp.Diff(tt.wantCall, last); diff != "" {
				t.Errorf("call (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmptyListsAreArrays checks that a nil list is sent as [], not null.
func TestEmptyListsAreArrays(t *testing.T) {
	sock := server(t, &apitest.Fake{})
	for _, path := range []string{"/v1/catalogs", "/v1/store", "/v1/apps", "/v1/activity"} {
		t.Run(path, func(t *testing.T) {
			a := raw(t, sock, "GET", path, "", "")
			if a.status != 200 || a.body != "[]\n" || a.ctype != "application/json" {
				t.Errorf("got %d %q %q, want 200 application/json \"[]\\n\"", a.status, a.ctype, a.body)
			}
		})
	}
}
