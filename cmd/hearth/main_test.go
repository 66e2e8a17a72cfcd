package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/api/apitest"
	"github.com/hearthbox/hearth/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// hearthd serves f on a fresh socket until the test ends and returns the
// socket's path. The API serves root only, so this needs root.
func hearthd(t *testing.T, f api.Service) string {
	t.Helper()
	testenv.Need(t)
	dir, err := os.MkdirTemp("", "hearth-cli-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "hearthd.sock")
	ln, err := api.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.NewServer(f, api.ServerConfig{}).Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Serve did not return 10 s after its context ended")
		}
	})
	return sock
}

// result is what one run of the CLI printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// hearth runs the CLI with args against the socket, in UTC.
func hearth(sock string, args ...string) result {
	var out, errOut bytes.Buffer
	env := map[string]string{"HEARTH_SOCKET": sock, "TZ": "UTC"}
	code := run(args, &out, &errOut, func(k string) string { return env[k] })
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// golden compares r with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name string, r result) {
	t.Helper()
	got := fmt.Sprintf("%s--- stderr\n%s--- exit %d\n", r.stdout, r.stderr, r.code)
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

// TestHumanOutput checks what people read, against golden files.
func TestHumanOutput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *apitest.Fake)
		args  []string
	}{
		{"status", nil, []string{"status"}},
		{"status_starting", func(f *apitest.Fake) { f.Box.Ready = false }, []string{"status"}},
		{"app_ls", nil, []string{"app", "ls"}},
		{"app_ls_empty", func(f *apitest.Fake) { f.Installed = nil }, []string{"app", "ls"}},
		{"app_info", nil, []string{"app", "info", "nextcloud"}},
		{"app_info_busy", nil, []string{"app", "info", "vaultwarden"}},
		{"store", nil, []string{"store"}},
		{"store_catalog", nil, []string{"store", "--catalog", "friends"}},
		{"activity", nil, []string{"activity"}},
		{"activity_since", nil, []string{"activity", "--since", "2", "--limit", "1"}},
		{"catalog_ls", nil, []string{"catalog", "ls"}},
		{"catalog_refresh_refused", nil, []string{"catalog", "refresh", "friends"}},
		{"catalog_add", nil, []string{"catalog", "add", "more", "https://more.example/c.json", "a2V5", "--title", "More"}},
		{"catalog_remove", nil, []string{"catalog", "remove", "friends"}},
		{"logs", nil, []string{"app", "logs", "nextcloud"}},
		{"logs_service_tail", nil, []string{"app", "logs", "nextcloud", "--service", "web", "--tail", "1"}},
		{"install", nil, []string{"app", "install", "vaultwarden", "--set", "domain=vw.example"}},
		{"install_no_wait", nil, []string{"app", "install", "vaultwarden", "--no-wait"}},
		{"install_failed", func(f *apitest.Fake) {
			f.Progress = append(f.Progress[:3:3], api.Progress{Operation: "op-10", Done: true, State: "failed", Error: "pull docker.io/vaultwarden/server:1.32.0: registry unreachable"})
		}, []string{"app", "install", "vaultwarden"}},
		{"update_rolled_back", func(f *apitest.Fake) {
			f.Progress = []api.Progress{
				{Operation: "op-10", Step: "health", Message: "waiting for web to be healthy"},
				{Operation: "op-10", Step: "rollback", Message: "returning to 29.0.0"},
				{Operation: "op-10", Done: true, State: "rolledback", Error: "web: health check failed 3 times"},
			}
		}, []string{"app", "update", "nextcloud", "--version", "29.0.2"}},
		{"stop", nil, []string{"app", "stop", "nextcloud"}},
		{"uninstall", nil, []string{"app", "uninstall", "nextcloud", "--keep-data"}},
		{"help", nil, []string{"help"}},
		{"help_app", nil, []string{"app", "--help"}},
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

// TestCalls checks what the commands ask of hearthd.
func TestCalls(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want apitest.Call
	}{
		{"install", []string{"app", "install", "--catalog", "official", "vaultwarden", "--version", "1.32.0", "--set", "a=1", "--set", "b=x=y", "--no-wait"},
			apitest.Call{Method: "Install", Args: []any{api.InstallRequest{App: "vaultwarden", Catalog: "official", Version: "1.32.0", Settings: map[string]string{"a": "1", "b": "x=y"}}}}},
		{"install granting", []string{"app", "install", "homeassistant", "--grant", "host-network,privileged", "--grant", "host-network", "--no-wait"},
			apitest.Call{Method: "Install", Args: []any{api.InstallRequest{App: "homeassistant", Grants: []string{"host-network", "privileged"}}}}},
		{"update latest", []string{"app", "update", "nextcloud", "--no-wait"}, apitest.Call{Method: "Update", Args: []any{"nextcloud", ""}}},
		{"uninstall", []string{"app", "uninstall", "nextcloud", "--no-wait"}, apitest.Call{Method: "Uninstall", Args: []any{"nextcloud", false}}},
		{"uninstall keeping data", []string{"app", "uninstall", "--keep-data", "nextcloud", "--no-wait"}, apitest.Call{Method: "Uninstall", Args: []any{"nextcloud", true}}},
		{"restart", []string{"app", "restart", "nextcloud", "--no-wait"}, apitest.Call{Method: "Restart", Args: []any{"nextcloud"}}},
		{"rollback", []string{"app", "rollback", "nextcloud", "--no-wait"}, apitest.Call{Method: "Rollback", Args: []any{"nextcloud"}}},
		{"start", []string{"app", "start", "nextcloud", "--no-wait"}, apitest.Call{Method: "Start", Args: []any{"nextcloud"}}},
		{"refresh all", []string{"catalog", "refresh", "--json"}, apitest.Call{Method: "RefreshCatalogs", Args: []any{""}}},
		{"follow logs", []string{"app", "logs", "-f", "nextcloud"}, apitest.Call{Method: "Logs", Args: []any{"nextcloud", api.LogOptions{Follow: true}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := apitest.Sample()
			sock := hearthd(t, f)
			r := hearth(sock, tt.args...)
			calls := f.Calls()
			if len(calls) == 0 {
				t.Fatalf("no call; got %+v", r)
			}
			got := calls[0]
			got.Actor = ""
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("call (-want +got):\n%s\n%+v", diff, r)
			}
		})
	}
}

// TestErrors checks the exit status and the one line on stderr.
func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		err        map[string]error
		args       []string
		sock       string // "" = the test's hearthd
		wantCode   int
		wantStderr string
	}{
		{"not installed", nil, []string{"app", "info", "x1"}, "", 1,
			`hearth: app "x1" is not installed: see 'hearth app ls'`},
		{"start not installed", nil, []string{"app", "start", "x1"}, "", 1,
			`hearth: app "x1" is not installed: see 'hearth app ls'`},
		{"busy", map[string]error{"Update": fmt.Errorf("app %q: %w (restart op-9)", "vaultwarden", api.ErrBusy)}, []string{"app", "update", "vaultwarden"}, "", 1,
			`hearth: app "vaultwarden": another operation runs (restart op-9): wait for it to end ('hearth app info vaultwarden' shows it), then try again`},
		{"refused", map[string]error{"Install": fmt.Errorf("vaultwarden needs 4 GiB of memory, 1 GiB is free: %w", api.ErrRefused)}, []string{"app", "install", "vaultwarden"}, "", 1,
			`hearth: vaultwarden needs 4 GiB of memory, 1 GiB is free: refused: free some room or pick another app ('hearth store')`},
		{"not in store", map[string]error{"Install": fmt.Errorf("app %q: in no catalog: %w", "nope", api.ErrNotFound)}, []string{"app", "install", "nope"}, "", 1,
			`hearth: app "nope": in no catalog: not found: see 'hearth store' for the apps and versions on offer`},
		{"invalid, several problems", map[string]error{"Install": fmt.Errorf("%w", errors.Join(
			fmt.Errorf("settings.domain: must be a host name: %w", api.ErrInvalid),
			fmt.Errorf("settings.port: must be a number: %w", api.ErrInvalid)))}, []string{"app", "install", "nextcloud"}, "", 1,
			`hearth: settings.domain: must be a host name: invalid request; settings.port: must be a number: invalid request: see 'hearth help'`},
		{"unavailable", map[string]error{"Status": fmt.Errorf("first reconcile pass: %w", api.ErrUnavailable)}, []string{"status"}, "", 1,
			`hearth: first reconcile pass: unavailable: hearthd is not ready yet, try again in a moment`},
		{"internal", map[string]error{"Apps": errors.New("state: database not open")}, []string{"app", "ls"}, "", 1,
			`hearth: hearthd failed: state: database not open: see its log (journalctl -u hearthd)`},
		{"catalog not followed", nil, []string{"catalog", "remove", "nobody"}, "", 1,
			`hearth: catalog "nobody" is not followed: see 'hearth catalog ls'`},
		{"unreachable", nil, []string{"status"}, "/nonexistent/hearthd.sock", 1,
			`hearth: cannot reach hearthd at /nonexistent/hearthd.sock: is it running? (set HEARTH_SOCKET to use another socket)`},
		{"no command", nil, nil, "", 2,
			`hearth: no command given: see 'hearth help'`},
		{"unknown command", nil, []string{"apps"}, "", 2,
			`hearth: unknown command "apps": see 'hearth help'`},
		{"unknown subcommand", nil, []string{"app", "remove", "x1"}, "", 2,
			`hearth: unknown command "app remove": see 'hearth help app'`},
		{"missing id", nil, []string{"app", "install"}, "", 2,
			`hearth: missing <id>: usage: hearth app install <id> [--catalog id] [--version v] [--set key=value]... [--grant permission]... [--no-wait]`},
		{"extra argument", nil, []string{"app", "info", "a1", "b1"}, "", 2,
			`hearth: unexpected argument "b1": usage: hearth app info <id>`},
		{"unknown flag", nil, []string{"app", "ls", "--all"}, "", 2,
			`hearth: flag provided but not defined: -all: usage: hearth app ls`},
		{"bad setting", nil, []string{"app", "install", "x1", "--set", "novalue"}, "", 2,
			`hearth: invalid value "novalue" for flag -set: "novalue" is not key=value: usage: hearth app install <id> [--catalog id] [--version v] [--set key=value]... [--grant permission]... [--no-wait]`},
		{"bad grant", nil, []string{"app", "install", "x1", "--grant", "host-pid,devices"}, "", 2,
			`hearth: invalid value "host-pid,devices" for flag -grant: "devices" is not a host permission (host-files, container-engine, host-network, host-pid, privileged): usage: hearth app install <id> [--catalog id] [--version v] [--set key=value]... [--grant permission]... [--no-wait]`},
		{"not granted", map[string]error{"Install": fmt.Errorf("Portainer asks for container-engine, which reach beyond its sandbox into the host: grant them by name to install it (hearth app install --grant): %w", api.ErrRefused)}, []string{"app", "install", "portainer"}, "", 1,
			`hearth: Portainer asks for container-engine, which reach beyond its sandbox into the host: grant them by name to install it (hearth app install --grant): refused`},
		{"negative tail", nil, []string{"app", "logs", "x1", "--tail", "-3"}, "", 2,
			`hearth: --tail -3: must be 0 or more: usage: hearth app logs <id> [-f] [--tail n] [--service name]`},
		{"build without flags", nil, []string{"catalog", "build", "src"}, "", 2,
			`hearth: missing --id --title --out: usage: hearth catalog build <src-dir> --id id --title title --out payload [--expires 8760h] [--timestamp t] [--offline]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock := tt.sock
			if sock == "" {
				f := apitest.Sample()
				f.Err = tt.err
				sock = hearthd(t, f)
			}
			r := hearth(sock, tt.args...)
			if r.code != tt.wantCode || r.stderr != tt.wantStderr+"\n" {
				t.Errorf("got exit %d, stderr %q, want exit %d, stderr %q", r.code, r.stderr, tt.wantCode, tt.wantStderr+"\n")
			}
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("got %d lines on stderr, want 1", strings.Count(r.stderr, "\n"))
			}
		})
	}
}
