package agent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
	"github.com/hearthbox/hearth/agent/state"
)

// hostSample returns the sample manifest whose web service mounts the host
// path src (read-only) and runs on the host's network, with the permissions
// that asks for.
func hostSample(t *testing.T, src string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(sampleManifest(t), &doc); err != nil {
		t.Fatal(err)
	}
	web := doc["services"].(map[string]any)["web"].(map[string]any)
	web["volumes"] = append(web["volumes"].([]any), map[string]any{"kind": "host", "source": src, "target": "/host", "readOnly": true})
	web["hostNetwork"] = true
	doc["permissions"] = []any{string(manifest.HostPathPermission(src)), "host-network"}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAdmitHost checks that host access is refused unless granted by name
// and unless the host path exists, is not one Hearth never mounts once its
// symbolic links are resolved, and is not Hearth's own state.
func TestAdmitHost(t *testing.T) {
	stateDir := t.TempDir()
	dataRoot := filepath.Join(stateDir, "apps")
	files := t.TempDir() // an owner's folder: any host path Hearth may mount
	for _, l := range []struct{ name, to string }{{"proc", "/proc/self"}, {"state", dataRoot}, {"root", "/"}} {
		if err := os.Symlink(l.to, filepath.Join(files, l.name)); err != nil {
			t.Fatal(err)
		}
	}
	engineWant := "does not exist on this box: Hearth runs no Docker"
	if _, err := os.Stat("/var/run/docker.sock"); err == nil {
		engineWant = "" // this machine has one
	}
	all := []manifest.Permission{manifest.PermHostFiles, manifest.PermContainerEngine, manifest.PermHostNetwork}
	cases := []struct {
		name    string
		src     string
		granted []manifest.Permission
		want    string // "": admitted; else a part of the refusal
	}{
		{"granted", files, all, ""},
		{"host network not granted", files, []manifest.Permission{manifest.PermHostFiles}, "asks for host-network, which reach beyond its sandbox"},
		{"nothing granted", files, nil, "asks for host-files, host-network"},
		{"missing", filepath.Join(files, "nope"), all, "does not exist on this box"},
		{"link to proc", filepath.Join(files, "proc"), all, "leads to /proc/"},
		{"link to the root", filepath.Join(files, "root"), all, "/ is never mounted"},
		{"link to hearth's state", filepath.Join(files, "state"), all, "Hearth's own state"},
		{"hearth's state folder", stateDir, all, "Hearth's own state"},
		{"engine socket", "/var/run/docker.sock", all, engineWant},
	}
	if err := os.MkdirAll(dataRoot, 0o750); err != nil {
		t.Fatal(err)
	}
	a := &Agent{cfg: Config{DataRoot: dataRoot}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := manifest.Parse(hostSample(t, c.src))
			if err != nil {
				t.Fatalf("Parse: got %v, want no error", err)
			}
			err = a.admitHost(m, c.granted, grantHint)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("got %v, want an error containing %q", err, c.want)
			case c.want != "" && !errors.Is(err, api.ErrRefused):
				t.Errorf("got %v, want it to match api.ErrRefused", err)
			}
		})
	}
}

func TestParseGrants(t *testing.T) {
	cases := []struct {
		name    string
		in      []string
		want    []manifest.Permission
		wantErr string
	}{
		{"none", nil, []manifest.Permission{}, ""},
		{"host ones", []string{"privileged", "host-pid"}, []manifest.Permission{manifest.PermPrivileged, manifest.PermHostPID}, ""},
		{"a sandbox permission", []string{"host-pid", "devices"}, nil, `grants[1]: "devices" is not one of host-files`},
		{"unknown", []string{"root"}, nil, `grants[0]: "root"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseGrants(c.in)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errors.Is(err, api.ErrInvalid) {
					t.Fatalf("got %v, want an ErrInvalid containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("grants (-want +got):\n%s", diff)
			}
		})
	}
}

// TestAdmitHostUpdate checks that an update may keep the host permissions
// granted at install but not add one.
func TestAdmitHostUpdate(t *testing.T) {
	files := t.TempDir()
	a := &Agent{cfg: Config{DataRoot: filepath.Join(t.TempDir(), "apps")}}
	withHost, err := manifest.Parse(hostSample(t, files))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		installed []byte
		want      string
	}{
		{"granted at install", hostSample(t, files), ""},
		{"not granted at install", sampleManifest(t), "the installed version was not granted them"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := a.admitHostUpdate(c.installed, withHost)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, api.ErrRefused)):
				t.Errorf("got %v, want an ErrRefused containing %q", err, c.want)
			}
		})
	}
}

// TestDesiredHostAccess checks that host volumes, files and the host
// namespaces reach the container spec, and that the spec is valid.
func TestDesiredHostAccess(t *testing.T) {
	root := t.TempDir()
	a := &Agent{cfg: Config{BoxName: "hearth", DataRoot: root}}
	m := editedSample(t, func(web map[string]any) {
		web["volumes"] = append(web["volumes"].([]any), map[string]any{"kind": "host", "source": "/run/dbus", "target": "/run/dbus", "readOnly": true})
		web["files"] = []any{map[string]any{"target": "/etc/app.conf", "content": "greeting = {{settings.greeting}}\nurl = {{app.url}}\n"}}
		web["privileged"] = true
		web["hostNetwork"] = true
		web["hostPID"] = true
	})
	var doc map[string]any
	if err := json.Unmarshal(m, &doc); err != nil {
		t.Fatal(err)
	}
	doc["permissions"] = []any{"host-files", "host-network", "host-pid", "privileged"}
	m, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	app := state.App{
		ID: "hello", Manifest: m, Wanted: state.WantRunning,
		Settings: map[string]string{"greeting": "hi"}, Secrets: map[string]string{"api_token": "t"},
		Images: map[string]string{"web": "127.0.0.1:5000/samples/web:1.1@sha256:50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c"},
	}
	d, err := a.desired(app)
	if err != nil {
		t.Fatalf("desired: got %v, want no error", err)
	}
	spec := d.Containers[0]
	if spec.Network != "" || !spec.HostNetwork || !spec.HostPID || !spec.Privileged {
		t.Errorf("got network %q, hostNetwork %v, hostPID %v, privileged %v; want \"\", true, true, true", spec.Network, spec.HostNetwork, spec.HostPID, spec.Privileged)
	}
	if len(spec.Volumes) != 1 || spec.Volumes[0].Source != "web" {
		t.Errorf("got volumes %+v, want the data folder's web only", spec.Volumes)
	}
	if len(spec.HostMounts) != 1 || spec.HostMounts[0].Source != "/run/dbus" || !spec.HostMounts[0].ReadOnly {
		t.Errorf("got host mounts %+v, want /run/dbus read-only", spec.HostMounts)
	}
	if len(spec.Files) != 1 || spec.Files[0].Content != "greeting = hi\nurl = http://hello.hearth.local\n" {
		t.Errorf("got files %+v, want /etc/app.conf with its references expanded", spec.Files)
	}
	if err := spec.Validate(root); err != nil {
		t.Errorf("spec.Validate: got %v, want no error", err)
	}
}
