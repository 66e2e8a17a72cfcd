package compose

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/agent/manifest"
)

func TestSecretName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"POSTGRES_PASSWORD", true}, {"DB_PASS", true}, {"MYSQL_ROOT_PWD", true}, {"JWT_SECRET", true},
		{"SECRET_KEY_BASE", true}, {"APP_KEY", true}, {"MEILI_MASTER_KEY", true}, {"ENTE_KEY_ENCRYPTION", true},
		{"TS_AUTHKEY", true}, {"APP_SEED", true}, {"database__connection__password", true}, {"api_token", true},
		{"PASSWORD_FILE", false}, {"SECRETKEY_PATH", false}, {"TOKEN_TTL", false}, {"PASSWORD_REQUIRED", false},
		{"SSL_KEY_NAME", false}, {"TREFLE_KEY", false}, {"MINIO_ACCESS_KEY_ID", false}, {"DB_USER", false},
		{"KEYBOARD", false}, {"PASSTHROUGH", false}, {"", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := secretName(tc.name); got != tc.want {
				t.Errorf("secretName(%q): got %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestOutsideCredential(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"OPENAI_API_KEY", true}, {"SMTP_PASSWORD", true}, {"TS_AUTHKEY", true}, {"AUTH_CLIENT_SECRET", true},
		{"POSTGRES_PASSWORD", false}, {"JWT_SECRET", false}, {"APP_KEY", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := outsideCredential(tc.name); got != tc.want {
				t.Errorf("outsideCredential(%q): got %v, want %v", tc.name, got, tc.want)
			}
		})
	}
}

func TestShapeOf(t *testing.T) {
	hex64 := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name, constant string
		want           shape
	}{
		{"short", "casaos", shape{gen: manifest.Generate{Length: 32, Charset: "alnum"}}},
		{"hex", hex64, shape{gen: manifest.Generate{Length: 64, Charset: "hex"}}},
		{"alnum", "SomeRandomStringOf32CharsExactly", shape{gen: manifest.Generate{Length: 32, Charset: "alnum"}}},
		{"base64url", "abc-def_ghi-jkl_mno", shape{gen: manifest.Generate{Length: 19, Charset: "base64url"}}},
		{"base64 padded", "yvmG/RnzKrbCb9L3mgsmoxXr9H7i2Z4qlbT0mL3ln4w=", shape{suffix: "=", gen: manifest.Generate{Length: 43, Charset: "alnum"}}},
		{"laravel", "base64:yvmG/RnzKrbCb9L3mgsmoxXr9H7i2Z4qlbT0mL3ln4w=", shape{prefix: "base64:", suffix: "=", gen: manifest.Generate{Length: 43, Charset: "alnum"}}},
		{"phrase", "change me please, now!", shape{gen: manifest.Generate{Length: 32, Charset: "alnum"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, shapeOf(tc.constant), cmp.AllowUnexported(shape{})); diff != "" {
				t.Errorf("shapeOf(%q) (-want +got):\n%s", tc.constant, diff)
			}
		})
	}
}

func TestHTTPProbe(t *testing.T) {
	for _, tc := range []struct {
		name string
		test []string
		want *manifest.HTTPCheck
	}{
		{"curl fail", []string{"CMD", "curl", "-f", "http://localhost:8080/health"}, &manifest.HTTPCheck{Path: "/health", Port: 8080}},
		{"curl combined flags", []string{"CMD", "/usr/bin/curl", "-fsSL", "-o", "/dev/null", "http://127.0.0.1/"}, &manifest.HTTPCheck{Path: "/", Port: 80}},
		{"curl shell", []string{"CMD-SHELL", "curl --fail --silent 'http://localhost:3000/api/health?x=1' || exit 1"}, &manifest.HTTPCheck{Path: "/api/health?x=1", Port: 3000}},
		{"a glob", []string{"CMD-SHELL", "curl --fail http://localhost:3000/api/health?x=1"}, nil},
		{"wget spider", []string{"CMD", "wget", "--spider", "-q", "http://0.0.0.0:9000"}, &manifest.HTTPCheck{Path: "/", Port: 9000}},
		{"wget quoted", []string{"CMD-SHELL", "wget -qO- 'http://localhost:80/ping'"}, &manifest.HTTPCheck{Path: "/ping", Port: 80}},
		{"curl without fail", []string{"CMD", "curl", "-s", "http://localhost/"}, nil},
		{"another host", []string{"CMD", "curl", "-f", "http://db:8080/"}, nil},
		{"https", []string{"CMD", "curl", "-f", "https://localhost/"}, nil},
		{"unknown flag", []string{"CMD", "curl", "-f", "-H", "X: y", "http://localhost/"}, nil},
		{"a pipe", []string{"CMD-SHELL", "curl -f http://localhost/ | grep ok"}, nil},
		{"a variable", []string{"CMD-SHELL", "curl -f http://localhost:$PORT/"}, nil},
		{"another program", []string{"CMD", "pg_isready"}, nil},
		{"write a file", []string{"CMD", "wget", "-O", "/tmp/x", "http://localhost/"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := httpProbe(tc.test)
			if ok != (tc.want != nil) || !cmp.Equal(tc.want, got) {
				t.Errorf("httpProbe(%q): got %+v, %v, want %+v", tc.test, got, ok, tc.want)
			}
		})
	}
}

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Immich", "immich"}, {"immich_server", "immich-server"}, {"2fauth", "app-2fauth"}, {"a", "app-a"},
		{"--x--", "app-x"}, {"", ""}, {"Ünïcode Ápp", "n-code-pp"},
		{"a-very-long-name-that-does-not-fit-in-a-slug", "a-very-long-name-that-does-not-f"},
		{"thirty-two-characters-and-a-dash-", "thirty-two-characters-and-a-dash"},
		{"thirty-one-characters-and-a-das-h", "thirty-one-characters-and-a-das"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := slugify(tc.in, "app")
			if got != tc.want {
				t.Errorf("slugify(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if got != "" && !slugPattern.MatchString(got) {
				t.Errorf("slugify(%q) = %q is not a slug", tc.in, got)
			}
		})
	}
}

func TestIsHostAt(t *testing.T) {
	for _, tc := range []struct {
		s     string
		whole bool
		want  bool
	}{
		{"db", true, true}, {"db", false, false}, {"http://db/x", false, true}, {"user@db", false, true},
		{"db:5432", false, true}, {"db://x", true, false}, {"mydb", true, false}, {"db.example.com", true, false},
		{"x.db", true, false}, {"db-replica", true, false}, {"db:name", false, false},
	} {
		t.Run(tc.s, func(t *testing.T) {
			j := 0
			for i := 0; i+2 <= len(tc.s); i++ {
				if tc.s[i:i+2] == "db" {
					j = i
					break
				}
			}
			if got := isHostAt(tc.s, j, j+2, tc.whole); got != tc.want {
				t.Errorf("isHostAt(%q, whole %v): got %v, want %v", tc.s, tc.whole, got, tc.want)
			}
		})
	}
}

func TestSemver(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"6.1.3", "6.1.3"}, {"v2.7", "2.7.0"}, {"2024.06.1-ls12", "2024.6.1-ls12"}, {"1.0.0+1.25", "1.0.0+1.25"},
		{"latest", "1.0.0"}, {"", "1.0.0"}, {"10", "10.0.0"}, {"1.2.3-", "1.2.3"}, {"99999999999999999999", "0.0.0"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := semver(tc.in)
			if got != tc.want {
				t.Errorf("semver(%q): got %q, want %q", tc.in, got, tc.want)
			}
			if _, err := manifest.ParseVersion(got); err != nil {
				t.Errorf("semver(%q) = %q: %v", tc.in, got, err)
			}
		})
	}
}

func TestSharedFolder(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"/DATA", true}, {"/DATA/Media/Movies", true}, {"/media/usb", true}, {"/mnt/disk", true}, {"/home/me/Music", true},
		{"/ROMS/nes", true}, {"/volume1/photos", true},
		{"/DATA/AppData", false}, {"/DATA/AppData/x", false}, {"/", false}, {"/etc/ssl", false}, {"/var/lib/x", false},
		{"/run/dbus", false}, {"/opt/vc/lib", false}, {"/root", false}, {"relative", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			if got := sharedFolder(tc.path); got != tc.want {
				t.Errorf("sharedFolder(%q): got %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

// TestCapabilityClasses checks this package's capability lists against
// the manifest's own rules: basic ones need no permission, privileged ones
// "privileged-capabilities", host ones "privileged".
func TestCapabilityClasses(t *testing.T) {
	for _, tc := range []struct {
		class string
		caps  []string
		perm  manifest.Permission // "": none
	}{
		{"basic", basicCaps, ""},
		{"privileged", privilegedCaps, manifest.PermPrivilegedCapabilities},
		{"host", hostCaps, manifest.PermPrivileged},
	} {
		for _, c := range tc.caps {
			t.Run(tc.class+"/"+c, func(t *testing.T) {
				for _, p := range manifest.Permissions() {
					if p != tc.perm && p != manifest.PermPrivilegedCapabilities && p != manifest.PermPrivileged {
						continue
					}
					m := probeManifest()
					s := m.Services["web"]
					s.Capabilities = []string{c}
					m.Services["web"] = s
					m.Permissions = []manifest.Permission{p}
					// With its own permission a capability is valid; with
					// another, the capability lacks one and the permission
					// is unused.
					want := p == tc.perm
					if err := m.Validate(); (err == nil) != want {
						t.Errorf("%s with the permission %s: got %v, want valid %v", c, p, err, want)
					}
				}
				m := probeManifest()
				s := m.Services["web"]
				s.Capabilities = []string{c}
				m.Services["web"] = s
				if err := m.Validate(); (err == nil) != (tc.perm == "") {
					t.Errorf("%s without a permission: got %v, want valid %v", c, err, tc.perm == "")
				}
			})
		}
	}
}

// probeManifest is a minimal valid compose manifest.
func probeManifest() *manifest.Manifest {
	return &manifest.Manifest{
		ManifestVersion: 1, Origin: manifest.OriginCompose, ID: "probe", Title: "Probe", Version: "1.0.0",
		Tagline: "Probe", Icon: "icon.svg", Category: "other",
		Services: map[string]manifest.Service{"web": {
			Image:    manifest.Image{Ref: "docker.io/library/a:1", Platforms: map[string]string{manifest.PlatformAMD64: ""}},
			HTTPPort: 80,
		}},
		Resources: manifest.Resources{MemoryMin: 32 * manifest.Mi, MemoryLimit: 64 * manifest.Mi},
	}
}

func TestRedacted(t *testing.T) {
	p := &Plan{Kind: KindCompose, Manifest: probeManifest()}
	s := p.Manifest.Services["web"]
	s.Environment = map[string]string{
		"DB_PASSWORD": "constant", "GENERATED_SECRET": "{{settings.x}}", "DB_URL": "postgres://u:pw@db/x",
		"REF_URL": "postgres://u:{{settings.x}}@db/x", "PLAIN": "hello", "NO_PASSWORD": "true",
	}
	p.Manifest.Services["web"] = s
	r := p.Redacted()
	want := map[string]string{
		"DB_PASSWORD": RedactedValue, "GENERATED_SECRET": "{{settings.x}}", "DB_URL": "postgres://u:" + RedactedValue + "@db/x",
		"REF_URL": "postgres://u:{{settings.x}}@db/x", "PLAIN": "hello", "NO_PASSWORD": "true",
	}
	if diff := cmp.Diff(want, r.Manifest.Services["web"].Environment); diff != "" {
		t.Errorf("redacted environment (-want +got):\n%s", diff)
	}
	if got := p.Manifest.Services["web"].Environment["DB_PASSWORD"]; got != "constant" {
		t.Errorf("Redacted changed the plan itself: got %q", got)
	}
	if q := (&Plan{Refused: &Refusal{Reason: "x"}}).Redacted(); q.Manifest != nil || q.Refused.Reason != "x" {
		t.Errorf("a refused plan redacted: got %+v", q)
	}
}

// TestLongNames: services and shared folders whose names agree in their
// first 32 characters still get distinct slugs.
func TestLongNames(t *testing.T) {
	long := "a-very-long-service-name-that-goes-on-"
	p := importCompose(t, "services:\n  "+long+"one:\n    image: a:1\n    ports: [\"80:80\"]\n    volumes: [\"/DATA/"+long+"x/a:/a\", \"/DATA/"+long+"x/b:/b\"]\n  "+long+"two:\n    image: b:1\n", nil)
	m := accepted(t, p)
	if len(m.Services) != 2 {
		t.Errorf("services: got %d, want 2", len(m.Services))
	}
	for name, s := range m.Services {
		if !slugPattern.MatchString(name) {
			t.Errorf("service name %q is not a slug", name)
		}
		for _, f := range s.SharedFolders {
			if !slugPattern.MatchString(f.Name) {
				t.Errorf("shared folder name %q is not a slug", f.Name)
			}
		}
	}
}
