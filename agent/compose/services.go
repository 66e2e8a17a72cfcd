package compose

import (
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
	"github.com/hearthbox/hearth/agent/manifest"
)

// maxServices is the manifest's limit.
const maxServices = 20

// services translates every enabled service, in the file's order.
func (t *translator) services() {
	for _, name := range t.doc.serviceOrder() {
		if _, ok := t.proj.Services[name]; ok {
			t.order = append(t.order, name)
		} else if s, ok := t.proj.DisabledServices[name]; ok {
			t.warn(name, "profiles", "the service is in the profiles %s, which are not active: it is left out", strings.Join(s.Profiles, ", "))
		}
	}
	for _, name := range sortedKeys(t.proj.Services) { // from an override file
		if !slices.Contains(t.order, name) {
			t.order = append(t.order, name)
		}
	}
	switch {
	case len(t.order) == 0:
		t.refuse("", "services", "no service to run")
		return
	case len(t.order) > maxServices:
		t.refuse("", "services", "%d services, more than Hearth's %d", len(t.order), maxServices)
		return
	}
	for _, n := range t.meta.needs {
		t.refuse("", "dependencies", "needs the Umbrel app %q, which Hearth does not have", n)
	}
	t.nameServices()
	for _, name := range t.order {
		s := t.proj.Services[name]
		out := &manifest.Service{WritableRoot: !s.ReadOnly}
		t.out[name] = out
		t.image(name, s, out)
		t.process(name, s, out)
		t.environment(name, s, out)
		t.mounts(name, s, out)
		t.files(name, s, out)
		t.security(name, s, out)
		t.network(name, s, out)
		out.HealthCheck = t.health(name, s.HealthCheck)
		t.memoryOf(name, s)
		t.ignored(name, s)
		if t.refused != nil || t.err != nil {
			return
		}
	}
	for _, name := range t.order {
		t.out[name].DependsOn = t.dependsOn(name, t.proj.Services[name])
	}
	t.finishDataVolumes()
}

// image maps image (and refuses build-only services).
func (t *translator) image(name string, s types.ServiceConfig, out *manifest.Service) {
	switch {
	case s.Image == "" && s.Build != nil:
		t.refuse(name, "build", "Hearth runs published images and does not build them: give the service an image")
		return
	case s.Image == "":
		t.refuse(name, "image", "is required")
		return
	case s.Build != nil:
		t.warn(name, "build", "ignored: the image %s is pulled instead", s.Image)
	}
	if hasMarker(s.Image) || strings.Contains(s.Image, dataMarker) {
		t.refuse(name, "image", "%q uses a value Hearth gives only to environment and command", t.refs.template(s.Image))
		return
	}
	named, err := reference.ParseNormalizedNamed(s.Image)
	if err != nil {
		t.refuse(name, "image", "%q is not an image reference: %v", s.Image, err)
		return
	}
	if _, ok := named.(reference.Digested); ok {
		t.warn(name, "image", "the digest in %q is dropped (a manifest keeps digests per platform): the agent pins the digest it pulls at install", s.Image)
		if tagged, ok := named.(reference.Tagged); ok {
			named, _ = reference.WithTag(reference.TrimNamed(named), tagged.Tag())
		} else {
			named = reference.TrimNamed(named)
		}
	}
	if tagged, ok := named.(reference.Tagged); !ok || tagged.Tag() == "latest" {
		t.warn(name, "image", "%s has no version tag: the agent pins the digest it pulls at install, and a newer image needs a new import", reference.FamiliarString(named))
	}
	out.Image.Ref = named.String()
	out.Image.Platforms = map[string]string{}
	for _, p := range t.platforms {
		out.Image.Platforms[p] = ""
	}
	if s.Platform != "" {
		p := "linux/" + strings.TrimPrefix(strings.ToLower(s.Platform), "linux/")
		if _, ok := out.Image.Platforms[p]; !ok || p != t.opts.Platform {
			t.refuse(name, "platform", "the service runs on %s only, and this box is %s", s.Platform, t.opts.Platform)
			return
		}
		out.Image.Platforms = map[string]string{p: ""}
	}
}

// process maps entrypoint, command, user and working_dir.
func (t *translator) process(name string, s types.ServiceConfig, out *manifest.Service) {
	switch {
	case s.Entrypoint != nil && len(s.Entrypoint) == 0 && len(s.Command) > 0:
		out.Entrypoint = []string(s.Command) // a cleared entrypoint runs the command alone
	case s.Entrypoint != nil && len(s.Entrypoint) == 0:
		t.warn(name, "entrypoint", "clearing the image's entrypoint without a command cannot be written: the image's is kept")
	default:
		if len(s.Entrypoint) > 0 {
			out.Entrypoint = []string(s.Entrypoint)
		}
		if len(s.Command) > 0 {
			out.Command = []string(s.Command)
		} else if s.Command != nil {
			t.warn(name, "command", "clearing the image's command cannot be written: the image's is kept")
		}
	}
	for _, args := range [][]string{out.Entrypoint, out.Command} {
		for _, a := range args {
			if len(a) > 4096 || strings.IndexByte(a, 0) >= 0 {
				t.refuse(name, "command", "an argument is longer than 4096 bytes or holds a NUL byte")
			}
		}
	}
	out.User = t.user(name, s.User)
	if s.WorkingDir != "" {
		if wd := path.Clean(s.WorkingDir); path.IsAbs(wd) && !hasMarker(wd) {
			out.WorkingDir = wd
		} else {
			t.warn(name, "working_dir", "%q is not an absolute path: the image's is kept", s.WorkingDir)
		}
	}
}

var numericUser = regexp.MustCompile(`^[0-9]{1,10}(:[0-9]{1,10})?$`)

// user keeps numeric users; root is 0; other names are left to the image.
func (t *translator) user(name, u string) string {
	switch {
	case u == "":
		return ""
	case numericUser.MatchString(u) && fitsUint32(u):
		return u
	case u == "root":
		return "0"
	case u == "root:root":
		return "0:0"
	}
	t.warn(name, "user", "%q is not numeric: the image's user is kept (write uid or uid:gid)", u)
	return ""
}

func fitsUint32(u string) bool {
	for _, p := range strings.Split(u, ":") {
		if len(p) > 10 || (len(p) == 10 && p > "4294967295") {
			return false
		}
	}
	return true
}

// dependsOn maps depends_on (and the dependencies links and network_mode
// service:x imply).
func (t *translator) dependsOn(name string, s types.ServiceConfig) []manifest.Dependency {
	deps := map[string]string{}
	for _, dep := range sortedKeys(s.DependsOn) {
		d := s.DependsOn[dep]
		key := "depends_on." + dep
		if _, ok := t.proj.Services[dep]; !ok {
			if d.Required {
				t.warn(name, key, "the service %q is not part of the app (a profile is off): the dependency is left out", dep)
			}
			continue
		}
		switch d.Condition {
		case types.ServiceConditionHealthy:
			if t.out[dep].HealthCheck == nil {
				t.warn(name, key, "%q has no health check Hearth can run: the dependency waits for it to start only", dep)
				deps[dep] = manifest.ConditionStarted
			} else {
				deps[dep] = manifest.ConditionHealthy
			}
		case types.ServiceConditionCompletedSuccessfully:
			t.warn(name, key, "Hearth has no run-once services: the dependency waits for %q to start only", dep)
			deps[dep] = manifest.ConditionStarted
		default:
			deps[dep] = manifest.ConditionStarted
		}
	}
	for _, l := range s.Links {
		dep, _, _ := strings.Cut(l, ":")
		if _, ok := t.proj.Services[dep]; ok && deps[dep] == "" && dep != name {
			deps[dep] = manifest.ConditionStarted
		}
	}
	if dep, ok := strings.CutPrefix(s.NetworkMode, "service:"); ok {
		if _, ok := t.proj.Services[dep]; ok && deps[dep] == "" && dep != name {
			deps[dep] = manifest.ConditionStarted
		}
	}
	keys := make([]string, 0, len(deps))
	for k := range deps {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []manifest.Dependency
	for _, k := range keys {
		c := deps[k]
		if c == manifest.ConditionStarted {
			c = ""
		}
		out = append(out, manifest.Dependency{Service: t.names[k], Condition: c})
	}
	return out
}
