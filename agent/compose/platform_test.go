package compose

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/agent/manifest"
)

// TestPlatforms checks what each platform's own files add.
func TestPlatforms(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		opts  Options
		check func(t *testing.T, p *Plan)
	}{
		{"umbrel under another id", map[string]string{
			"umbrel-app.yml": "id: notes\nname: Notes\nversion: v2.1\ntagline: Take notes\ncategory: files\n",
			"docker-compose.yml": "version: \"3.7\"\nservices:\n  app_proxy:\n    environment:\n      APP_HOST: notes_server_1\n      APP_PORT: \"3000\"\n" +
				"  server:\n    image: notes:2.1\n    environment: {DB: \"notes_db_1:5432\"}\n  db:\n    image: postgres:16\n",
		}, Options{AppID: "my-notes"}, func(t *testing.T, p *Plan) {
			m := accepted(t, p)
			if m.Services["server"].HTTPPort != 3000 || m.Title != "Notes" || m.Version != "2.1.0" || m.Category != "files" {
				t.Errorf("got httpPort %d, title %q, version %q, category %q", m.Services["server"].HTTPPort, m.Title, m.Version, m.Category)
			}
			if got := m.Services["server"].Environment["DB"]; got != "{{services.db.host}}:5432" {
				t.Errorf("DB: got %q, want the db service's host", got)
			}
			if _, ok := m.Services["app-proxy"]; ok {
				t.Error("Umbrel's app_proxy became a service")
			}
		}},
		{"umbrel app that needs another", map[string]string{
			"umbrel-app.yml":     "id: wallet\nname: Wallet\ndependencies: [bitcoin]\n",
			"docker-compose.yml": "services:\n  web:\n    image: w:1\n    ports: [\"80:80\"]\n",
		}, Options{}, func(t *testing.T, p *Plan) {
			checkRefused(t, p, refusal{"", "dependencies", "Umbrel app \"bitcoin\""})
		}},
		{"casaos architectures", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    image: w:1\n    ports: [\"80:80\"]\nx-casaos:\n  architectures: [arm64]\n  main: web\n  port_map: \"80\"\n",
		}, Options{}, func(t *testing.T, p *Plan) {
			checkRefused(t, p, refusal{"", "architectures", "made for arm64"})
		}},
		{"casaos on arm64", map[string]string{
			"docker-compose.yml": "services:\n  web:\n    image: w:1\n    ports: [\"80:80\"]\nx-casaos:\n  architectures: [arm64, arm]\n  main: web\n  port_map: \"80\"\n",
		}, Options{Platform: manifest.PlatformARM64}, func(t *testing.T, p *Plan) {
			m := accepted(t, p)
			if diff := cmp.Diff(map[string]string{manifest.PlatformARM64: ""}, m.Services["web"].Image.Platforms); diff != "" {
				t.Errorf("platforms (-want +got):\n%s", diff)
			}
		}},
		{"runtipi form fields", map[string]string{
			"config.json": `{"id": "pad", "name": "Pad", "tipi_version": 3, "port": 8000, "short_desc": "Pads",
				"form_fields": [
					{"type": "email", "label": "Admin email", "env_variable": "PAD_EMAIL", "required": true},
					{"type": "password", "label": "Admin password", "env_variable": "PAD_PASSWORD", "required": true, "regex": "^.{8,}$"},
					{"type": "number", "label": "Workers", "env_variable": "PAD_WORKERS", "min": 1, "max": 8, "default": 2},
					{"type": "boolean", "label": "Sign-ups", "env_variable": "PAD_SIGNUPS", "default": false},
					{"type": "text", "label": "Mode", "env_variable": "PAD_MODE", "options": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}], "default": "c"}
				]}`,
			"docker-compose.yml": "services:\n  pad:\n    image: pad:1\n    ports: [\"${APP_PORT}:80\"]\n    environment:\n" +
				"      EMAIL: ${PAD_EMAIL}\n      PASSWORD: ${PAD_PASSWORD}\n      WORKERS: ${PAD_WORKERS}\n      SIGNUPS: ${PAD_SIGNUPS}\n      MODE: ${PAD_MODE}\n",
		}, Options{}, func(t *testing.T, p *Plan) {
			m := accepted(t, p)
			if m.Services["pad"].HTTPPort != 80 {
				t.Errorf("httpPort: got %d, want 80", m.Services["pad"].HTTPPort)
			}
			types := map[string]manifest.SettingType{}
			for _, s := range m.Settings {
				types[s.ID] = s.Type
			}
			want := map[string]manifest.SettingType{"pad_email": "email", "pad_password": "password", "pad_workers": "number", "pad_signups": "boolean", "pad_mode": "choice"}
			if diff := cmp.Diff(want, types); diff != "" {
				t.Errorf("setting types (-want +got):\n%s", diff)
			}
			checkWarning(t, p, "", "form_fields[4].default", "does not fit")
			if m.Services["pad"].Environment["PASSWORD"] != "{{settings.pad_password}}" {
				t.Errorf("PASSWORD: got %q, want the owner's setting", m.Services["pad"].Environment["PASSWORD"])
			}
		}},
		{"coop-cloud by its labels", map[string]string{
			"compose.yml": "services:\n  app:\n    image: r:1\n    environment: [DOMAIN]\n    deploy:\n      labels: [\"coop-cloud.${STACK_NAME}.version=0.2.0+1\", \"traefik.http.services.${STACK_NAME}.loadbalancer.server.port=5000\"]\n",
		}, Options{AppID: "recipe"}, func(t *testing.T, p *Plan) {
			m := accepted(t, p)
			if p.Kind != KindCoopCloud || m.Services["app"].HTTPPort != 5000 || m.Version != "0.2.0+1" || m.Services["app"].Environment["DOMAIN"] != "{{app.domain}}" {
				t.Errorf("got kind %q, httpPort %d, version %q, DOMAIN %q", p.Kind, m.Services["app"].HTTPPort, m.Version, m.Services["app"].Environment["DOMAIN"])
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, importDir(t, writeProject(t, tc.files), tc.opts))
		})
	}
}

// TestConfinement: nothing outside the project folder is read, through
// paths or symbolic links.
func TestConfinement(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.env")
	if err := os.WriteFile(outside, []byte("STOLEN=yes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files map[string]string
		links map[string]string // name -> target
		want  refusal
	}{
		{"env_file through a link", map[string]string{"compose.yaml": "services:\n  web:\n    image: a:1\n    ports: [\"80:80\"]\n    env_file: app.env\n"},
			map[string]string{"app.env": outside}, refusal{"web", "env_file[0]", "leads outside the project folder"}},
		{"compose file through a link", nil, map[string]string{"compose.yaml": outside}, refusal{"", "", "leads outside the project folder"}},
		{"extends outside", map[string]string{"compose.yaml": "services:\n  web:\n    extends: {file: " + outside + ", service: x}\n"},
			nil, refusal{"", "", "outside the project folder"}},
		{"extends through a link", map[string]string{"compose.yaml": "services:\n  web:\n    extends: {file: base.yaml, service: x}\n"},
			map[string]string{"base.yaml": outside}, refusal{"", "", "base.yaml"}},
		{"include", map[string]string{"compose.yaml": "include: [other.yaml]\nservices: {}\n", "other.yaml": "services: {}\n"},
			nil, refusal{"", "include", "not supported"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeProject(t, tc.files)
			for name, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			p := importDir(t, dir, Options{})
			if p.Refused == nil {
				t.Fatalf("accepted: %+v", p.Manifest)
			}
			r := p.Refused
			if r.Service != tc.want.service || r.Key != tc.want.key || !strings.Contains(r.String(), tc.want.reason) {
				t.Errorf("got refused %q %q %q, want %q %q containing %q", r.Service, r.Key, r.String(), tc.want.service, tc.want.key, tc.want.reason)
			}
		})
	}
}

// TestDeterministic: the same project gives the same plan every time.
func TestDeterministic(t *testing.T) {
	dir := filepath.Join("testdata", "appstores", "casaos", "Apps", "Immich")
	first := planJSON(t, importDir(t, dir, Options{}))
	for range 5 {
		if diff := cmp.Diff(string(first), string(planJSON(t, importDir(t, dir, Options{})))); diff != "" {
			t.Fatalf("a second import differs (-first +again):\n%s", diff)
		}
	}
}
