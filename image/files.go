package osimage

import (
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

// File is a file the build writes into the root (or, with Link set, a
// symbolic link to Link).
type File struct {
	Path string
	Mode fs.FileMode
	Data string
	Link string
}

// console is the serial console of each architecture.
func console(arch Arch) string {
	if arch == ARM64 {
		return "ttyAMA0"
	}
	return "ttyS0"
}

// KernelCmdline is the command line every boot path uses: the root by
// partition UUID, the serial console last so that it is /dev/console, a
// quiet console, and a reboot 10 s after a kernel panic (no one is there to
// press the button).
func KernelCmdline(arch Arch, rootPartUUID string) string {
	return fmt.Sprintf("root=PARTUUID=%s rw rootwait fsck.repair=yes console=tty1 console=%s,115200 quiet loglevel=3 systemd.show_status=error panic=10", rootPartUUID, console(arch))
}

// rootFiles are the files the build writes into the system root: identity,
// mounts, network, journald, containerd, and Hearth's units.
func rootFiles(c Config, l Layout) []File {
	data := l.Part(RoleData).PartUUID(l)
	boot := l.Part(RoleBoot).PartUUID(l)
	f := []File{
		{Path: "/etc/hostname", Mode: 0o644, Data: "hearth\n"},
		{Path: "/etc/hosts", Mode: 0o644, Data: "127.0.0.1\tlocalhost\n127.0.1.1\thearth\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
		// Empty: systemd makes a fresh machine-id on the first boot.
		{Path: "/etc/machine-id", Mode: 0o444},
		{Path: "/etc/fstab", Mode: 0o644, Data: "# Hearth: the root comes from the kernel command line (root=PARTUUID=).\n" +
			fmt.Sprintf("PARTUUID=%s\t/var/lib/hearth\text4\tnoatime,nodev,nosuid,x-systemd.device-timeout=5min\t0\t2\n", data) +
			// The boot partition, where an owner may drop the factory-reset
			// marker (hearthd --reset-marker): root's only, never a reason
			// not to boot.
			fmt.Sprintf("PARTUUID=%s\t%s\tvfat\tnoatime,nodev,nosuid,noexec,umask=0077,nofail,x-systemd.device-timeout=30s\t0\t0\n", boot, BootMount)},
		{Path: "/etc/resolv.conf", Link: "../run/systemd/resolve/stub-resolv.conf"},
		{Path: "/etc/systemd/journald.conf.d/hearth.conf", Mode: 0o644, Data: "[Journal]\nStorage=persistent\nSystemMaxUse=64M\nRuntimeMaxUse=32M\n"},
		{Path: "/etc/systemd/network/80-hearth-wired.network", Mode: 0o644, Data: unit(
			"Match", "Type=ether", "Name=!veth* hearth* cni* docker*",
			"", "Network", "DHCP=yes", "MulticastDNS=resolve", "LLMNR=no", "IPv6AcceptRA=yes",
			"", "DHCPv4", "UseDomains=yes")},
		// mDNS: hearthd's own responder answers hearth.local, the apps'
		// names and DNS-SD (docs/reachability.md); systemd-resolved only
		// resolves .local names for the box, so the two never answer for
		// the same name (hearthd would take resolved's answer for a
		// conflict and rename itself).
		{Path: "/etc/systemd/resolved.conf.d/hearth.conf", Mode: 0o644, Data: unit("Resolve", "MulticastDNS=resolve", "LLMNR=no")},
		// A box with no network still starts Hearth (its setup code is on
		// the console), after at most 20 s.
		{Path: "/etc/systemd/system/systemd-networkd-wait-online.service.d/hearth.conf", Mode: 0o644, Data: unit(
			"Service", "ExecStart=", "ExecStart=/usr/lib/systemd/systemd-networkd-wait-online --any --timeout=20")},
		{Path: "/etc/containerd/config.toml", Mode: 0o644, Data: "# Hearth: containerd's storage is on the data partition.\nversion = 2\nroot = \"/var/lib/hearth/containerd\"\nstate = \"/run/containerd\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n"},
		{Path: "/etc/systemd/system/containerd.service.d/hearth.conf", Mode: 0o644, Data: unit("Unit", "RequiresMountsFor=/var/lib/hearth")},
		{Path: "/etc/systemd/system/hearthd.service", Mode: 0o644, Data: hearthdUnit()},
		{Path: BootMount, Mode: fs.ModeDir | 0o700},
		{Path: "/etc/systemd/system/hearth-clock.service", Mode: 0o644, Data: unit(
			"Unit", "Description=Hold time-sync.target until the clock is synchronized",
			"Documentation=https://github.com/hearthbox/hearth/blob/main/docs/image.md",
			"DefaultDependencies=no", "After=systemd-timesyncd.service", "Wants=systemd-timesyncd.service", "Before=time-sync.target", "Wants=time-sync.target",
			"", "Service", "Type=oneshot", "RemainAfterExit=yes", "ExecStart=/usr/lib/hearth/wait-clock", "TimeoutStartSec=100",
			"", "Install", "WantedBy=sysinit.target")},
		{Path: "/usr/lib/hearth/wait-clock", Mode: 0o755, Data: waitClock},
		{Path: "/etc/systemd/system/hearth-grow-data.service", Mode: 0o644, Data: unit(
			"Unit", "Description=Grow Hearth's data partition to the end of the disk",
			"Documentation=https://github.com/hearthbox/hearth/blob/main/docs/image.md",
			"RequiresMountsFor=/var/lib/hearth", "After=var-lib-hearth.mount",
			"", "Service", "Type=oneshot", "RemainAfterExit=yes", "ExecStart=/usr/lib/hearth/grow-data "+data,
			"", "Install", "WantedBy=multi-user.target")},
		{Path: "/usr/lib/hearth/grow-data", Mode: 0o755, Data: growData},
		// Its time of change is the image's build: systemd sets a clock
		// found earlier (a Pi has no RTC) to it at boot.
		{Path: "/usr/lib/clock-epoch", Mode: 0o644},
		{Path: "/var/lib/hearth", Mode: fs.ModeDir | 0o700},
		{Path: "/etc/issue.d", Mode: fs.ModeDir | 0o755},
	}
	for _, u := range maskedUnits() {
		f = append(f, File{Path: "/etc/systemd/system/" + u, Link: "/dev/null"})
	}
	for _, g := range maskedGenerators() {
		f = append(f, File{Path: "/etc/systemd/system-generators/" + g, Link: "/dev/null"})
	}
	if c.SSHKeys != "" {
		f = append(f,
			File{Path: "/root/.ssh", Mode: fs.ModeDir | 0o700},
			File{Path: "/root/.ssh/authorized_keys", Mode: 0o600, Data: strings.TrimSpace(c.SSHKeys) + "\n"},
			File{Path: "/etc/ssh/sshd_config.d/hearth.conf", Mode: 0o644, Data: "# Hearth: keys only.\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"})
	}
	if s := c.Samples; s != nil {
		f = append(f, sampleFiles(c.Arch, *s)...)
	}
	sort.Slice(f, func(i, j int) bool { return f[i].Path < f[j].Path })
	return f
}

// Where the image mounts its boot partition (the ESP on amd64, the Pi's
// firmware partition on arm64), and the paths hearthd is given there and
// in getty's issue folder (docs/firstboot.md).
const (
	BootMount   = "/boot/firmware"
	ResetMarker = BootMount + "/hearth-reset"
	ConsoleFile = "/etc/issue.d/hearth.issue"
)

// hearthdFlags are the flags every image passes hearthd: the console file
// that shows the setup code and the factory-reset marker.
func hearthdFlags() string {
	return "--console-file " + ConsoleFile + " --reset-marker " + ResetMarker + " --mdns"
}

// maskedUnits are units an appliance does without. No apt runs on the
// box; boot time is not spent on scrubbing or backing up dpkg's database,
// nor on file systems and registrations nothing uses (binfmt, debugfs,
// tracefs, configfs, fusectl, huge pages). fstrim.timer stays: it costs
// nothing at boot, and SSDs and SD cards want their weekly TRIM.
func maskedUnits() []string {
	return []string{"apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer", "e2scrub_all.timer", "e2scrub_reap.service",
		"systemd-binfmt.service", "proc-sys-fs-binfmt_misc.automount", "proc-sys-fs-binfmt_misc.mount",
		"sys-kernel-debug.mount", "sys-kernel-tracing.mount", "sys-kernel-config.mount", "sys-fs-fuse-connections.mount", "dev-hugepages.mount"}
}

// maskedGenerators are systemd generators an appliance does without: each
// is a program systemd runs at every boot, seconds under emulation. The
// mounts are fstab's (not gpt-auto's); no SysV scripts, rc.local, TPM,
// hibernation, offline updates, systemd.run= or SSH over vsock. Kept:
// fstab, getty (the serial console's prompt) and debug (systemd.mask= on
// the kernel command line, to repair a box).
func maskedGenerators() []string {
	return []string{"systemd-gpt-auto-generator", "systemd-hibernate-resume-generator", "systemd-rc-local-generator",
		"systemd-run-generator", "systemd-ssh-generator", "systemd-system-update-generator", "systemd-sysv-generator", "systemd-tpm2-generator"}
}

// hearthdUnit runs hearthd under systemd: notify, watchdog, after
// containerd, the network and a sane clock.
func hearthdUnit() string {
	return unit(
		"Unit", "Description=Hearth agent",
		"Documentation=https://github.com/hearthbox/hearth/blob/main/docs/image.md",
		// Not network-online.target: the proxy listens on every address,
		// and the mDNS responder picks up addresses as DHCP gives them.
		// Not time-sync.target: the clock starts no earlier than the
		// image's build (/usr/lib/clock-epoch), enough for the LAN CA, and
		// a Pi with no RTC and no network must still show its setup code.
		"Wants=containerd.service",
		"After=containerd.service network.target",
		"RequiresMountsFor=/var/lib/hearth", "WantsMountsFor="+BootMount,
		"", "Service", "Type=notify", "NotifyAccess=main",
		"ExecStart=/usr/bin/hearthd --state /var/lib/hearth --containerd /run/containerd/containerd.sock "+hearthdFlags(),
		"Restart=on-failure", "RestartSec=2s", "WatchdogSec=30s", "TimeoutStartSec=5min",
		"RuntimeDirectory=hearth", "RuntimeDirectoryMode=0700", "RuntimeDirectoryPreserve=yes",
		// Not ProtectHostname or ProtectClock: their seccomp filters would
		// reach the containers of the test image's private containerd.
		"ProtectHome=yes", "ProtectSystem=full",
		// firstboot shows the setup code on the consoles through getty's
		// issue folder, and removes the factory-reset marker once done.
		"ReadWritePaths=-/etc/issue.d -"+BootMount,
		"", "Install", "WantedBy=multi-user.target")
}

// sampleFiles make the test variant: the sample registry, hearthd trusting
// the sample catalog (its --dev mode: the only way hearthd trusts another
// catalog), and the API on a TCP port for the test outside the machine.
func sampleFiles(arch Arch, s Samples) []File {
	tty := console(arch)
	return []File{
		// hearthd --dev does not run agetty --reload: the serial prompt
		// starts once the setup code is in its issue file.
		{Path: "/etc/systemd/system/serial-getty@" + tty + ".service.d/hearth-test.conf", Mode: 0o644, Data: unit("Unit", "After=hearthd.service")},
		// Where the boot went, on the serial console once it is over.
		{Path: "/etc/systemd/system/hearth-boot-analyze.service", Mode: 0o644, Data: unit(
			"Unit", "Description=Print where the boot went (test image only)",
			"", "Service", "Type=exec", "ExecStart=/usr/lib/hearth/boot-analyze /dev/"+tty,
			"", "Install", "WantedBy=multi-user.target")},
		{Path: "/usr/lib/hearth/boot-analyze", Mode: 0o755, Data: bootAnalyze},
		// The box's own containerd is hearthd's private one here.
		{Path: "/etc/systemd/system/containerd.service", Link: "/dev/null"},
		{Path: "/usr/share/hearth/samples/catalog.json", Mode: 0o644, Data: string(s.Catalog)},
		{Path: "/etc/systemd/system/hearth-samplereg.service", Mode: 0o644, Data: unit(
			"Unit", "Description=Hearth sample registry (test image only)",
			// Idle: hearthd's start, which an owner's image measures,
			// comes first.
			"", "Service", "Type=notify", "DynamicUser=yes", "TimeoutStartSec=5min", "CPUWeight=idle",
			"ExecStart=/usr/lib/hearth/hearth-samplereg -addr "+s.Registry.String()+" -layout /usr/share/hearth/samples/oci",
			"", "Install", "WantedBy=multi-user.target")},
		// Not After=: hearthd needs the registry only for installs, and
		// an owner's image has none to wait for.
		{Path: "/etc/systemd/system/hearthd.service.d/samples.conf", Mode: 0o644, Data: unit(
			"Unit", "Wants=hearth-samplereg.service",
			"", "Service", "ExecStart=",
			"ExecStart=/usr/bin/hearthd --dev --state /var/lib/hearth --socket /run/hearth/hearthd.sock --http :80 --https :443 --dev-catalog /usr/share/hearth/samples/catalog.json --dev-catalog-key "+s.Key+" "+hearthdFlags())},
		{Path: "/etc/systemd/system/hearth-api-tcp.socket", Mode: 0o644, Data: unit(
			"Unit", "Description=hearthd's API on TCP (test image only)",
			"", "Socket", fmt.Sprintf("ListenStream=%d", s.APIPort),
			"", "Install", "WantedBy=sockets.target")},
		{Path: "/etc/systemd/system/hearth-api-tcp.service", Mode: 0o644, Data: unit(
			"Unit", "Description=hearthd's API on TCP (test image only)", "Requires=hearth-api-tcp.socket", "After=hearth-api-tcp.socket",
			"", "Service", "ExecStart=/usr/lib/systemd/systemd-socket-proxyd /run/hearth/hearthd.sock")},
	}
}

// bootAnalyze waits for the boot to end and prints systemd-analyze's view
// of it between markers the boot test looks for.
const bootAnalyze = `#!/bin/sh
# Hearth test image: where the boot went, on the console $1. Installed by
# the image build (image/files.go).
systemctl is-system-running --wait >/dev/null 2>&1
# The serial getty hangs up the line as it starts: open it afterwards.
sleep 5
out=/run/hearth-boot-analyze.txt
{
	echo "=== hearth-boot-analyze"
	echo "boot partition: $(findmnt -n -o FSTYPE ` + BootMount + `)"
	systemd-analyze time
	systemd-analyze critical-chain hearthd.service
	systemd-analyze blame | head -n 30
	journalctl -b -k -o short-monotonic | grep -E 'Linux version|Run /init|EXT4-fs \(vda' | head -n 6
	journalctl -b -o short-monotonic -u hearthd | grep -E 'Starting|containerd started|CA created|serving|ready' | head -n 8
	echo "=== hearth-boot-analyze end"
} >"$out" 2>&1
cat "$out" >"$1"
`

// unit renders an INI file from section names and lines: a line after an
// empty one is a section name.
func unit(lines ...string) string {
	var b strings.Builder
	section := true
	for _, l := range lines {
		switch {
		case l == "":
			b.WriteString("\n")
			section = true
		case section:
			fmt.Fprintf(&b, "[%s]\n", l)
			section = false
		default:
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// waitClock waits for a sane clock: a real-time clock set it at boot, or
// NTP synchronized it. A Raspberry Pi 4 has no RTC and wakes up with the
// time it last saved.
const waitClock = `#!/bin/sh
# Hearth: wait (at most 90 s) until the clock can be trusted. Installed by
# the image build (image/files.go).
if [ "$(cat /sys/class/rtc/rtc0/hctosys 2>/dev/null)" = 1 ]; then
	exit 0
fi
i=0
while [ ! -e /run/systemd/timesync/synchronized ] && [ "$i" -lt 90 ]; do
	sleep 1
	i=$((i + 1))
done
exit 0
`

// growData grows the data partition and its file system to the end of the
// disk; it does nothing when they already fill it.
const growData = `#!/bin/sh
# Hearth: grow the data partition (PARTUUID $1), the disk's last, to the end
# of its disk, then its ext4 file system, online. Installed by the image
# build (image/files.go).
set -eu
part=$(readlink -f "/dev/disk/by-partuuid/$1")
name=${part#/dev/}
disk=/dev/$(basename "$(readlink -f "/sys/class/block/$name/..")")
num=$(cat "/sys/class/block/$name/partition")
end=$(( $(cat "/sys/class/block/$name/start") + $(cat "/sys/class/block/$name/size") ))
total=$(cat "/sys/class/block/${disk#/dev/}/size")
# Already at the end (less than 4 MiB left, GPT's backup header included):
# leave the table alone.
if [ $((total - end)) -lt 8192 ]; then
	exit 0
fi
# sfdisk moves GPT's backup header to the new end of the disk as it writes.
echo ',+' | sfdisk --quiet --no-reread --no-tell-kernel -N "$num" "$disk"
partx --update --nr "$num" "$disk"
resize2fs "$part"
`

// units are enabled with systemctl --root.
func enabledUnits(c Config) []string {
	u := []string{"hearthd.service", "hearth-grow-data.service", "hearth-clock.service",
		"systemd-networkd.service", "systemd-resolved.service", "systemd-timesyncd.service"}
	if c.Samples == nil {
		u = append(u, "containerd.service")
	}
	if c.SSHKeys != "" {
		u = append(u, "ssh.service")
	}
	if c.Samples != nil {
		u = append(u, "hearth-samplereg.service", "hearth-api-tcp.socket", "hearth-boot-analyze.service")
	}
	return u
}
