package manifest

import (
	"regexp"
	"strings"
)

// sysctlPrefixes are the kernel settings a service may set: those of its
// own network and IPC namespaces, the same list the runtime allows.
// "kernel.sem" is one setting; the others are prefixes.
var sysctlPrefixes = []string{"net.", "kernel.shm", "kernel.msg", "fs.mqueue."}

// sysctlKeyPattern is the shape of a setting's name: dotted words.
var sysctlKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[A-Za-z0-9_-]+)+$`)

// Limits of the kernel settings of one service.
const (
	maxSysctls     = 32
	maxSysctlValue = 256     // bytes
	maxShmSize     = 1 << 30 // 1 GiB
)

// validateKernel checks a service's sysctls and shmSize.
func (m *Manifest) validateKernel(l *errList, p, name string, s Service) {
	if len(s.Sysctls) > maxSysctls {
		l.add(p+".sysctls", "has %d settings, more than %d", len(s.Sysctls), maxSysctls)
	}
	for _, k := range sortedKeys(s.Sysctls) {
		kp := key(p+".sysctls", k)
		v := s.Sysctls[k]
		switch {
		case !sysctlKeyPattern.MatchString(k) || len(k) > 128:
			l.add(kp, "%q is not a kernel setting's name (dotted words such as net.ipv4.ip_forward)", k)
		case !NamespacedSysctl(k):
			l.add(kp, "%q is not namespaced: only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* may be set", k)
		case s.HostNetwork && strings.HasPrefix(k, "net."):
			l.add(kp, "%q would change the host's network: the service is on the host's network", k)
		case v == "":
			l.add(kp, "the value of %q is required", k)
		case len(v) > maxSysctlValue:
			l.add(kp, "the value of %q is %d bytes long, more than %d", k, len(v), maxSysctlValue)
		case strings.IndexFunc(v, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) >= 0:
			l.add(kp, "the value of %q must not hold control characters", k)
		}
	}
	if s.ShmSize == 0 {
		return
	}
	limit := Size(maxShmSize)
	if own := Size(m.MemoryLimits()[name]); own > 0 && own < limit {
		limit = own
	}
	switch {
	case s.ShmSize < 0:
		l.add(p+".shmSize", "%s must be more than 0", s.ShmSize)
	case s.ShmSize > limit:
		l.add(p+".shmSize", "%s is more than %s: /dev/shm may take at most the service's memory limit and at most %s", s.ShmSize, limit, Size(maxShmSize))
	}
}

// NamespacedSysctl reports whether the kernel setting k belongs to a
// container's own namespaces, so that a service may set it.
func NamespacedSysctl(k string) bool {
	if k == "kernel.sem" {
		return true
	}
	for _, p := range sysctlPrefixes {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}
