package compose

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/agent/manifest"
)

// refusal is what a test expects of a Refusal: the service, the key and a
// part of the reason.
type refusal struct{ service, key, reason string }

func checkRefused(t *testing.T, p *Plan, want refusal) {
	t.Helper()
	if p.Refused == nil {
		t.Fatalf("got an accepted plan, want refused %+v", want)
	}
	r := p.Refused
	if r.Service != want.service || r.Key != want.key || !strings.Contains(r.Reason, want.reason) {
		t.Errorf("got refused %q %q %q, want %q %q containing %q", r.Service, r.Key, r.Reason, want.service, want.key, want.reason)
	}
	if p.Manifest != nil {
		t.Errorf("a refused plan has a manifest")
	}
}

func accepted(t *testing.T, p *Plan) *manifest.Manifest {
	t.Helper()
	if p.Refused != nil {
		t.Fatalf("refused: %s", p.Refused)
	}
	if err := p.Manifest.Validate(); err != nil {
		t.Fatalf("the manifest is invalid: %v", err)
	}
	return p.Manifest
}

func hasWarning(p *Plan, service, key, part string) bool {
	return slices.ContainsFunc(p.Warnings, func(w Warning) bool {
		return w.Service == service && w.Key == key && strings.Contains(w.Message, part)
	})
}

func checkWarning(t *testing.T, p *Plan, service, key, part string) {
	t.Helper()
	if !hasWarning(p, service, key, part) {
		t.Errorf("no warning %q %q containing %q; got %v", service, key, part, p.Warnings)
	}
}

// TestRefusals: what cannot be honoured safely is refused, naming the
// service and key.
func TestRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		service string // the compose service's body, under services.web
		top     string // more top-level YAML
		more    map[string]string
		want    refusal
	}{
		{"build only", "build: .", "", nil, refusal{"web", "build", "does not build"}},
		{"proc", "image: a:1\nvolumes: [\"/proc:/host/proc\"]", "", nil, refusal{"web", "volumes[0]", "/proc is never mounted: it is the host's process table"}},
		{"host root", "image: a:1\nvolumes: [\"/:/rootfs:ro\"]", "", nil, refusal{"web", "volumes[0]", "/ is never mounted"}},
		{"containerd socket", "image: a:1\nvolumes: [\"/run/containerd/containerd.sock:/c.sock\"]", "", nil, refusal{"web", "volumes[0]", "containerd's and runc's state"}},
		{"the host's run folder", "image: a:1\nvolumes: [\"/var/run:/var/run\"]", "", nil, refusal{"web", "volumes[0]", "/var/run is never mounted: it holds"}},
		{"hearth's state", "image: a:1\nvolumes: [\"/var/lib/hearth:/h:ro\"]", "", nil, refusal{"web", "volumes[0]", "Hearth's own state"}},
		{"boot", "image: a:1\nvolumes: [\"/boot:/boot:ro\"]", "", nil, refusal{"web", "volumes[0]", "boot files"}},
		{"writable etc", "image: a:1\nvolumes: [\"/etc/ssl:/etc/ssl\"]", "", nil, refusal{"web", "volumes[0]", "read-only only (the host's /etc)"}},
		{"writable sys", "image: a:1\nvolumes: [\"/sys/class:/host/sys\"]", "", nil, refusal{"web", "volumes[0]", "read-only only (the host's /sys)"}},
		{"home folder", "image: a:1\nvolumes: [\"~/x:/x\"]", "", nil, refusal{"web", "volumes[0]", "a host path Hearth cannot place"}},
		{"config missing", "image: a:1\nconfigs: [c]", "", nil, refusal{"web", "", "undefined config c"}},
		{"external config", "image: a:1\nconfigs: [c]", "configs:\n  c: {external: true}\n", nil, refusal{"web", "configs[0]", "is external"}},
		{"config file outside", "image: a:1\nconfigs: [c]", "configs:\n  c: {file: ../x.conf}\n", nil, refusal{"web", "configs[0]", "outside the project"}},
		{"config file missing", "image: a:1\nconfigs: [c]", "configs:\n  c: {file: ./x.conf}\n", nil, refusal{"web", "configs[0]", "which the project does not have"}},
		{"config over proc", "image: a:1\nconfigs: [{source: c, target: /proc/x}]", "configs:\n  c: {content: x}\n", nil, refusal{"web", "configs[0]", "may not mount over /proc/x"}},
		{"config too large", "image: a:1\nconfigs: [c]", "configs:\n  c: {file: big.conf}\n", map[string]string{"big.conf": strings.Repeat("x", 64<<10+1)}, refusal{"web", "configs[0]", "more than Hearth's 65536"}},
		{"binary secret", "image: a:1\nsecrets: [s]", "secrets:\n  s: {file: s.bin}\n", map[string]string{"s.bin": "a\x00b"}, refusal{"web", "secrets[0]", "not text"}},
		{"mount over /sys", "image: a:1\nvolumes: [\"./data:/sys/fs\"]", "", nil, refusal{"web", "volumes[0]", "may not mount over /sys/fs"}},
		{"a project file", "image: a:1\nvolumes: [\"./nginx.conf:/etc/nginx/nginx.conf\"]", "", map[string]string{"nginx.conf": "x"}, refusal{"web", "volumes[0]", "mounts the project's file nginx.conf"}},
		{"outside the folder", "image: a:1\nvolumes: [\"../x:/x\"]", "", nil, refusal{"web", "volumes[0]", "outside the app's folder"}},
		{"volume driver", "image: a:1\nvolumes: [\"nfs:/data\"]", "volumes:\n  nfs:\n    driver_opts: {type: nfs, o: \"addr=10.0.0.1\", device: \":/export\"}\n", nil, refusal{"web", "volumes[0]", "uses the driver \"local\" with options (device, o, type)"}},
		{"unknown capability", "image: a:1\ncap_add: [FLY]", "", nil, refusal{"web", "cap_add[0]", "not a Linux capability"}},
		{"device off the allowlist", "image: a:1\ndevices: [\"/dev/sda:/dev/sda\"]", "", nil, refusal{"web", "devices[0]", "not on Hearth's device allowlist"}},
		{"device as a volume", "image: a:1\nvolumes: [\"/dev/mem:/dev/mem\"]", "", nil, refusal{"web", "volumes[0]", "/dev/mem is not on"}},
		{"host sysctl", "image: a:1\nsysctls: {vm.swappiness: 10}", "", nil, refusal{"web", "sysctls.vm.swappiness", "not a namespaced"}},
		{"device rules", "image: a:1\ndevice_cgroup_rules: [\"c 1:* rmw\"]", "", nil, refusal{"web", "device_cgroup_rules", "allowlist"}},
		{"env_file outside", "image: a:1\nenv_file: ../secret.env", "", nil, refusal{"web", "env_file[0]", "outside the project folder"}},
		{"env_file absolute", "image: a:1\nenv_file: /etc/shadow", "", nil, refusal{"web", "env_file[0]", "outside the project folder"}},
		{"env_file missing", "image: a:1\nenv_file: app.env", "", nil, refusal{"web", "env_file[0]", "does not exist"}},
		{"other platform", "image: a:1\nplatform: linux/arm64", "", nil, refusal{"web", "platform", "runs on linux/arm64 only"}},
		{"image from a variable of Hearth", "image: a:${APP_DOMAIN}", "", nil, refusal{"web", "image", "only to environment and command"}},
		{"not an image", "image: \"A B\"", "", nil, refusal{"web", "image", "not an image reference"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.service
			if !strings.Contains(body, "expose") {
				body += "\nports: [\"8080:8080\"]"
			}
			compose := "services:\n  web:\n    " + strings.ReplaceAll(body, "\n", "\n    ") + "\n" + tc.top
			checkRefused(t, importCompose(t, compose, tc.more), tc.want)
		})
	}
}

// TestMalformed: a malformed file is refused naming the file and line.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, file, content string
		want                Refusal
	}{
		{"yaml syntax", "compose.yaml", "services:\n  web:\n    image: a:1\n   ports: [\n", Refusal{File: "compose.yaml", Line: 4}},
		{"not a mapping", "compose.yaml", "- a\n- b\n", Refusal{File: "compose.yaml", Line: 1}},
		{"empty", "compose.yaml", "", Refusal{File: "compose.yaml"}},
		{"two documents", "compose.yaml", "services: {}\n---\nservices: {}\n", Refusal{File: "compose.yaml", Line: 2}},
		{"unknown key", "compose.yaml", "services:\n  web:\n    image: a:1\n    imagee: b\n", Refusal{File: "compose.yaml", Service: "web", Line: 4}},
		{"bad config.json", "config.json", "{\"tipi_version\": 1,\n\"port\": }", Refusal{File: "config.json", Line: 2}},
		{"bad umbrel-app.yml", "umbrel-app.yml", "id: [\n", Refusal{File: "umbrel-app.yml", Line: 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{tc.file: tc.content}
			if tc.file != "compose.yaml" {
				files["compose.yaml"] = "services:\n  web:\n    image: a:1\n    ports: [\"80:80\"]\n"
			}
			p := importDir(t, writeProject(t, files), Options{})
			if p.Refused == nil {
				t.Fatal("got an accepted plan, want a refusal")
			}
			got := *p.Refused
			got.Reason, got.Key = "", ""
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("refusal (-want +got):\n%s\n(reason %q)", diff, p.Refused.Reason)
			}
			if p.Refused.Reason == "" {
				t.Error("the refusal gives no reason")
			}
		})
	}
}

func TestNoComposeFile(t *testing.T) {
	p := importDir(t, writeProject(t, map[string]string{"README.md": "hi"}), Options{})
	checkRefused(t, p, refusal{"", "", "no compose file"})
}

// TestOptions: bad options are errors, not refusals.
func TestOptions(t *testing.T) {
	dir := writeProject(t, map[string]string{"compose.yaml": "services:\n  web:\n    image: a:1\n    ports: [\"80:80\"]\n"})
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"app id", Options{AppID: "Bad_ID"}},
		{"platform", Options{Platform: "linux/riscv64"}},
		{"env name", Options{Env: map[string]string{"A-B": "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Import(t.Context(), dir, tc.opts); err == nil || !strings.Contains(err.Error(), "invalid import options") {
				t.Errorf("got %v, want ErrOptions", err)
			}
		})
	}
	if _, err := Import(t.Context(), dir+"/missing", Options{}); err == nil {
		t.Error("a missing folder: got no error")
	}
}
