package agent

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/proxy"
	rt "github.com/hearthbox/hearth/runtime"
)

// editedSample returns the sample manifest with its web service changed by
// edit.
func editedSample(t *testing.T, edit func(web map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(sampleManifest(t), &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc["services"].(map[string]any)["web"].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestPlanDesiredKernel checks that a service's sysctls and shmSize reach
// the container spec the plan compares with what runs.
func TestPlanDesiredKernel(t *testing.T) {
	cases := []struct {
		name        string
		edit        func(web map[string]any)
		wantSysctls map[string]string
		wantShm     int64
	}{
		{"neither", func(map[string]any) {}, nil, 0},
		{"both", func(web map[string]any) {
			web["sysctls"] = map[string]any{"net.core.somaxconn": "1024", "kernel.shmmni": "8192"}
			web["shmSize"] = "32Mi"
		}, map[string]string{"net.core.somaxconn": "1024", "kernel.shmmni": "8192"}, 32 << 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			a := &Agent{cfg: Config{BoxName: "hearth", DataRoot: root}}
			app := state.App{
				ID: "hello", Manifest: editedSample(t, c.edit), Wanted: state.WantRunning,
				Settings: map[string]string{"greeting": "hi"}, Secrets: map[string]string{"api_token": "t"},
				Images: map[string]string{"web": "127.0.0.1:5000/samples/web:1.1@sha256:50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c"},
			}
			d, err := a.desired(app)
			if err != nil {
				t.Fatalf("desired: got %v, want no error", err)
			}
			if len(d.Containers) != 1 {
				t.Fatalf("got %d containers, want 1", len(d.Containers))
			}
			spec := d.Containers[0]
			if diff := cmp.Diff(c.wantSysctls, spec.Sysctls); diff != "" {
				t.Errorf("Sysctls (-want +got):\n%s", diff)
			}
			if got := spec.Resources.ShmBytes; got != c.wantShm {
				t.Errorf("got ShmBytes %d, want %d", got, c.wantShm)
			}
			if err := spec.Validate(root); err != nil {
				t.Errorf("spec.Validate: got %v, want no error", err)
			}
		})
	}
}

// TestRoutesHeadless checks that an app without a web entry gets no route
// and no address, while one with a web entry gets both.
func TestRoutesHeadless(t *testing.T) {
	m := editedSample(t, func(web map[string]any) {
		delete(web, "httpPort")
		delete(web, "healthCheck")
	})
	// A typed nil: appURLs only asks whether there is a proxy.
	a := &Agent{cfg: Config{BoxName: "hearth", Domain: "example.org", Proxy: (*proxy.Proxy)(nil)}}
	running := []rt.ContainerInfo{{ID: "hello-web", Group: "hello", State: rt.StateRunning}}
	cases := []struct {
		name       string
		manifest   []byte
		wantRoutes int
		wantURLs   int
	}{
		{"headless", m, 0, 0},
		{"web entry", sampleManifest(t), 2, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app := state.App{ID: "hello", Manifest: c.manifest, Wanted: state.WantRunning, Port: 10001}
			if got := a.routes([]state.App{app}, running, time.Time{}); len(got) != c.wantRoutes {
				t.Errorf("got %d routes %+v, want %d", len(got), got, c.wantRoutes)
			}
			if got := a.appURLs(app); len(got) != c.wantURLs {
				t.Errorf("got URLs %q, want %d", got, c.wantURLs)
			}
		})
	}
}
