package manifest

import (
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

var slugPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,30}[a-z0-9]$`)

// Limits of the free-text fields, in bytes unless said.
const (
	maxTitle       = 60   // characters
	maxTagline     = 80   // characters
	maxLine        = 200  // characters: author, packager, upstreamVersion, labels, reasons
	maxMarkdown    = 8192 // description, postInstallNotes
	maxScreenshots = 12
	maxServices    = 20
	maxSettings    = 50
	minMemory      = 4 << 20 // the runtime's smallest memory limit, per container
	maxMemory      = 1 << 40
)

// Validate checks every rule of docs/manifest.md and returns all broken
// ones joined, each a *FieldError (matching ErrInvalid) naming the JSON path
// of the field.
func (m *Manifest) Validate() error {
	var l errList
	m.validateIdentity(&l)
	m.validateServices(&l)
	m.validateAddons(&l)
	m.validatePermissions(&l)
	m.validateResources(&l)
	m.validateSettings(&l)
	m.validateBackup(&l)
	if _, _, ok := m.HTTPService(); m.Protected && !ok {
		l.add("protected", "needs a web entry: no service has an httpPort")
	}
	return l.err()
}

func (m *Manifest) validateIdentity(l *errList) {
	if m.Origin != "" && m.Origin != OriginCompose {
		l.add("origin", "%q must be empty or %q", m.Origin, OriginCompose)
	}
	switch m.ManifestVersion {
	case FormatVersion:
	case 0:
		l.add("manifestVersion", "is required (%d)", FormatVersion)
	default:
		l.add("manifestVersion", "%d is not supported: this Hearth reads version %d", m.ManifestVersion, FormatVersion)
	}
	switch {
	case m.ID == "":
		l.add("id", "is required")
	case !slugPattern.MatchString(m.ID):
		l.add("id", "%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'", m.ID)
	}
	requiredLine(l, "title", m.Title, maxTitle)
	if m.Version == "" {
		l.add("version", "is required")
	} else if _, err := ParseVersion(m.Version); err != nil {
		l.add("version", "%v", err)
	}
	optionalLine(l, "upstreamVersion", m.UpstreamVersion, 64)
	requiredLine(l, "tagline", m.Tagline, maxTagline)
	markdown(l, "description", m.Description)
	switch {
	case m.Icon == "":
		l.add("icon", "is required")
	case strings.Contains(m.Icon, "://"):
		if reason := httpsURL(m.Icon); reason != "" {
			l.add("icon", "%s", reason)
		}
	default:
		if reason := packagePath(m.Icon); reason != "" {
			l.add("icon", "%s", reason)
		}
	}
	if len(m.Screenshots) > maxScreenshots {
		l.add("screenshots", "has %d entries, more than %d", len(m.Screenshots), maxScreenshots)
	}
	for i, s := range m.Screenshots {
		if reason := httpsURL(s); reason != "" {
			l.add(index("screenshots", i), "%s", reason)
		} else if slices.Index(m.Screenshots, s) < i {
			l.add(index("screenshots", i), "%q is listed twice", s)
		}
	}
	switch {
	case m.Category == "":
		l.add("category", "is required (one of %s)", strings.Join(Categories(), ", "))
	case !slices.Contains(Categories(), m.Category):
		l.add("category", "%q is not one of %s", m.Category, strings.Join(Categories(), ", "))
	}
	if m.Website != "" {
		if reason := httpsURL(m.Website); reason != "" {
			l.add("website", "%s", reason)
		}
	}
	optionalLine(l, "author", m.Author, maxLine)
	optionalLine(l, "packager", m.Packager, maxLine)
	markdown(l, "postInstallNotes", m.PostInstallNotes)
}

func (m *Manifest) validateAddons(l *errList) {
	a := m.Addons
	for _, d := range []struct {
		name string
		a    *DatabaseAddon
	}{{"postgresql", a.PostgreSQL}, {"mysql", a.MySQL}, {"redis", a.Redis}} {
		if d.a != nil && d.a.Version != "" && !addonVersion.MatchString(d.a.Version) {
			l.add("addons."+d.name+".version", "%q must be a major version such as \"16\" or \"8.4\"", d.a.Version)
		}
	}
	if o := a.OIDC; o != nil {
		if o.LoginRedirectPath == "" {
			l.add("addons.oidc.loginRedirectPath", "is required")
		} else if reason := urlPath(o.LoginRedirectPath); reason != "" {
			l.add("addons.oidc.loginRedirectPath", "%s", reason)
		}
		if o.LogoutRedirectPath != "" {
			if reason := urlPath(o.LogoutRedirectPath); reason != "" {
				l.add("addons.oidc.logoutRedirectPath", "%s", reason)
			}
		}
	}
}

var addonVersion = regexp.MustCompile(`^[0-9]{1,3}(\.[0-9]{1,3})?$`)

// validatePermissions checks the list and that each permission is used by
// something in the manifest (those that can be checked): an unused
// permission would be shown to the owner for nothing.
func (m *Manifest) validatePermissions(l *errList) {
	used := map[Permission]bool{PermLAN: true, PermInternet: true}
	for _, s := range m.Services {
		used[PermDevices] = used[PermDevices] || len(s.Devices) > 0
		used[PermPorts] = used[PermPorts] || len(s.Ports) > 0
		used[PermSharedFolders] = used[PermSharedFolders] || len(s.SharedFolders) > 0
		for _, c := range s.Capabilities {
			used[PermPrivilegedCapabilities] = used[PermPrivilegedCapabilities] || capabilityClass(c) == capPrivileged
			used[PermPrivileged] = used[PermPrivileged] || capabilityClass(c) == capHost
		}
		for _, v := range s.Volumes {
			if v.Kind == VolumeHost {
				used[HostPathPermission(v.Source)] = true
			}
		}
		used[PermPrivileged] = used[PermPrivileged] || s.Privileged
		used[PermHostNetwork] = used[PermHostNetwork] || s.HostNetwork
		used[PermHostPID] = used[PermHostPID] || s.HostPID
	}
	for i, p := range m.Permissions {
		switch {
		case !slices.Contains(Permissions(), p):
			l.add(index("permissions", i), "%q is not one of %s", p, joinPerms(Permissions()))
		case slices.Index(m.Permissions, p) < i:
			l.add(index("permissions", i), "%q is listed twice", p)
		case !used[p]:
			l.add(index("permissions", i), "%q is asked for but nothing in the manifest uses it", p)
		}
	}
}

func joinPerms(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func (m *Manifest) validateResources(l *errList) {
	r := m.Resources
	minOK := checkMemory(l, "resources.memoryMin", r.MemoryMin, true)
	limitOK := checkMemory(l, "resources.memoryLimit", r.MemoryLimit, true)
	if minOK && limitOK && r.MemoryLimit < r.MemoryMin {
		l.add("resources.memoryLimit", "%s is less than memoryMin %s", r.MemoryLimit, r.MemoryMin)
	}
	if r.CPUWeight < 0 || r.CPUWeight > 10000 {
		l.add("resources.cpuWeight", "%d must be between 1 and 10000", r.CPUWeight)
	}
	if !limitOK {
		return
	}
	var sum Size
	var names []string
	shares := 0
	for name, s := range m.Services {
		if s.MemoryLimit == 0 {
			shares++
			continue
		}
		if checkMemory(l, key(key("services", name), "memoryLimit"), s.MemoryLimit, false) {
			sum += s.MemoryLimit
			names = append(names, name)
		}
	}
	sort.Strings(names)
	switch {
	case sum > r.MemoryLimit:
		l.add("resources.memoryLimit", "%s is less than the services' own limits together (%s: %s)", r.MemoryLimit, strings.Join(names, ", "), sum)
	case shares > 0 && (r.MemoryLimit-sum)/Size(shares) < minMemory:
		l.add("resources.memoryLimit", "%s leaves less than %s for each of the %d services without a memoryLimit", r.MemoryLimit, Size(minMemory), shares)
	}
}

// checkMemory reports whether a memory size is acceptable.
func checkMemory(l *errList, p string, v Size, required bool) bool {
	switch {
	case v == 0 && required:
		l.add(p, "is required (such as \"256Mi\")")
	case v < minMemory:
		l.add(p, "%s is less than the smallest limit, %s", v, Size(minMemory))
	case v > maxMemory:
		l.add(p, "%s is more than %s", v, Size(maxMemory))
	default:
		return true
	}
	return false
}

// requiredLine checks a one-line text of at most limit characters.
func requiredLine(l *errList, p, s string, limit int) {
	if s == "" {
		l.add(p, "is required")
		return
	}
	optionalLine(l, p, s, limit)
}

func optionalLine(l *errList, p, s string, limit int) {
	if reason := lineReason(s, limit); reason != "" {
		l.add(p, "%s", reason)
	}
}

// lineReason says why s is not one line of at most limit characters.
func lineReason(s string, limit int) string {
	switch {
	case !utf8.ValidString(s):
		return "is not valid UTF-8"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("is %d characters long, more than %d", utf8.RuneCountInString(s), limit)
	case strings.IndexFunc(s, isControl) >= 0:
		return "must be one line without control characters"
	case strings.TrimSpace(s) != s:
		return "must not start or end with spaces"
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func markdown(l *errList, p, s string) {
	switch {
	case len(s) > maxMarkdown:
		l.add(p, "is %d bytes long, more than %d", len(s), maxMarkdown)
	case !utf8.ValidString(s):
		l.add(p, "is not valid UTF-8")
	case strings.IndexFunc(s, func(r rune) bool { return isControl(r) && r != '\n' && r != '\t' }) >= 0:
		l.add(p, "must not hold control characters other than newlines and tabs")
	}
}

// httpsURL says why s is not an absolute https URL.
func httpsURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
		return fmt.Sprintf("%q is not a valid URL", s)
	case u.Scheme != "https":
		return fmt.Sprintf("%q must be an https URL", s)
	case u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q has no host", s)
	case u.User != nil:
		return fmt.Sprintf("%q must not hold credentials", s)
	case len(s) > 2048:
		return "is longer than 2048 bytes"
	}
	return ""
}

// packagePath says why s is not a relative path to an icon inside the package.
func packagePath(s string) string {
	switch {
	case path.IsAbs(s) || path.Clean(s) != s || s == "." || strings.HasPrefix(s, "../") || s == "..":
		return fmt.Sprintf("%q must be a clean relative path inside the package (or an https URL)", s)
	case !strings.HasSuffix(s, ".svg") && !strings.HasSuffix(s, ".png"):
		return fmt.Sprintf("%q must be an .svg or .png file", s)
	case strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == '\\' || r == 0x7f }) >= 0:
		return fmt.Sprintf("%q must not hold spaces, backslashes or control characters", s)
	}
	return ""
}

// urlPath says why s is not an absolute URL path.
func urlPath(s string) string {
	if !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Sprintf("%q must be a path starting with / without spaces", s)
	}
	return ""
}
