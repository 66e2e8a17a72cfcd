package manifest

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// engineSockets are the container engines' API sockets a host volume may
// name with PermContainerEngine (Docker's, Podman's). containerd's is not
// one of them: it is Hearth's own engine.
var engineSockets = []string{"/var/run/docker.sock", "/run/docker.sock", "/var/run/podman/podman.sock", "/run/podman/podman.sock"}

// forbiddenHostPaths are never mounted, nor is any folder that holds one:
// the kernel's process and boot files, host devices (they go through the
// device allowlist), Hearth's own state and socket, and containerd's and
// runc's sockets and state.
var forbiddenHostPaths = []string{
	"/proc", "/boot", "/dev",
	"/var/lib/hearth", "/run/hearth", "/var/run/hearth", "/etc/hearth",
	"/run/containerd", "/var/run/containerd", "/var/lib/containerd", "/run/runc", "/var/run/runc",
}

// readOnlyHostPaths may be mounted read-only only (they and what is below).
var readOnlyHostPaths = []string{"/etc", "/sys"}

// maxHostPath bounds a host path, in bytes.
const maxHostPath = 1024

// EngineSocket reports whether a host path is a container engine's API
// socket, which a host volume mounts with PermContainerEngine.
func EngineSocket(p string) bool { return slices.Contains(engineSockets, p) }

// HostPathPermission is the permission a host volume of source p needs.
func HostPathPermission(p string) Permission {
	if EngineSocket(p) {
		return PermContainerEngine
	}
	return PermHostFiles
}

// HostPathReason says why the host path p can never be mounted (read-only
// or not), or "". The agent checks the path again at install, with its
// symbolic links resolved and against its own state folder.
func HostPathReason(p string, readOnly bool) string {
	switch {
	case p == "":
		return "is required"
	case !path.IsAbs(p) || path.Clean(p) != p:
		return fmt.Sprintf("%q must be a clean absolute host path", p)
	case len(p) > maxHostPath:
		return fmt.Sprintf("is %d bytes long, more than %d", len(p), maxHostPath)
	case strings.IndexFunc(p, func(r rune) bool { return r < ' ' || r == 0x7f || r == ',' || r == ':' || r == '\\' }) >= 0:
		return fmt.Sprintf("%q must not hold commas, colons, backslashes or control characters", p)
	}
	for _, bad := range forbiddenHostPaths {
		if within(p, bad) {
			return fmt.Sprintf("%s is never mounted: it is the host's %s", p, forbiddenWhat(bad))
		}
		if within(bad, p) {
			return fmt.Sprintf("%s is never mounted: it holds the host's %s", p, bad)
		}
	}
	if !readOnly {
		for _, ro := range readOnlyHostPaths {
			if within(p, ro) {
				return fmt.Sprintf("%s may be mounted read-only only (the host's %s)", p, ro)
			}
		}
	}
	return ""
}

// within reports whether p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func forbiddenWhat(p string) string {
	switch p {
	case "/proc":
		return "process table and kernel interfaces"
	case "/boot":
		return "boot files"
	case "/dev":
		return "devices folder (list devices in devices)"
	}
	if strings.Contains(p, "hearth") {
		return "Hearth's own state"
	}
	return "containerd's and runc's state"
}
