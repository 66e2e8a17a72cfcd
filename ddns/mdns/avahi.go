package mdns

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// DefaultAvahiPIDFile is where avahi-daemon writes its pid.
const DefaultAvahiPIDFile = "/run/avahi-daemon/pid"

// AvahiRunning reports whether the avahi-daemon whose pid file is at path
// runs: the file names a live process. The Hearth image does not install
// avahi; on a host that has it, Hearth leaves mDNS to it.
func AvahiRunning(path string) (bool, int) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false, 0
	}
	// Signal 0 checks the process exists; EPERM means it does but is
	// another user's.
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false, 0
	}
	return true, pid
}
