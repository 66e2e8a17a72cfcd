package compose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/hearthbox/hearth/agent/manifest"
)

// The manifest's capability classes (docs/manifest.md). basicCaps are what
// every imported service keeps, as Docker gives them by default; Docker's
// other defaults (FSETID, SETPCAP, NET_RAW, SYS_CHROOT, MKNOD, AUDIT_WRITE,
// SETFCAP) need a permission and are kept only when the file asks.
// hostCaps reach the host itself and need the "privileged" permission.
var (
	basicCaps      = []string{"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "NET_BIND_SERVICE", "SETGID", "SETUID"}
	privilegedCaps = []string{"AUDIT_WRITE", "FSETID", "IPC_LOCK", "LEASE", "MKNOD", "NET_ADMIN", "NET_BROADCAST",
		"NET_RAW", "SETFCAP", "SETPCAP", "SYS_CHROOT", "SYS_NICE", "SYS_RESOURCE"}
	hostCaps = []string{"AUDIT_CONTROL", "AUDIT_READ", "BLOCK_SUSPEND", "BPF", "CHECKPOINT_RESTORE", "DAC_READ_SEARCH",
		"IPC_OWNER", "LINUX_IMMUTABLE", "MAC_ADMIN", "MAC_OVERRIDE", "PERFMON", "SYSLOG", "SYS_ADMIN", "SYS_BOOT",
		"SYS_MODULE", "SYS_PACCT", "SYS_PTRACE", "SYS_RAWIO", "SYS_TIME", "SYS_TTY_CONFIG", "WAKE_ALARM"}
)

// security maps privileged, cap_add, cap_drop, devices and the host
// namespaces.
func (t *translator) security(name string, s types.ServiceConfig, out *manifest.Service) {
	caps := slices.Clone(basicCaps)
	for _, c := range s.CapDrop {
		c = capName(c)
		if c == "ALL" {
			caps = nil
		}
		caps = slices.DeleteFunc(caps, func(x string) bool { return x == c })
	}
	add := func(c string) {
		if !slices.Contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if s.Privileged {
		out.Privileged = true
		t.perms[manifest.PermPrivileged] = true
	}
	for i, c := range s.CapAdd {
		key := fmt.Sprintf("cap_add[%d]", i)
		c = capName(c)
		switch {
		case c == "ALL":
			t.perms[manifest.PermPrivilegedCapabilities] = true
			t.perms[manifest.PermPrivileged] = true
			for _, p := range slices.Concat(privilegedCaps, hostCaps) {
				add(p)
			}
		case slices.Contains(basicCaps, c):
			add(c)
		case slices.Contains(privilegedCaps, c):
			t.perms[manifest.PermPrivilegedCapabilities] = true
			add(c)
		case slices.Contains(hostCaps, c):
			t.perms[manifest.PermPrivileged] = true
			add(c)
		default:
			t.refuse(name, key, "%q is not a Linux capability", c)
			return
		}
	}
	slices.Sort(caps)
	out.Capabilities = caps
	for i, d := range s.Devices {
		t.device(name, fmt.Sprintf("devices[%d]", i), d.Source, d.Target, out)
	}
	if len(s.DeviceCgroupRules) > 0 {
		t.refuse(name, "device_cgroup_rules", "device rules open host devices beyond Hearth's device allowlist")
	}
	switch {
	case s.Pid == "host":
		out.HostPID = true
		t.perms[manifest.PermHostPID] = true
	case s.Pid != "":
		t.warn(name, "pid", "%q is not kept: the service sees its own processes only", s.Pid)
	}
	for _, ns := range []struct{ key, value string }{
		{"ipc", s.Ipc}, {"uts", s.Uts}, {"userns_mode", s.UserNSMode}, {"cgroup", s.Cgroup},
	} {
		if ns.value != "" && ns.value != "private" && ns.value != "shareable" {
			t.warn(name, ns.key, "%q is not kept: the service has its own", ns.value)
		}
	}
	for _, k := range sortedKeys(s.Sysctls) {
		if !manifest.NamespacedSysctl(k) {
			t.refuse(name, "sysctls."+k, "is not a namespaced kernel setting: it would change the host")
			return
		}
		if s.NetworkMode == "host" && strings.HasPrefix(k, "net.") {
			t.warn(name, "sysctls."+k, "is not kept: the service is on the host's network, whose settings an app does not change")
			continue
		}
		if out.Sysctls == nil {
			out.Sysctls = map[string]string{}
		}
		out.Sysctls[k] = s.Sysctls[k]
	}
	if s.UseAPISocket {
		t.refuse(name, "use_api_socket", "Hearth runs no Docker daemon and never hands out control of its containers")
	}
}

// device maps one host device: on the allowlist it is passed through
// (permission devices), else the import is refused.
func (t *translator) device(name, key, src, target string, out *manifest.Service) {
	if !manifest.DeviceAllowed(src) {
		t.refuse(name, key, "%s is not on Hearth's device allowlist (%s)", src, manifest.DeviceAllowlist)
		return
	}
	if target != "" && target != src {
		t.warn(name, key, "%s appears at its own path, not at %s", src, target)
	}
	if !slices.Contains(out.Devices, src) {
		out.Devices = append(out.Devices, src)
	}
	t.perms[manifest.PermDevices] = true
}

// network maps network_mode.
func (t *translator) network(name string, s types.ServiceConfig, out *manifest.Service) {
	switch mode := s.NetworkMode; {
	case mode == "" || mode == "bridge" || mode == "default":
	case mode == "host":
		t.hostNet[name] = true
		out.HostNetwork = true
		t.perms[manifest.PermHostNetwork] = true
		if len(t.order) > 1 {
			t.warn(name, "network_mode", "the service is on the host's network: the app's other services cannot reach it by name, and it reaches them only through their published ports")
		}
	case mode == "none":
		t.warn(name, "network_mode", "none is not kept: the service is on the app's network")
	default:
		t.warn(name, "network_mode", "%q is not kept: the service has its own address on the app's network (reach other services by name, not localhost)", mode)
	}
}

// capName writes a capability as the manifest does: capitals, no CAP_.
func capName(c string) string {
	return strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
}
