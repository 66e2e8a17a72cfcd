package manifest

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
)

var (
	envKeyPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	userPattern   = regexp.MustCompile(`^[0-9]{1,10}(:[0-9]{1,10})?$`)
	digestPattern = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
)

// Platforms an image may list.
const (
	PlatformAMD64 = "linux/amd64"
	PlatformARM64 = "linux/arm64"
)

// reservedEnvPrefix is kept for the variables the agent sets itself.
const reservedEnvPrefix = "HEARTH_"

// defaultInterval is the runtime's health-check interval when none is given.
const defaultInterval = Duration(10e9)

// maxArg bounds one entrypoint, command or environment string, in bytes.
const maxArg = 4096

// Limits of a service's files.
const (
	maxFiles       = 32
	maxFileContent = 64 << 10
)

// serviceNames returns the service names, sorted, so that errors come out in
// a stable order.
func (m *Manifest) serviceNames() []string { return sortedKeys(m.Services) }

func (m *Manifest) validateServices(l *errList) {
	switch {
	case len(m.Services) == 0:
		l.add("services", "is required: an app has at least one service")
		return
	case len(m.Services) > maxServices:
		l.add("services", "has %d services, more than %d", len(m.Services), maxServices)
	}
	web := ""
	ports := map[string]string{} // "8080/tcp" -> path of its first use
	for _, name := range m.serviceNames() {
		s := m.Services[name]
		p := key("services", name)
		if !slugPattern.MatchString(name) {
			l.add(p, "the service name %q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'", name)
		}
		m.validateService(l, p, s)
		m.validateKernel(l, p, name, s)
		if s.HTTPPort != 0 {
			if web != "" {
				l.add(p+".httpPort", "only one service may have an httpPort, and %q has one", web)
			} else {
				web = name
			}
		}
		for i, port := range s.Ports {
			pp := index(p+".ports", i)
			k := strconv.Itoa(port.Port) + "/" + port.Protocol
			if first, dup := ports[k]; dup {
				l.add(pp, "port %s is already published by %s", k, first)
			} else {
				ports[k] = pp
			}
		}
	}
	if len(m.Platforms()) == 0 {
		l.add("services", "no platform is supported by every service")
	}
	if cycle := m.findCycle(); cycle != nil {
		l.add(key("services", cycle[0])+".dependsOn", "dependency cycle: %s", strings.Join(cycle, " -> "))
	}
}

func (m *Manifest) validateService(l *errList, p string, s Service) {
	validateImage(l, p+".image", s.Image, m.Origin == OriginCompose)
	m.validateArgs(l, p+".entrypoint", s.Entrypoint)
	m.validateArgs(l, p+".command", s.Command)
	envKeys := make([]string, 0, len(s.Environment))
	for k := range s.Environment {
		envKeys = append(envKeys, k)
	}
	sort.Strings(envKeys)
	for _, k := range envKeys {
		kp := key(p+".environment", k)
		v := s.Environment[k]
		switch {
		case !envKeyPattern.MatchString(k):
			l.add(kp, "the variable name must be letters, digits and '_', not starting with a digit")
		case strings.HasPrefix(strings.ToUpper(k), reservedEnvPrefix):
			l.add(kp, "variables starting with %s are set by Hearth", reservedEnvPrefix)
		case len(v) > maxArg:
			l.add(kp, "is %d bytes long, more than %d", len(v), maxArg)
		case strings.IndexByte(v, 0) >= 0:
			l.add(kp, "must not hold a NUL byte")
		default:
			if err := m.checkTemplate(v); err != nil {
				l.add(kp, "%v", err)
			}
		}
	}
	targets := map[string]string{"/tmp": "the runtime's /tmp", "/run": "the runtime's /run"}
	useTarget := func(tp, target string) {
		if reason := mountTarget(target); reason != "" {
			l.add(tp, "%s", reason)
		} else if prev, dup := targets[target]; dup {
			l.add(tp, "%q is already used by %s", target, prev)
		} else {
			targets[target] = tp
		}
	}
	for i, v := range s.Volumes {
		vp := index(p+".volumes", i)
		switch v.Kind {
		case VolumeData:
			if reason := volumeSource(v.Source); reason != "" {
				l.add(vp+".source", "%s", reason)
			}
		case VolumeHost:
			if reason := HostPathReason(v.Source, v.ReadOnly); reason != "" {
				l.add(vp+".source", "%s", reason)
			} else if perm := HostPathPermission(v.Source); !m.Has(perm) {
				l.add(vp+".source", "the host path %s needs the %q permission", v.Source, perm)
			}
		default:
			l.add(vp+".kind", "%q must be absent (a folder of the app's data folder) or %q", v.Kind, VolumeHost)
		}
		useTarget(vp+".target", v.Target)
	}
	if len(s.Files) > maxFiles {
		l.add(p+".files", "has %d files, more than %d", len(s.Files), maxFiles)
	}
	for i, f := range s.Files {
		fp := index(p+".files", i)
		useTarget(fp+".target", f.Target)
		switch {
		case len(f.Content) > maxFileContent:
			l.add(fp+".content", "is %d bytes long, more than %d", len(f.Content), maxFileContent)
		case strings.IndexByte(f.Content, 0) >= 0:
			l.add(fp+".content", "must not hold a NUL byte")
		default:
			if err := m.checkTemplate(f.Content); err != nil {
				l.add(fp+".content", "%v", err)
			}
		}
	}
	for i, t := range s.Tmpfs {
		useTarget(index(p+".tmpfs", i), t)
	}
	if len(s.SharedFolders) > 0 && !m.Has(PermSharedFolders) {
		l.add(p+".sharedFolders", "needs the %q permission", PermSharedFolders)
	}
	for i, f := range s.SharedFolders {
		fp := index(p+".sharedFolders", i)
		if !slugPattern.MatchString(f.Name) {
			l.add(fp+".name", "%q must be 2-32 characters of a-z, 0-9 and '-', starting with a letter", f.Name)
		} else if slices.IndexFunc(s.SharedFolders, func(g SharedFolder) bool { return g.Name == f.Name }) < i {
			l.add(fp+".name", "%q is listed twice", f.Name)
		}
		useTarget(fp+".target", f.Target)
	}
	if s.User != "" {
		if !userPattern.MatchString(s.User) || !fitsUint32(s.User) {
			l.add(p+".user", "%q must be a numeric uid or uid:gid", s.User)
		}
	}
	if s.WorkingDir != "" && (!path.IsAbs(s.WorkingDir) || path.Clean(s.WorkingDir) != s.WorkingDir) {
		l.add(p+".workingDir", "%q must be a clean absolute path", s.WorkingDir)
	}
	if s.HealthCheck != nil {
		validateHealth(l, p+".healthCheck", *s.HealthCheck)
	}
	if s.HTTPPort != 0 && !validPort(s.HTTPPort) {
		l.add(p+".httpPort", "%d must be between 1 and 65535", s.HTTPPort)
	}
	if len(s.Ports) > 0 && !m.Has(PermPorts) {
		l.add(p+".ports", "needs the %q permission", PermPorts)
	}
	for i, port := range s.Ports {
		pp := index(p+".ports", i)
		if !validPort(port.Port) {
			l.add(pp+".port", "%d must be between 1 and 65535", port.Port)
		}
		if port.Protocol != ProtocolTCP && port.Protocol != ProtocolUDP {
			l.add(pp+".protocol", "%q must be tcp or udp", port.Protocol)
		}
		requiredLine(l, pp+".reason", port.Reason, maxLine)
	}
	for i, c := range s.Capabilities {
		cp := index(p+".capabilities", i)
		if reason := capabilityReason(c, m.Has(PermPrivilegedCapabilities), m.Has(PermPrivileged)); reason != "" {
			l.add(cp, "%s", reason)
		} else if slices.Index(s.Capabilities, c) < i {
			l.add(cp, "%s is listed twice", c)
		}
	}
	for _, h := range []struct {
		field string
		on    bool
		perm  Permission
	}{{"privileged", s.Privileged, PermPrivileged}, {"hostNetwork", s.HostNetwork, PermHostNetwork}, {"hostPID", s.HostPID, PermHostPID}} {
		if h.on && !m.Has(h.perm) {
			l.add(p+"."+h.field, "needs the %q permission", h.perm)
		}
	}
	if s.HostNetwork && len(s.Ports) > 0 {
		l.add(p+".ports", "a service on the host's network publishes no ports: it listens on the host's own")
	}
	if len(s.Devices) > 0 && !m.Has(PermDevices) {
		l.add(p+".devices", "needs the %q permission", PermDevices)
	}
	for i, d := range s.Devices {
		dp := index(p+".devices", i)
		if reason := deviceReason(d); reason != "" {
			l.add(dp, "%s", reason)
		} else if slices.Index(s.Devices, d) < i {
			l.add(dp, "%s is listed twice", d)
		}
	}
	for i, d := range s.DependsOn {
		dp := index(p+".dependsOn", i)
		target, ok := m.Services[d.Service]
		switch {
		case d.Service == "":
			l.add(dp+".service", "is required")
		case !ok:
			l.add(dp+".service", "%q is not a service of this app", d.Service)
		case key("services", d.Service) == p:
			l.add(dp+".service", "a service cannot depend on itself")
		case slices.IndexFunc(s.DependsOn, func(e Dependency) bool { return e.Service == d.Service }) < i:
			l.add(dp+".service", "%q is listed twice", d.Service)
		case d.Condition == ConditionHealthy && target.HealthCheck == nil:
			l.add(dp+".condition", "%q has no healthCheck, so it can never be healthy", d.Service)
		}
		if d.Condition != "" && d.Condition != ConditionStarted && d.Condition != ConditionHealthy {
			l.add(dp+".condition", "%q must be started or healthy", d.Condition)
		}
	}
}

func validateImage(l *errList, p string, img Image, moving bool) {
	if img.Ref == "" {
		l.add(p+".ref", "is required")
	} else if named, err := reference.ParseNormalizedNamed(img.Ref); err != nil {
		l.add(p+".ref", "%q is not an image reference: %v", img.Ref, err)
	} else if _, ok := named.(reference.Digested); ok {
		l.add(p+".ref", "%q must not hold a digest: digests go in platforms", img.Ref)
	} else if tagged, ok := named.(reference.Tagged); !ok && !moving {
		l.add(p+".ref", "%q needs a version tag", img.Ref)
	} else if ok && tagged.Tag() == "latest" && !moving {
		l.add(p+".ref", "%q: the tag \"latest\" moves; name a version", img.Ref)
	}
	if len(img.Platforms) == 0 {
		l.add(p+".platforms", "must list at least one of %s, %s", PlatformAMD64, PlatformARM64)
	}
	for _, plat := range sortedKeys(img.Platforms) {
		d := img.Platforms[plat]
		switch {
		case plat != PlatformAMD64 && plat != PlatformARM64:
			l.add(key(p+".platforms", plat), "unknown platform: use %s or %s", PlatformAMD64, PlatformARM64)
		case d != "" && !digestPattern.MatchString(d):
			l.add(key(p+".platforms", plat), "%q must be \"sha256:\" and 64 lowercase hex digits, or \"\" to pin at install", d)
		}
	}
}

func (m *Manifest) validateArgs(l *errList, p string, args []string) {
	if args != nil && len(args) == 0 {
		l.add(p, "must not be empty (leave it out to keep the image's)")
	}
	for i, a := range args {
		switch {
		case len(a) > maxArg:
			l.add(index(p, i), "is %d bytes long, more than %d", len(a), maxArg)
		case strings.IndexByte(a, 0) >= 0:
			l.add(index(p, i), "must not hold a NUL byte")
		default:
			if err := m.checkTemplate(a); err != nil {
				l.add(index(p, i), "%v", err)
			}
		}
	}
}

func validateHealth(l *errList, p string, h HealthCheck) {
	kinds := 0
	if h.HTTP != nil {
		kinds++
		if reason := urlPath(h.HTTP.Path); reason != "" {
			l.add(p+".http.path", "%s", reason)
		}
		if !validPort(h.HTTP.Port) {
			l.add(p+".http.port", "%d must be between 1 and 65535", h.HTTP.Port)
		}
	}
	if h.TCP != nil {
		kinds++
		if !validPort(h.TCP.Port) {
			l.add(p+".tcp.port", "%d must be between 1 and 65535", h.TCP.Port)
		}
	}
	if h.Command != nil {
		kinds++
		if len(h.Command) == 0 || h.Command[0] == "" {
			l.add(p+".command", "must name a program")
		}
		for i, a := range h.Command {
			if len(a) > maxArg || strings.IndexByte(a, 0) >= 0 {
				l.add(index(p+".command", i), "must be at most %d bytes without NUL", maxArg)
			}
		}
	}
	if kinds != 1 {
		l.add(p, "needs exactly one of http, tcp and command (has %d)", kinds)
	}
	const second, hour = Duration(1e9), Duration(3600e9)
	for _, d := range []struct {
		name     string
		v        Duration
		min, max Duration
	}{
		{"interval", h.Interval, second, hour},
		{"timeout", h.Timeout, second, 5 * 60 * second},
		{"startPeriod", h.StartPeriod, 0, hour},
	} {
		if d.v != 0 && (d.v < d.min || d.v > d.max) {
			l.add(p+"."+d.name, "%s must be between %s and %s", d.v, d.min, d.max)
		}
	}
	interval := h.Interval
	if interval == 0 {
		interval = defaultInterval
	}
	if h.Timeout > interval {
		l.add(p+".timeout", "%s is longer than the interval %s", h.Timeout, interval)
	}
	if h.Retries < 0 || h.Retries > 100 {
		l.add(p+".retries", "%d must be between 1 and 100 (0 or absent: 3)", h.Retries)
	}
}

// volumeSource says why src is not a folder of the app's data folder.
func volumeSource(src string) string {
	switch {
	case src == "":
		return "is required"
	case path.IsAbs(src):
		return fmt.Sprintf("%q must be relative to the app's data folder", src)
	case src == "." || src == ".." || strings.HasPrefix(src, "../") || strings.Contains(src, "/../") || strings.HasSuffix(src, "/.."):
		return fmt.Sprintf("%q must be a folder below the app's data folder (no \"..\")", src)
	case path.Clean(src) != src:
		return fmt.Sprintf("%q must be a clean path (no \"//\", \"./\" or trailing \"/\")", src)
	case strings.IndexFunc(src, func(r rune) bool { return r < ' ' || r == '\\' || r == 0x7f }) >= 0:
		return fmt.Sprintf("%q must not hold backslashes or control characters", src)
	}
	return ""
}

// mountTarget says why t cannot be mounted on in a container.
func mountTarget(t string) string {
	if !path.IsAbs(t) || path.Clean(t) != t {
		return fmt.Sprintf("%q must be a clean absolute path", t)
	}
	for _, bad := range []string{"/", "/proc", "/sys", "/dev", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname"} {
		if t == bad || (bad != "/" && strings.HasPrefix(t, bad+"/")) {
			return fmt.Sprintf("%q may not be mounted over", t)
		}
	}
	if strings.IndexFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f || r == ',' || r == ':' }) >= 0 {
		return fmt.Sprintf("%q must not hold commas, colons or control characters", t)
	}
	return ""
}

func validPort(p int) bool { return p >= 1 && p <= 65535 }

func fitsUint32(user string) bool {
	for _, part := range strings.Split(user, ":") {
		if _, err := strconv.ParseUint(part, 10, 32); err != nil {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
