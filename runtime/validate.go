package rt

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/containerd/containerd/v2/pkg/cap"
	"github.com/distribution/reference"
)

var (
	idPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	namePattern    = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$`)
	userPattern    = regexp.MustCompile(`^[0-9]{1,10}(:[0-9]{1,10})?$`)
	envKeyPattern  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	sysctlPrefixes = []string{"net.", "kernel.shm", "kernel.msg", "kernel.sem", "fs.mqueue."}
)

// maxFileBytes bounds the content of one of a spec's Files.
const maxFileBytes = 1 << 20

// FieldError names the field of a ContainerSpec that is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks a spec without touching the host. DataDir containment is
// checked again, against symlinks, when the volumes are prepared.
func (s *ContainerSpec) Validate(dataRoot string) error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !idPattern.MatchString(s.ID) {
		add(fieldErr("id", "%q must be 1-63 characters of a-z, 0-9, '_', '.', '-', starting with a letter or digit", s.ID))
	}
	if s.Group != "" && !namePattern.MatchString(s.Group) {
		add(fieldErr("group", "%q is not a valid name", s.Group))
	}
	add(validateImageRef("image", s.Image, true))
	if s.Network != "" && !networkPattern.MatchString(s.Network) {
		add(fieldErr("network", "%q must be 1-32 characters of a-z, 0-9 and '-'", s.Network))
	}
	for i, n := range s.Names {
		if !namePattern.MatchString(n) {
			add(fieldErr(fmt.Sprintf("names[%d]", i), "%q is not a valid host name", n))
		}
	}
	if s.Hostname != "" && !namePattern.MatchString(s.Hostname) {
		add(fieldErr("hostname", "%q is not a valid host name", s.Hostname))
	}
	for i, e := range s.Env {
		k, _, ok := strings.Cut(e, "=")
		if !ok || !envKeyPattern.MatchString(k) {
			add(fieldErr(fmt.Sprintf("env[%d]", i), "%q must be KEY=value with a valid key", e))
		}
	}
	if s.WorkingDir != "" && !path.IsAbs(s.WorkingDir) {
		add(fieldErr("workingDir", "%q must be absolute", s.WorkingDir))
	}
	if s.User != "" && !userPattern.MatchString(s.User) {
		add(fieldErr("user", "%q must be a numeric uid or uid:gid", s.User))
	}
	add(validateDataDir(s.DataDir, dataRoot))
	targets := map[string]string{"/tmp": "tmpfs", "/run": "tmpfs"}
	for i, v := range s.Volumes {
		field := fmt.Sprintf("volumes[%d]", i)
		add(validateVolumeSource(field+".source", v.Source))
		if err := validateTarget(field+".target", v.Target); err != nil {
			add(err)
		} else if prev, dup := targets[path.Clean(v.Target)]; dup {
			add(fieldErr(field+".target", "%q is already used by %s", v.Target, prev))
		} else {
			targets[path.Clean(v.Target)] = field
		}
	}
	useTarget := func(field, target string) {
		if err := validateTarget(field, target); err != nil {
			add(err)
		} else if prev, dup := targets[path.Clean(target)]; dup {
			add(fieldErr(field, "%q is already used by %s", target, prev))
		} else {
			targets[path.Clean(target)] = field
		}
	}
	for i, m := range s.HostMounts {
		field := fmt.Sprintf("hostMounts[%d]", i)
		if !path.IsAbs(m.Source) || path.Clean(m.Source) != m.Source || m.Source == "/" {
			add(fieldErr(field+".source", "%q must be a clean absolute host path other than /", m.Source))
		}
		useTarget(field+".target", m.Target)
	}
	for i, f := range s.Files {
		field := fmt.Sprintf("files[%d]", i)
		useTarget(field+".target", f.Target)
		if len(f.Content) > maxFileBytes {
			add(fieldErr(field+".content", "is %d bytes long, more than %d", len(f.Content), maxFileBytes))
		}
	}
	if s.HostNetwork && s.Network != "" {
		add(fieldErr("hostNetwork", "a container on the host's network has no network of its own: leave network empty"))
	}
	for i, t := range s.Tmpfs {
		field := fmt.Sprintf("tmpfs[%d]", i)
		if err := validateTarget(field+".target", t.Target); err != nil {
			add(err)
		} else if prev, dup := targets[path.Clean(t.Target)]; dup {
			add(fieldErr(field+".target", "%q is already used by %s", t.Target, prev))
		} else {
			targets[path.Clean(t.Target)] = field
		}
		if t.SizeBytes < 0 {
			add(fieldErr(field+".sizeBytes", "must not be negative"))
		}
	}
	r := s.Resources
	if r.MemoryBytes < 0 || (r.MemoryBytes > 0 && r.MemoryBytes < 4<<20) {
		add(fieldErr("resources.memoryBytes", "%d must be 0 (default) or at least 4 MiB", r.MemoryBytes))
	}
	if r.PidsLimit < 0 {
		add(fieldErr("resources.pidsLimit", "must not be negative"))
	}
	if r.CPUWeight > 10000 {
		add(fieldErr("resources.cpuWeight", "%d must be between 1 and 10000", r.CPUWeight))
	}
	if r.ShmBytes < 0 {
		add(fieldErr("resources.shmBytes", "must not be negative"))
	}
	known := knownCaps()
	for i, c := range s.Capabilities {
		if _, ok := known[normalizeCap(c)]; !ok {
			add(fieldErr(fmt.Sprintf("capabilities[%d]", i), "unknown capability %q", c))
		}
	}
	for i, d := range s.Devices {
		clean := filepath.Clean(d)
		if !strings.HasPrefix(clean, "/dev/") || clean != d {
			add(fieldErr(fmt.Sprintf("devices[%d]", i), "%q must be a clean path under /dev", d))
		}
	}
	for k := range s.Sysctls {
		ok := false
		for _, p := range sysctlPrefixes {
			ok = ok || strings.HasPrefix(k, p)
		}
		if !ok {
			add(fieldErr("sysctls."+k, "only namespaced settings (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) are allowed"))
		} else if s.HostNetwork && strings.HasPrefix(k, "net.") {
			add(fieldErr("sysctls."+k, "would change the host's network: the container is on the host's network"))
		}
	}
	if s.Health != nil {
		if err := toHealthCheck(*s.Health).Validate(); err != nil {
			add(fmt.Errorf("health: %w", &FieldError{Field: "health", Reason: err.Error()}))
		}
	}
	if s.StopTimeout < 0 {
		add(fieldErr("stopTimeout", "must not be negative"))
	}
	for k := range s.Labels {
		if strings.HasPrefix(k, labelPrefix) {
			add(fieldErr("labels."+k, "the prefix %q is reserved", labelPrefix))
		}
	}
	return errors.Join(errs...)
}

func validateImageRef(field, ref string, needDigest bool) error {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return &FieldError{Field: field, Reason: fmt.Sprintf("malformed image reference %q: %v", ref, err)}
	}
	if _, ok := named.(reference.Digested); needDigest && !ok {
		return fieldErr(field, "%q has no digest: pull it first and use the digest Pull returns", ref)
	}
	return nil
}

func validateDataDir(dir, root string) error {
	if dir == "" {
		return fieldErr("dataDir", "is required")
	}
	if !filepath.IsAbs(dir) || filepath.Clean(dir) != dir {
		return fieldErr("dataDir", "%q must be a clean absolute path", dir)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, "../") {
		return fieldErr("dataDir", "%q is not below the data root %q", dir, root)
	}
	return nil
}

func validateVolumeSource(field, src string) error {
	if src == "" {
		return fieldErr(field, "is required")
	}
	if filepath.IsAbs(src) {
		return fieldErr(field, "%q must be relative to the data folder", src)
	}
	clean := filepath.Clean(src)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return fieldErr(field, "%q escapes the data folder", src)
	}
	return nil
}

func validateTarget(field, target string) error {
	if !path.IsAbs(target) {
		return fieldErr(field, "%q must be an absolute path", target)
	}
	clean := path.Clean(target)
	for _, bad := range []string{"/", "/proc", "/sys", "/dev", "/etc/resolv.conf", "/etc/hosts", "/etc/hostname"} {
		if clean == bad || (bad != "/" && strings.HasPrefix(clean, bad+"/")) {
			return fieldErr(field, "%q may not be mounted over", target)
		}
	}
	return nil
}

func normalizeCap(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

func knownCaps() map[string]struct{} {
	m := map[string]struct{}{}
	for _, c := range cap.Known() {
		m[c] = struct{}{}
	}
	return m
}

// parseUser splits "uid[:gid]"; gid defaults to uid.
func parseUser(u string) (uid, gid uint32, err error) {
	a, b, hasGID := strings.Cut(u, ":")
	x, err := strconv.ParseUint(a, 10, 32)
	if err != nil {
		return 0, 0, fieldErr("user", "%q: %v", u, err)
	}
	y := x
	if hasGID {
		if y, err = strconv.ParseUint(b, 10, 32); err != nil {
			return 0, 0, fieldErr("user", "%q: %v", u, err)
		}
	}
	return uint32(x), uint32(y), nil
}
