package manifest

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// op changes one value of a generic JSON document: path is a manifest path
// ("services.web.volumes[1].target", `a.platforms["linux/amd64"]`); a nil
// value deletes the field.
type op struct {
	path  string
	value any
}

var pathPart = regexp.MustCompile(`^(?:\.?([A-Za-z0-9_-]+)|\[([0-9]+)\]|\[("(?:[^"\\]|\\.)*")\])`)

// splitPath cuts a path into map keys (string) and list indexes (int).
func splitPath(t *testing.T, p string) []any {
	t.Helper()
	var parts []any
	for p != "" {
		m := pathPart.FindStringSubmatch(p)
		if m == nil {
			t.Fatalf("bad path %q", p)
		}
		switch {
		case m[1] != "":
			parts = append(parts, m[1])
		case m[2] != "":
			n, _ := strconv.Atoi(m[2])
			parts = append(parts, n)
		default:
			k, err := strconv.Unquote(m[3])
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, k)
		}
		p = p[len(m[0]):]
	}
	return parts
}

// apply sets (or deletes) the value at o.path in doc; lists may grow by one.
func apply(t *testing.T, doc any, o op) {
	t.Helper()
	parts := splitPath(t, o.path)
	cur := doc
	for i, part := range parts {
		last := i == len(parts)-1
		switch k := part.(type) {
		case string:
			obj, ok := cur.(map[string]any)
			if !ok {
				t.Fatalf("%s: %v is not an object", o.path, k)
			}
			if last {
				if o.value == nil {
					delete(obj, k)
				} else {
					obj[k] = o.value
				}
				return
			}
			cur = obj[k]
		case int:
			list, ok := cur.([]any)
			if !ok || k > len(list) {
				t.Fatalf("%s: [%d] is not in a list", o.path, k)
			}
			if last {
				if k == len(list) {
					// Append: write the grown list back through the parent.
					apply(t, doc, op{pathOf(parts[:i]), append(list, o.value)})
				} else {
					list[k] = o.value
				}
				return
			}
			cur = list[k]
		}
	}
}

func pathOf(parts []any) string {
	var b strings.Builder
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			b.WriteString("[" + strconv.Quote(x) + "]")
		case int:
			b.WriteString("[" + strconv.Itoa(x) + "]")
		}
	}
	return b.String()
}

func loadDoc(t *testing.T, name string) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readFile(t, name)))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func num(n int) json.Number { return json.Number(strconv.Itoa(n)) }

// TestValidateInvalid breaks one thing of testdata/valid/full.json per case
// and checks that exactly the broken field is named, with its reason.
func TestValidateInvalid(t *testing.T) {
	allPermsBut := func(drop string) []any {
		var out []any
		for _, p := range []string{"lan", "internet", "devices", "ports", "shared-folders", "privileged-capabilities",
			"host-files", "container-engine", "host-network", "host-pid", "privileged"} {
			if p != drop {
				out = append(out, p)
			}
		}
		return out
	}
	store := func() map[string]any {
		return map[string]any{"image": map[string]any{"ref": "docker.io/example/x:1.0", "platforms": map[string]any{"linux/amd64": "", "linux/arm64": ""}}}
	}
	tests := []struct {
		name       string
		ops        []op
		wantPaths  []string
		wantReason string // in the first path's error
	}{
		// identity
		{"unsupported manifestVersion", []op{{"manifestVersion", num(2)}}, []string{"manifestVersion"}, "2 is not supported"},
		{"missing manifestVersion", []op{{"manifestVersion", nil}}, []string{"manifestVersion"}, "is required"},
		{"id with capitals", []op{{"id", "Example"}}, []string{"id"}, "must be 2-32 characters"},
		{"id of one letter", []op{{"id", "e"}}, []string{"id"}, "must be 2-32 characters"},
		{"id ending with dash", []op{{"id", "example-"}}, []string{"id"}, "not ending with '-'"},
		{"missing title", []op{{"title", nil}}, []string{"title"}, "is required"},
		{"title on two lines", []op{{"title", "Ex\nample"}}, []string{"title"}, "one line"},
		{"version not semver", []op{{"version", "1.0"}}, []string{"version"}, "MAJOR.MINOR.PATCH"},
		{"version with leading zero", []op{{"version", "1.02.0"}}, []string{"version"}, "leading zero"},
		{"tagline too long", []op{{"tagline", strings.Repeat("x", 81)}}, []string{"tagline"}, "more than 80"},
		{"description too long", []op{{"description", strings.Repeat("x", 8193)}}, []string{"description"}, "more than 8192"},
		{"icon outside the package", []op{{"icon", "../icon.svg"}}, []string{"icon"}, "clean relative path"},
		{"icon not an image", []op{{"icon", "icon.gif"}}, []string{"icon"}, ".svg or .png"},
		{"icon over http", []op{{"icon", "http://example.net/icon.png"}}, []string{"icon"}, "must be an https URL"},
		{"screenshot over http", []op{{"screenshots[1]", "http://example.net/2.png"}}, []string{"screenshots[1]"}, "https"},
		{"screenshot twice", []op{{"screenshots[1]", "https://example.net/screenshots/1.png"}}, []string{"screenshots[1]"}, "listed twice"},
		{"unknown category", []op{{"category", "games"}}, []string{"category"}, `"games" is not one of`},
		{"website with credentials", []op{{"website", "https://me:pw@example.net"}}, []string{"website"}, "credentials"},
		{"protected without a web entry", []op{{"protected", true}, {"services.web.httpPort", nil}}, []string{"protected"}, "needs a web entry"},
		{"protected as a string", []op{{"protected", "yes"}}, []string{"protected"}, "must be true or false"},
		{"notes with control character", []op{{"postInstallNotes", "a\x00b"}}, []string{"postInstallNotes"}, "control characters"},

		// services and images
		{"bad service name", []op{{"services.Big_Store", store()}}, []string{"services.Big_Store"}, "service name"},
		{"image without tag", []op{{"services.web.image.ref", "docker.io/example/web"}}, []string{"services.web.image.ref"}, "needs a version tag"},
		{"image tagged latest", []op{{"services.web.image.ref", "example/web:latest"}}, []string{"services.web.image.ref"}, "latest"},
		{"image ref with digest", []op{{"services.web.image.ref", "example/web:1@sha256:" + strings.Repeat("a", 64)}}, []string{"services.web.image.ref"}, "digests go in platforms"},
		{"malformed image ref", []op{{"services.web.image.ref", "Example/Web:1"}}, []string{"services.web.image.ref"}, "not an image reference"},
		{"unknown platform", []op{{`services.web.image.platforms["linux/s390x"]`, ""}}, []string{`services.web.image.platforms["linux/s390x"]`}, "unknown platform"},
		{"bad digest", []op{{`services.web.image.platforms["linux/amd64"]`, "sha256:abc"}}, []string{`services.web.image.platforms["linux/amd64"]`}, "64 lowercase hex"},
		{"no platforms", []op{{"services.web.image.platforms", map[string]any{}}}, []string{"services", "services.web.image.platforms"}, "no platform is supported by every service"},
		{"no common platform", []op{
			{"services.web.image.platforms", map[string]any{"linux/arm64": ""}},
			{"services.store.image.platforms", map[string]any{"linux/amd64": ""}},
		}, []string{"services"}, "no platform is supported by every service"},
		{"empty command", []op{{"services.web.command", []any{}}}, []string{"services.web.command"}, "must not be empty"},
		{"command with unknown service", []op{{"services.web.command[3]", "http://{{services.db.host}}"}}, []string{"services.web.command[3]"}, `no service is named "db"`},
		{"bad environment name", []op{{"services.web.environment.1ST", "x"}}, []string{"services.web.environment.1ST"}, "variable name"},
		{"reserved environment name", []op{{"services.web.environment.HEARTH_APP", "x"}}, []string{"services.web.environment.HEARTH_APP"}, "set by Hearth"},
		{"unknown setting reference", []op{{"services.web.environment.MODE", "{{settings.speed}}"}}, []string{"services.web.environment.MODE"}, `{{settings.speed}}: no setting has the id "speed"`},
		{"unknown app reference", []op{{"services.web.environment.MODE", "{{app.name}}"}}, []string{"services.web.environment.MODE"}, "{{app.name}}: unknown reference"},
		{"unclosed reference", []op{{"services.web.environment.MODE", "x{{app.url"}}, []string{"services.web.environment.MODE"}, "not closed"},
		{"volume source leaving the data folder", []op{{"services.web.volumes[0].source", "web/../../etc"}}, []string{"services.web.volumes[0].source"}, `no ".."`},
		{"absolute volume source", []op{{"services.web.volumes[0].source", "/etc"}}, []string{"services.web.volumes[0].source"}, "relative"},
		{"whole data folder as volume", []op{{"services.web.volumes[0].source", "."}}, []string{"services.web.volumes[0].source"}, "below the app's data folder"},
		{"relative volume target", []op{{"services.web.volumes[1].target", "cache"}}, []string{"services.web.volumes[1].target"}, "clean absolute path"},
		{"volume target twice", []op{{"services.web.volumes[1].target", "/config"}}, []string{"services.web.volumes[1].target"}, "already used by services.web.volumes[0].target"},
		{"volume over /proc", []op{{"services.web.volumes[1].target", "/proc/sys"}}, []string{"services.web.volumes[1].target"}, "may not be mounted over"},
		{"tmpfs on /tmp", []op{{"services.web.tmpfs[0]", "/tmp"}}, []string{"services.web.tmpfs[0]"}, "the runtime's /tmp"},
		{"shared folder name", []op{{"services.web.sharedFolders[0].name", "My Photos"}}, []string{"services.web.sharedFolders[0].name"}, "2-32 characters"},
		{"user by name", []op{{"services.web.user", "www-data"}}, []string{"services.web.user"}, "numeric"},
		{"uid too large", []op{{"services.web.user", "4294967296"}}, []string{"services.web.user"}, "numeric"},
		{"relative working dir", []op{{"services.web.workingDir", "app"}}, []string{"services.web.workingDir"}, "absolute"},

		// health checks and ports
		{"two kinds of health check", []op{{"services.web.healthCheck.tcp", map[string]any{"port": num(8080)}}}, []string{"services.web.healthCheck"}, "exactly one of http, tcp and command (has 2)"},
		{"no kind of health check", []op{{"services.store.healthCheck.tcp", nil}}, []string{"services.store.healthCheck"}, "(has 0)"},
		{"health path without slash", []op{{"services.web.healthCheck.http.path", "healthz"}}, []string{"services.web.healthCheck.http.path"}, "starting with /"},
		{"health port out of range", []op{{"services.store.healthCheck.tcp.port", num(0)}}, []string{"services.store.healthCheck.tcp.port"}, "between 1 and 65535"},
		{"empty health command", []op{{"services.store.healthCheck", map[string]any{"command": []any{""}}}}, []string{"services.store.healthCheck.command"}, "must name a program"},
		{"timeout above interval", []op{{"services.web.healthCheck.timeout", "20s"}}, []string{"services.web.healthCheck.timeout"}, "longer than the interval"},
		{"interval too short", []op{{"services.web.healthCheck.interval", "10ms"}, {"services.web.healthCheck.timeout", nil}}, []string{"services.web.healthCheck.interval"}, "between 1s and 1h0m0s"},
		{"too many retries", []op{{"services.web.healthCheck.retries", num(1000)}}, []string{"services.web.healthCheck.retries"}, "between 1 and 100"},
		{"httpPort out of range", []op{{"services.web.httpPort", num(70000)}}, []string{"services.web.httpPort"}, "between 1 and 65535"},
		{"two web entries", []op{{"services.store.httpPort", num(9000)}}, []string{"services.web.httpPort"}, `"store" has one`},
		{"bad protocol", []op{{"services.web.ports[0].protocol", "sctp"}}, []string{"services.web.ports[0].protocol"}, "tcp or udp"},
		{"port without reason", []op{{"services.web.ports[0].reason", nil}}, []string{"services.web.ports[0].reason"}, "is required"},
		{"port published twice", []op{{"services.store.ports", []any{map[string]any{"port": num(1900), "protocol": "udp", "reason": "again"}}}}, []string{"services.web.ports[0]"}, "already published by services.store.ports[0]"},

		// capabilities, devices, permissions
		{"host capability without permission", []op{{"services.probe.privileged", nil}, {"permissions", allPermsBut("privileged")}}, []string{"services.probe.capabilities[0]"}, `SYS_ADMIN needs the "privileged" permission: it amounts to root`},
		{"capability with CAP_ prefix", []op{{"services.store.capabilities[0]", "CAP_CHOWN"}}, []string{"services.store.capabilities[0]"}, "without the CAP_ prefix"},
		{"unknown capability", []op{{"services.store.capabilities[0]", "fly"}}, []string{"services.store.capabilities[0]"}, "not a Linux capability"},
		{"capability twice", []op{{"services.store.capabilities[1]", "CHOWN"}}, []string{"services.store.capabilities[1]"}, "listed twice"},
		{"privileged capability without permission", []op{{"permissions", allPermsBut("privileged-capabilities")}}, []string{"services.web.capabilities[1]"}, `NET_RAW needs the "privileged-capabilities" permission`},
		{"disk device", []op{{"services.web.devices[0]", "/dev/sda"}}, []string{"services.web.devices[0]"}, "not on the device allowlist"},
		{"device outside /dev", []op{{"services.web.devices[0]", "/sys/class/gpio"}}, []string{"services.web.devices[0]"}, "under /dev"},
		{"dvb adapter outside the allowlist", []op{{"services.web.devices[0]", "/dev/dvbx"}}, []string{"services.web.devices[0]"}, "not on the device allowlist"},
		{"vchiq below a folder", []op{{"services.web.devices[0]", "/dev/vchiq/0"}}, []string{"services.web.devices[0]"}, "not on the device allowlist"},
		{"devices without permission", []op{{"permissions", allPermsBut("devices")}}, []string{"services.web.devices"}, `needs the "devices" permission`},
		{"ports without permission", []op{{"permissions", allPermsBut("ports")}}, []string{"services.web.ports"}, `needs the "ports" permission`},
		{"shared folders without permission", []op{{"permissions", allPermsBut("shared-folders")}}, []string{"services.web.sharedFolders"}, `needs the "shared-folders" permission`},
		{"unknown permission", []op{{"permissions[11]", "root"}}, []string{"permissions[11]"}, `"root" is not one of`},
		{"permission twice", []op{{"permissions[11]", "lan"}}, []string{"permissions[11]"}, "listed twice"},
		{"unused permission", []op{{"services.web.devices", nil}}, []string{"permissions[2]"}, "nothing in the manifest uses it"},
		{"unused host permission", []op{{"services.probe.hostPID", nil}}, []string{"permissions[9]"}, `"host-pid" is asked for but nothing`},

		// host access
		{"privileged without permission", []op{{"services.probe.capabilities", nil}, {"permissions", allPermsBut("privileged")}}, []string{"services.probe.privileged"}, `needs the "privileged" permission`},
		{"host network without permission", []op{{"permissions", allPermsBut("host-network")}}, []string{"services.probe.hostNetwork"}, `needs the "host-network" permission`},
		{"host pid without permission", []op{{"permissions", allPermsBut("host-pid")}}, []string{"services.probe.hostPID"}, `needs the "host-pid" permission`},
		{"host files without permission", []op{{"permissions", allPermsBut("host-files")}}, []string{"services.probe.volumes[0].source"}, `the host path /run/dbus needs the "host-files" permission`},
		{"engine socket without permission", []op{{"permissions", allPermsBut("container-engine")}}, []string{"services.probe.volumes[1].source"}, `needs the "container-engine" permission`},
		{"unknown volume kind", []op{{"services.probe.volumes[0].kind", "nfs"}}, []string{"permissions[6]", "services.probe.volumes[0].kind"}, `"nfs" must be absent`},
		{"relative host path", []op{{"services.probe.volumes[0].source", "run/dbus"}}, []string{"services.probe.volumes[0].source"}, "clean absolute host path"},
		{"host root", []op{{"services.probe.volumes[0].source", "/"}}, []string{"services.probe.volumes[0].source"}, "/ is never mounted: it holds the host's /proc"},
		{"host proc", []op{{"services.probe.volumes[0].source", "/proc/1"}}, []string{"services.probe.volumes[0].source"}, "process table"},
		{"host boot", []op{{"services.probe.volumes[0].source", "/boot"}}, []string{"services.probe.volumes[0].source"}, "boot files"},
		{"host dev", []op{{"services.probe.volumes[0].source", "/dev/sda"}}, []string{"services.probe.volumes[0].source"}, "list devices in devices"},
		{"hearth state", []op{{"services.probe.volumes[0].source", "/var/lib/hearth/apps/other"}}, []string{"services.probe.volumes[0].source"}, "Hearth's own state"},
		{"folder holding hearth state", []op{{"services.probe.volumes[0].source", "/var/lib"}}, []string{"services.probe.volumes[0].source"}, "it holds the host's /var/lib/hearth"},
		{"containerd socket", []op{{"services.probe.volumes[0].source", "/run/containerd/containerd.sock"}}, []string{"services.probe.volumes[0].source"}, "containerd's and runc's state"},
		{"host run folder", []op{{"services.probe.volumes[0].source", "/var/run"}}, []string{"services.probe.volumes[0].source"}, "it holds the host's /var/run/hearth"},
		{"writable etc", []op{{"services.probe.volumes[0].source", "/etc/passwd"}, {"services.probe.volumes[0].readOnly", false}}, []string{"services.probe.volumes[0].source"}, "read-only only (the host's /etc)"},
		{"writable sys", []op{{"services.probe.volumes[0].source", "/sys/class"}, {"services.probe.volumes[0].readOnly", nil}}, []string{"services.probe.volumes[0].source"}, "read-only only (the host's /sys)"},
		{"host path with a colon", []op{{"services.probe.volumes[0].source", "/opt/a:b"}}, []string{"services.probe.volumes[0].source"}, "must not hold commas, colons"},
		{"host volume over proc", []op{{"services.probe.volumes[0].target", "/proc"}}, []string{"services.probe.volumes[0].target"}, "may not be mounted over"},
		{"ports on the host network", []op{{"services.probe.ports", []any{map[string]any{"port": num(53), "protocol": "udp", "reason": "DNS"}}}}, []string{"services.probe.ports"}, "publishes no ports"},
		{"net sysctl on the host network", []op{{"services.probe.sysctls", map[string]any{"net.core.somaxconn": "1024"}}}, []string{`services.probe.sysctls["net.core.somaxconn"]`}, "would change the host's network"},

		// files
		{"file target relative", []op{{"services.probe.files[0].target", "etc/probe.conf"}}, []string{"services.probe.files[0].target"}, "clean absolute path"},
		{"file target twice", []op{{"services.probe.files[0].target", "/run/dbus"}}, []string{"services.probe.files[0].target"}, "already used by services.probe.volumes[0].target"},
		{"file with a NUL", []op{{"services.probe.files[0].content", "a\u0000b"}}, []string{"services.probe.files[0].content"}, "NUL byte"},
		{"file too large", []op{{"services.probe.files[0].content", strings.Repeat("x", 64<<10+1)}}, []string{"services.probe.files[0].content"}, "more than 65536"},
		{"file with a bad reference", []op{{"services.probe.files[0].content", "{{settings.nope}}"}}, []string{"services.probe.files[0].content"}, "nope"},

		// kernel settings
		{"sysctl not namespaced", []op{{`services.web.sysctls["kernel.panic"]`, "10"}}, []string{`services.web.sysctls["kernel.panic"]`}, `"kernel.panic" is not namespaced`},
		{"sysctl of the host's vm", []op{{`services.web.sysctls["vm.swappiness"]`, "1"}}, []string{`services.web.sysctls["vm.swappiness"]`}, `"vm.swappiness" is not namespaced`},
		{"sysctl prefix of kernel.sem", []op{{`services.web.sysctls["kernel.semx"]`, "1"}}, []string{`services.web.sysctls["kernel.semx"]`}, "is not namespaced"},
		{"sysctl name not dotted", []op{{`services.web.sysctls["net"]`, "1"}}, []string{`services.web.sysctls.net`}, "is not a kernel setting's name"},
		{"sysctl without value", []op{{`services.web.sysctls["net.core.somaxconn"]`, ""}}, []string{`services.web.sysctls["net.core.somaxconn"]`}, "is required"},
		{"sysctl value with newline", []op{{`services.web.sysctls["net.core.somaxconn"]`, "1\nkernel.panic=1"}}, []string{`services.web.sysctls["net.core.somaxconn"]`}, "control characters"},
		{"shmSize above the service's limit", []op{{"services.web.shmSize", "512Mi"}}, []string{"services.web.shmSize"}, "512Mi is more than 256Mi"},
		{"shmSize above the share of a service without a limit", []op{{"services.store.shmSize", "300Mi"}}, []string{"services.store.shmSize"}, "300Mi is more than 128Mi"},
		{"shmSize above 1Gi", []op{{"resources.memoryLimit", "8Gi"}, {"services.web.memoryLimit", "4Gi"}, {"services.web.shmSize", "2Gi"}}, []string{"services.web.shmSize"}, "2Gi is more than 1Gi"},

		// dependencies
		{"dependency on unknown service", []op{{"services.web.dependsOn[0].service", "db"}}, []string{"services.web.dependsOn[0].service"}, `"db" is not a service`},
		{"dependency on itself", []op{{"services.web.dependsOn[0].service", "web"}}, []string{"services.web.dependsOn", "services.web.dependsOn[0].service"}, "dependency cycle: web -> web"},
		{"unknown condition", []op{{"services.web.dependsOn[0].condition", "ready"}}, []string{"services.web.dependsOn[0].condition"}, "started or healthy"},
		{"healthy without health check", []op{{"services.store.healthCheck", nil}}, []string{"services.web.dependsOn[0].condition"}, "no healthCheck"},
		{"dependency cycle", []op{{"services.store.dependsOn", []any{map[string]any{"service": "web"}}}}, []string{"services.store.dependsOn"}, "dependency cycle: store -> web -> store"},

		// resources and addons
		{"missing memoryMin", []op{{"resources.memoryMin", nil}}, []string{"resources.memoryMin"}, "is required"},
		{"memoryMin too small", []op{{"resources.memoryMin", "1Mi"}}, []string{"resources.memoryMin"}, "less than the smallest limit, 4Mi"},
		{"limit below min", []op{{"resources.memoryLimit", "64Mi"}}, []string{"resources.memoryLimit", "resources.memoryLimit"}, "less than memoryMin 128Mi"},
		{"service limits above the app's", []op{{"services.web.memoryLimit", "1Gi"}}, []string{"resources.memoryLimit"}, "services' own limits together (web: 1Gi)"},
		{"nothing left for the others", []op{{"services.web.memoryLimit", "510Mi"}}, []string{"resources.memoryLimit"}, "leaves less than 4Mi"},
		{"cpu weight too high", []op{{"resources.cpuWeight", num(20000)}}, []string{"resources.cpuWeight"}, "between 1 and 10000"},
		{"addon version", []op{{"addons.postgresql.version", "latest"}}, []string{"addons.postgresql.version"}, "major version"},
		{"oidc without redirect", []op{{"addons.oidc.loginRedirectPath", nil}}, []string{"addons.oidc.loginRedirectPath"}, "is required"},

		// settings
		{"setting id not snake_case", []op{{"settings[3].id", "Workers"}}, []string{"settings[3].id"}, "snake_case"},
		{"setting id twice", []op{{"settings[4].id", "workers"}}, []string{"settings[4].id"}, "used by an earlier setting"},
		{"setting without label", []op{{"settings[0].label", nil}}, []string{"settings[0].label"}, "is required"},
		{"unknown setting type", []op{{"settings[0].type", "date"}}, []string{"settings[0].type"}, `"date" is not one of`},
		{"secret with default", []op{{"settings[1].default", "hunter2"}}, []string{"settings[1].default"}, "generated for each install"},
		{"required secret", []op{{"settings[1].required", true}}, []string{"settings[1].required"}, "cannot be required"},
		{"secret without generate", []op{{"settings[1].generate", nil}}, []string{"settings[1].generate"}, "is required for a secret"},
		{"short secret", []op{{"settings[1].generate.length", num(8)}}, []string{"settings[1].generate.length"}, "between 16 and 1024"},
		{"unknown charset", []op{{"settings[1].generate.charset", "base32"}}, []string{"settings[1].generate.charset"}, "alnum, hex or base64url"},
		{"choice default not a choice", []op{{"settings[2].default", "slow"}}, []string{"settings[2].default"}, `"slow" is not one of fast, safe`},
		{"choice without choices", []op{{"settings[2].choices", nil}, {"settings[2].default", nil}}, []string{"settings[2].choices"}, "list at least one value"},
		{"choices repeated", []op{{"settings[2].choices[1]", "fast"}, {"settings[2].default", "fast"}}, []string{"settings[2].choices[1]"}, "listed twice"},
		{"number default above max", []op{{"settings[3].default", num(40)}}, []string{"settings[3].default"}, "more than the maximum 16"},
		{"number default as string", []op{{"settings[3].default", "4"}}, []string{"settings[3].default"}, "must be a JSON number"},
		{"min above max", []op{{"settings[3].min", num(20)}, {"settings[3].default", num(20)}}, []string{"settings[3].max"}, "less than min 20"},
		{"boolean default as string", []op{{"settings[4].default", "no"}}, []string{"settings[4].default"}, "must be a JSON boolean"},
		{"bad pattern", []op{{"settings[5].pattern", "(["}}, []string{"settings[5].pattern"}, "not an RE2 regular expression"},
		{"default not matching pattern", []op{{"settings[5].default", "My site 2"}}, []string{"settings[5].default"}, "does not match the pattern"},
		{"pattern on an email", []op{{"settings[0].pattern", ".*"}}, []string{"settings[0].pattern"}, `applies only to settings of type "string" or "password"`},
		{"min on a string", []op{{"settings[5].min", num(1)}}, []string{"settings[5].min"}, `applies only to settings of type "number"`},
	}
	if len(tests) < 30 {
		t.Fatalf("got %d cases, want at least 30", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := loadDoc(t, "testdata/valid/full.json")
			for _, o := range tc.ops {
				apply(t, doc, o)
			}
			data, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(data)
			if err == nil {
				t.Fatalf("Parse: got %+v, want an error", m)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want it to match ErrInvalid", err)
			}
			if diff := cmp.Diff(tc.wantPaths, fieldPaths(t, err)); diff != "" {
				t.Fatalf("paths (-want +got):\n%s\nerror: %v", diff, err)
			}
			var found bool
			for _, e := range leafErrors(err) {
				found = found || strings.Contains(e.Error(), tc.wantReason)
			}
			if !found {
				t.Errorf("got %v, want an error containing %q", err, tc.wantReason)
			}
		})
	}
}
