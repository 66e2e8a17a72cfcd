package osimage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Packages are what the image installs besides the minbase variant's
// essentials: no Recommends, no SSH server unless asked for.
func Packages(arch Arch, ssh bool) []string {
	p := []string{
		"systemd", "systemd-sysv", "udev", "dbus", "systemd-timesyncd", "systemd-resolved",
		"containerd", "runc", "containernetworking-plugins", "nftables", "iptables",
		"ca-certificates", "e2fsprogs", "fdisk",
		"initramfs-tools", "kmod", "zstd", "iproute2",
		// Backups (docs/backup.md): hearthd drives restic.
		"restic",
	}
	switch arch {
	case AMD64:
		p = append(p, "linux-image-amd64", "systemd-boot-efi")
	case ARM64:
		p = append(p, "linux-image-arm64", "raspi-firmware")
	}
	if ssh {
		p = append(p, "openssh-server")
	}
	sort.Strings(p)
	return p
}

// components are the archive components an architecture needs:
// raspi-firmware is in non-free-firmware.
func components(arch Arch) string {
	if arch == ARM64 {
		return "main,non-free-firmware"
	}
	return "main"
}

// initramfsModules are the only modules the initramfs carries
// (MODULES=list: MODULES=dep would look at the build machine's hardware).
func initramfsModules(arch Arch) []string {
	m := []string{
		// disks: virtio (qemu, VMs), NVMe, SATA, USB sticks, SD and eMMC
		"virtio_pci", "virtio_blk", "virtio_scsi", "sd_mod", "nvme", "ahci",
		"xhci_pci", "xhci_hcd", "ehci_pci", "usb_storage", "uas", "mmc_block",
		// file systems
		"ext4", "vfat", "nls_cp437", "nls_ascii",
	}
	switch arch {
	case AMD64:
		m = append(m, "sdhci_pci", "sdhci_acpi")
	case ARM64:
		// the Pi 4's SD controller, PCIe (its USB), USB reset; the Pi 5's
		// SD controller; qemu's virt machine
		m = append(m, "sdhci_iproc", "pcie_brcmstb", "reset_raspberrypi", "sdhci_brcmstb", "virtio_mmio")
	}
	return m
}

// setupFiles are written into the new root before any package is
// installed: they shape what dpkg unpacks and the initramfs it makes.
func setupFiles(arch Arch) []File {
	excludes := strings.Join([]string{
		"# Hearth: no documentation, manuals or translations on the box.",
		"path-exclude=/usr/share/doc/*",
		"path-include=/usr/share/doc/*/copyright",
		"path-exclude=/usr/share/man/*",
		"path-exclude=/usr/share/info/*",
		"path-exclude=/usr/share/locale/*",
		"path-exclude=/usr/share/lintian/*",
		"path-exclude=/usr/share/bash-completion/*",
		"path-exclude=/usr/share/zsh/*",
		"# containerd's client and its legacy shims: hearthd talks to containerd",
		"# itself and runs containers with the runc v2 shim.",
		"path-exclude=/usr/bin/ctr",
		"path-exclude=/usr/bin/containerd-shim",
		"path-exclude=/usr/bin/containerd-shim-runc-v1",
		"",
	}, "\n")
	initramfs := strings.Join([]string{
		"# Hearth: the initramfs is made once, at build time, with a fixed list of",
		"# modules (/etc/initramfs-tools/modules), whatever machine builds it.",
		"MODULES=list",
		"COMPRESS=zstd",
		"RESUME=none",
		"",
	}, "\n")
	files := []File{
		{Path: "/etc/dpkg/dpkg.cfg.d/hearth-minimize", Mode: 0o644, Data: excludes},
		{Path: "/etc/initramfs-tools/conf.d/hearth.conf", Mode: 0o644, Data: initramfs},
		{Path: "/etc/initramfs-tools/modules", Mode: 0o644, Data: "# Hearth: the modules the initramfs carries.\n" + strings.Join(initramfsModules(arch), "\n") + "\n"},
		// No swap, no resume device to look for.
		{Path: "/etc/initramfs-tools/conf.d/resume", Mode: 0o644, Data: "RESUME=none\n"},
	}
	if arch == ARM64 {
		// raspi-firmware's hooks copy the kernel and firmware to
		// /boot/firmware; the build assembles the FAT partition itself.
		files = append(files, File{Path: "/etc/default/raspi-firmware", Mode: 0o644, Data: "KERNEL_ARCH=\"arm64\"\nCONSOLES=\"tty1 ttyAMA0,115200\"\nROOTPART=LABEL=hearth-system-a\n"},
			File{Path: "/boot/firmware/.keep", Mode: 0o644})
	}
	return files
}

// dpkgExcludes are the setup file's path rules, which mmdebstrap also
// needs on its command line: it unpacks the essential packages itself.
func dpkgExcludes() []string {
	var rules []string
	for _, l := range strings.Split(setupFiles(AMD64)[0].Data, "\n") {
		if strings.HasPrefix(l, "path-") {
			rules = append(rules, l)
		}
	}
	return rules
}

// baseKey names a cached base root: anything that changes what
// mmdebstrap makes changes it.
func baseKey(c Config) string {
	h := sha256.New()
	fmt.Fprintf(h, "v2\n%s\n", strings.Join(mmdebstrapArgs(c, "debs", "setup", "target"), "\n"))
	for _, f := range setupFiles(c.Arch) {
		fmt.Fprintf(h, "%s %o %q\n", f.Path, f.Mode, f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// mmdebstrapArgs is the command line that makes the base root in target,
// reusing and refilling the .deb cache in debs and taking the setup files
// from setup (a folder laid out like the root).
func mmdebstrapArgs(c Config, debs, setup, target string) []string {
	args := []string{
		"--variant=minbase",
		"--architectures=" + string(c.Arch),
		"--components=" + components(c.Arch),
		"--include=" + strings.Join(Packages(c.Arch, c.SSHKeys != ""), ","),
		"--aptopt=APT::Install-Recommends \"false\"",
	}
	// Keep the setup files' versions of configuration files (no prompt).
	args = append(args, "--dpkgopt=force-confdef", "--dpkgopt=force-confold")
	for _, r := range dpkgExcludes() {
		args = append(args, "--dpkgopt="+r)
	}
	return append(args,
		// The .deb cache (mmdebstrap's documented pattern): copy in before,
		// copy out after, and do not empty it in between.
		"--skip=download/empty",
		"--skip=essential/unlink",
		"--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives/",
		"--setup-hook=sync-in "+debs+" /var/cache/apt/archives/",
		"--setup-hook=sync-in "+setup+" /",
		"--customize-hook=sync-out /var/cache/apt/archives "+debs,
		c.Suite, target, c.Mirror,
	)
}
