package manifest

import (
	"regexp"
	"strings"
)

// capClass says what a capability needs.
type capClass int

const (
	capUnknown    capClass = iota // not a Linux capability
	capBasic                      // allowed without a permission
	capPrivileged                 // needs PermPrivilegedCapabilities
	capHost                       // reaches the host itself: needs PermPrivileged
)

// capabilityClass classifies a capability written without "CAP_".
func capabilityClass(c string) capClass {
	switch c {
	case "NET_BIND_SERVICE", "CHOWN", "SETUID", "SETGID", "DAC_OVERRIDE", "FOWNER", "KILL":
		return capBasic
	case "NET_ADMIN", "NET_RAW", "NET_BROADCAST", "SYS_NICE", "SYS_RESOURCE", "IPC_LOCK", "SYS_CHROOT",
		"FSETID", "SETPCAP", "SETFCAP", "MKNOD", "AUDIT_WRITE", "LEASE":
		return capPrivileged
	}
	if hostCapability(c) != "" {
		return capHost
	}
	return capUnknown
}

// hostCapability says what a capability that needs PermPrivileged does
// to the host, or "" for the others.
func hostCapability(c string) string {
	switch c {
	case "SYS_ADMIN":
		return "amounts to root on the host (mounts, namespaces, many known escapes)"
	case "SYS_MODULE":
		return "loads kernel modules"
	case "SYS_RAWIO":
		return "gives raw access to I/O ports and memory"
	case "SYS_PTRACE":
		return "reads and changes other processes' memory and weakens the seccomp filter"
	case "SYS_BOOT":
		return "reboots the host"
	case "SYS_TIME":
		return "sets the host's clock, which is not namespaced"
	case "SYS_PACCT":
		return "switches the host's process accounting"
	case "SYS_TTY_CONFIG":
		return "configures the host's terminals"
	case "DAC_READ_SEARCH":
		return "bypasses read permissions and opens host files by handle (a known escape)"
	case "LINUX_IMMUTABLE":
		return "makes files immutable, beyond the owner's tools"
	case "MAC_ADMIN", "MAC_OVERRIDE":
		return "changes or bypasses the host's mandatory access control"
	case "SYSLOG":
		return "reads and clears the kernel log, which leaks kernel addresses"
	case "AUDIT_CONTROL", "AUDIT_READ":
		return "controls or reads the host's audit log"
	case "BPF", "PERFMON":
		return "loads BPF programs or observes the whole host"
	case "CHECKPOINT_RESTORE":
		return "is meant for checkpoint tools only"
	case "IPC_OWNER":
		return "bypasses permission checks on IPC objects"
	case "BLOCK_SUSPEND", "WAKE_ALARM":
		return "controls the host's power management"
	}
	return ""
}

// capabilityReason says why a service may not keep capability c, given
// whether the app has PermPrivilegedCapabilities (privileged) and
// PermPrivileged (host); "" means it may.
func capabilityReason(c string, privileged, host bool) string {
	if strings.HasPrefix(c, "CAP_") {
		return "write " + c[len("CAP_"):] + ", without the CAP_ prefix"
	}
	switch capabilityClass(c) {
	case capBasic:
		return ""
	case capPrivileged:
		if !privileged {
			return c + ` needs the "privileged-capabilities" permission (only NET_BIND_SERVICE, CHOWN, SETUID, SETGID, DAC_OVERRIDE, FOWNER and KILL need none)`
		}
		return ""
	case capHost:
		if !host {
			return c + ` needs the "privileged" permission: it ` + hostCapability(c)
		}
		return ""
	}
	return c + " is not a Linux capability (write them in capitals, such as NET_ADMIN)"
}

// devicePatterns are the host devices an app may ask for (with the "devices"
// permission): GPUs and accelerators, USB, serial adapters, sound, video
// (DVB tuners, the Raspberry Pi's video core), TUN and FUSE. Disks, memory,
// consoles and the like are refused.
var devicePatterns = regexp.MustCompile(`^/dev/(` + strings.Join([]string{
	`dri(/(card|renderD)[0-9]+)?`,
	`kfd`,
	`nvidia([0-9]+|ctl|-uvm|-uvm-tools|-modeset)`,
	`apex_[0-9]+`,
	`accel/accel[0-9]+`,
	`bus/usb(/[0-9]{3}(/[0-9]{3})?)?`,
	`tty(USB|ACM|AMA)[0-9]+`,
	`serial/by-(id|path)/[A-Za-z0-9_.:+-]+`,
	`snd(/[A-Za-z0-9_-]+)?`,
	`(video|media)[0-9]+`,
	`hidraw[0-9]+`,
	`dvb(/adapter[0-9]+(/[a-z]+[0-9]+)?)?`,
	`vchiq`,
	`vcsm`,
	`net/tun`,
	`fuse`,
}, "|") + `)$`)

// DeviceAllowlist names the kinds of host devices a service may list, for
// messages.
const DeviceAllowlist = "GPUs and accelerators, USB, serial adapters, sound, video, hidraw, DVB tuners, the Raspberry Pi's /dev/vchiq and /dev/vcsm, /dev/net/tun, /dev/fuse"

// DeviceAllowed reports whether a service may list the host device d (with
// the "devices" permission).
func DeviceAllowed(d string) bool { return devicePatterns.MatchString(d) }

// deviceReason says why a device path may not be passed through, or "".
func deviceReason(d string) string {
	if !strings.HasPrefix(d, "/dev/") {
		return d + " must be a path under /dev"
	}
	if !DeviceAllowed(d) {
		return d + " is not on the device allowlist (" + DeviceAllowlist + ")"
	}
	return ""
}
