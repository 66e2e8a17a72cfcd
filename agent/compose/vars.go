package compose

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/template"
)

// Markers stand for Hearth's values while compose-go interpolates the
// file: plain words that survive its parsing, turned into manifest
// references ({{app.domain}}, {{settings.x}}) or volume sources afterwards.
// The two folder markers are absolute paths so that compose-go reads a
// volume built on them as a bind mount.
const (
	dataMarker = "/__hearthdata__" // the app's data folder (APP_DATA_DIR, /DATA/AppData/<app>)
	rootMarker = "/__hearthroot__" // Runtipi's ROOT_FOLDER_HOST
)

var markerPattern = regexp.MustCompile(`__hearthref[0-9]+__`)

// refs hands out markers for manifest references and puts the references
// back in their place.
type refs struct {
	mu       sync.Mutex
	byRef    map[string]string
	byMarker map[string]string
}

func newRefs() *refs { return &refs{byRef: map[string]string{}, byMarker: map[string]string{}} }

// marker returns the marker of reference ref ("app.domain").
func (r *refs) marker(ref string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m, ok := r.byRef[ref]; ok {
		return m
	}
	m := "__hearthref" + strconv.Itoa(len(r.byRef)) + "__"
	r.byRef[ref], r.byMarker[m] = m, ref
	return m
}

// template turns a string of the file into a manifest string: a literal
// "{{" is escaped, markers become references and the data folder marker
// {{app.dataDir}}.
func (r *refs) template(s string) string {
	s = strings.ReplaceAll(s, "{{", `{{"{{"}}`)
	s = strings.ReplaceAll(s, dataMarker, "{{app.dataDir}}")
	s = strings.ReplaceAll(s, rootMarker, "")
	return markerPattern.ReplaceAllStringFunc(s, func(m string) string {
		r.mu.Lock()
		defer r.mu.Unlock()
		if ref, ok := r.byMarker[m]; ok {
			return "{{" + ref + "}}"
		}
		return m
	})
}

// hasMarker reports whether s holds a Hearth value that only environment
// and command strings can carry.
func hasMarker(s string) bool {
	return markerPattern.MatchString(s) || strings.Contains(s, rootMarker)
}

// vars answers compose-go's variable lookups: Hearth's own values first,
// then the Options' Env, then the project's .env files. Variables that name
// a password, secret, token or seed are settings, never values of the file.
type vars struct {
	fixed    map[string]string // Hearth's values: literal text or markers
	extra    map[string]string // Options.Env
	file     map[string]string // the project's .env (or .env.sample)
	settings map[string]string // variable -> setting id (Runtipi's form fields)
	refs     *refs
	secrets  *secrets

	mu      sync.Mutex
	missing map[string]bool
	used    map[string]bool // the fixed values looked up
}

// value is compose-go's LookupValue.
func (v *vars) value(name string) (string, bool) {
	if s, ok := v.fixed[name]; ok {
		v.mu.Lock()
		v.used[name] = true
		v.mu.Unlock()
		return s, true
	}
	if id, ok := v.settings[name]; ok {
		return v.refs.marker("settings." + id), true
	}
	if secretName(name) {
		return v.refs.marker("settings." + v.secrets.forVariable(name)), true
	}
	if s, ok := v.extra[name]; ok {
		return s, true
	}
	if s, ok := v.file[name]; ok {
		return s, true
	}
	return "", false
}

// plainRef finds $NAME and ${NAME} (no default, no "$$" escape).
var plainRef = regexp.MustCompile(`\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})`)

// substitute is compose-go's Substitute: it notes the variables used
// without a default that have no value, and never logs.
func (v *vars) substitute(tmpl string, mapping template.Mapping) (string, error) {
	for _, m := range plainRef.FindAllStringSubmatch(strings.ReplaceAll(tmpl, "$$", ""), -1) {
		name := m[1] + m[2]
		if _, ok := mapping(name); !ok {
			v.mu.Lock()
			v.missing[name] = true
			v.mu.Unlock()
		}
	}
	return template.SubstituteWithOptions(tmpl, mapping, template.WithoutLogging)
}

// approximate are the platform variables whose Hearth value is only
// close to what the platform gives.
var approximate = map[string]string{
	"DEVICE_HOSTNAME":    "is the app's host name on Hearth (Umbrel gives the box's)",
	"DEVICE_DOMAIN_NAME": "is the app's host name on Hearth (Umbrel gives the box's); the app is reached through Hearth's proxy, not on its own port",
	"LOCAL_DOMAIN":       "is the app's host name on Hearth (Runtipi gives the box's local domain)",
	"APP_HOST":           "is the app's host name on Hearth",
	"ROOT_FOLDER_HOST":   "is Runtipi's own folder: only its app-data and media folders are understood",
	"UMBREL_ROOT":        "is Umbrel's own folder: only its storage folders are understood",
}

// approximations returns the approximate variables used, sorted.
func (v *vars) approximations() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var names []string
	for n := range v.used {
		if _, ok := approximate[n]; ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// missingNames returns the variables used without a value, sorted.
func (v *vars) missingNames() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	names := make([]string, 0, len(v.missing))
	for n := range v.missing {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Hearth's values for the variables every kind of project may use.
const (
	defaultTZ  = "Etc/UTC"
	defaultUID = "1000"
)

// fixedValues returns Hearth's values for the variables of a kind of
// project (docs/compose.md lists them).
func fixedValues(kind, appID string, r *refs, webPort string) map[string]string {
	domain := r.marker("app.domain")
	v := map[string]string{
		"TZ": defaultTZ, "PUID": defaultUID, "PGID": defaultUID,
		"AppID": appID, "APP_ID": appID, "APP_DOMAIN": domain,
	}
	switch kind {
	case KindUmbrel:
		v["APP_DATA_DIR"] = dataMarker // APP_PASSWORD and APP_SEED are secrets by name
		v["DEVICE_HOSTNAME"] = domain
		v["DEVICE_DOMAIN_NAME"] = domain
	case KindRuntipi:
		v["APP_DATA_DIR"] = dataMarker
		v["ROOT_FOLDER_HOST"] = rootMarker
		v["APP_HOST"] = domain
		v["LOCAL_DOMAIN"] = domain
		v["APP_PROTOCOL"] = "https"
		v["APP_EXPOSED"] = "true"
		if webPort != "" {
			v["APP_PORT"] = webPort
		}
	case KindCoopCloud:
		v["STACK_NAME"] = appID
		v["DOMAIN"] = domain
	}
	return v
}
