package compose

import (
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/hearthbox/hearth/agent/manifest"
)

// finishServices writes the references into environment and command
// strings (escaping a literal "{{" of the file) and checks that no
// install-time value is left where the manifest cannot carry one.
func (t *translator) finishServices() {
	for _, name := range t.order {
		out := t.out[name]
		for k, v := range out.Environment {
			out.Environment[k] = t.refs.template(v)
		}
		for i := range out.Entrypoint {
			out.Entrypoint[i] = t.refs.template(out.Entrypoint[i])
		}
		for i := range out.Command {
			out.Command[i] = t.refs.template(out.Command[i])
		}
		for i := range out.Files {
			out.Files[i].Content = t.refs.template(out.Files[i].Content)
		}
	}
}

// manifest assembles and validates the manifest.
func (t *translator) manifest() {
	m := &manifest.Manifest{
		ManifestVersion: manifest.FormatVersion,
		Origin:          manifest.OriginCompose,
		ID:              t.appID,
		Services:        map[string]manifest.Service{},
	}
	t.identity(m)
	t.resources(m)
	writable := false
	for _, name := range t.order {
		m.Services[t.names[name]] = *t.out[name]
		writable = writable || t.out[name].WritableRoot
	}
	t.shmSizes(m)
	if writable {
		t.warn("", "read_only", "services may write anywhere in their file system, as compose apps expect; what they write outside their volumes is lost when they are recreated")
	}
	if t.egress() {
		t.perms[manifest.PermInternet] = true
	}
	for _, p := range manifest.Permissions() {
		if t.perms[p] {
			m.Permissions = append(m.Permissions, p)
		}
	}
	m.Settings = t.secrets.settings(usedSettings(m))
	if err := m.Validate(); err != nil {
		t.validationRefusal(err)
		return
	}
	t.manifestOut = m
}

// egress reports whether the app may open connections out: unless every
// network of every service is internal, as Docker's default network is not.
func (t *translator) egress() bool {
	for _, name := range t.order {
		s := t.proj.Services[name]
		if len(s.Networks) == 0 {
			return true
		}
		for n := range s.Networks {
			if cfg, ok := t.proj.Networks[n]; !ok || !cfg.Internal {
				return true
			}
		}
	}
	return false
}

var settingRef = regexp.MustCompile(`\{\{\s*settings\.([a-z0-9_]+)\s*\}\}`)

// usedSettings returns the ids of the settings the manifest's strings use.
func usedSettings(m *manifest.Manifest) map[string]bool {
	used := map[string]bool{}
	note := func(s string) {
		for _, g := range settingRef.FindAllStringSubmatch(s, -1) {
			used[g[1]] = true
		}
	}
	for _, s := range m.Services {
		for _, v := range s.Environment {
			note(v)
		}
		for _, a := range slices.Concat(s.Entrypoint, s.Command) {
			note(a)
		}
		for _, f := range s.Files {
			note(f.Content)
		}
	}
	note(m.PostInstallNotes)
	return used
}

// validationRefusal reports the first rule the manifest breaks, in the
// compose file's terms where it can.
func (t *translator) validationRefusal(err error) {
	var first *manifest.FieldError
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else {
		all = []error{err}
	}
	for _, e := range all {
		if errors.As(e, &first) {
			break
		}
	}
	if first == nil {
		t.refuse("", "", "Hearth cannot install it: %v", err)
		return
	}
	service, key := "", first.Path
	if rest, ok := strings.CutPrefix(first.Path, "services."); ok {
		mname, k, _ := strings.Cut(rest, ".")
		for c, n := range t.names {
			if n == mname {
				service, key = c, k
			}
		}
	}
	t.refuse(service, key, "Hearth cannot install it: %s", first.Reason)
}
