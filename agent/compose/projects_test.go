package compose

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/agent/manifest"
)

// TestSampleProjects imports the sample projects (the same two-service app
// in each platform's style), checks what the end-to-end test relies on,
// and compares each plan with testdata/plans/project-<kind>.golden.
func TestSampleProjects(t *testing.T) {
	for _, tc := range []struct {
		dir, kind  string
		web, store string
	}{
		{"plain", KindCompose, "web", "store"},
		{"casaos", KindCasaOS, "web", "store"},
		{"umbrel", KindUmbrel, "web", "store"},
		{"runtipi", KindRuntipi, "duo", "duo-store"},
		{"coopcloud", KindCoopCloud, "app", "store"},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			p := importDir(t, sampleProject(t, tc.dir), Options{})
			golden(t, filepath.Join("plans", "project-"+tc.dir+".golden"), planJSON(t, p))
			if p.Refused != nil {
				t.Fatalf("refused: %s", p.Refused)
			}
			if p.Kind != tc.kind {
				t.Errorf("kind: got %q, want %q", p.Kind, tc.kind)
			}
			if diff := cmp.Diff([]manifest.Permission{manifest.PermInternet}, p.Permissions); diff != "" {
				t.Errorf("permissions (-want +got):\n%s", diff)
			}
			m := p.Manifest
			if m.ID != "duo" || m.Origin != manifest.OriginCompose {
				t.Errorf("id, origin: got %q, %q, want duo, compose", m.ID, m.Origin)
			}
			web, store := m.Services[tc.web], m.Services[tc.store]
			if len(m.Services) != 2 {
				t.Fatalf("services: got %d, want 2 (%s and %s)", len(m.Services), tc.web, tc.store)
			}
			if web.Image.Ref != "127.0.0.1:5000/samples/web:1.0" || store.Image.Ref != "127.0.0.1:5000/samples/store:1.0" {
				t.Errorf("images: got %s and %s, want the sample web and store 1.0", web.Image.Ref, store.Image.Ref)
			}
			if web.HTTPPort != 8080 {
				t.Errorf("web httpPort: got %d, want 8080", web.HTTPPort)
			}
			if diff := cmp.Diff([]manifest.Dependency{{Service: tc.store, Condition: manifest.ConditionHealthy}}, web.DependsOn); diff != "" {
				t.Errorf("web dependsOn (-want +got):\n%s", diff)
			}
			if hc := web.HealthCheck; hc == nil || !cmp.Equal(hc.Command, []string{"/app/web", "-check", "http://127.0.0.1:8080/healthz"}) {
				t.Errorf("web health check: got %+v, want the web binary's probe", hc)
			}
			if hc := store.HealthCheck; hc == nil || hc.HTTP == nil || *hc.HTTP != (manifest.HTTPCheck{Path: "/healthz", Port: 8081}) {
				t.Errorf("store health check: got %+v, want HTTP /healthz on 8081", hc)
			}
			if len(store.Volumes) != 1 || store.Volumes[0].Target != "/app/data" || filepath.Dir(store.Volumes[0].Source) != "volumes" {
				t.Errorf("store volumes: got %+v, want one named volume (volumes/...) at /app/data", store.Volumes)
			}
			if len(web.Volumes) != 1 || web.Volumes[0].Target != "/app/data" {
				t.Errorf("web volumes: got %+v, want one at /app/data", web.Volumes)
			}
			if !web.WritableRoot || !store.WritableRoot {
				t.Errorf("writableRoot: got %v and %v, want true", web.WritableRoot, store.WritableRoot)
			}
		})
	}
}
