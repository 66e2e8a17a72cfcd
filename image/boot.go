package osimage

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// bootFiles are the boot partition's own files: systemd-boot's loader
// configuration (amd64), or the Pi firmware's config.txt and cmdline.txt
// (arm64). The kernel and initrd of slot A go to /hearth-a (amd64) or to
// the top (arm64, where the firmware looks).
func bootFiles(arch Arch, cmdline string) []File {
	if arch == ARM64 {
		return []File{
			{Path: "/cmdline.txt", Mode: 0o644, Data: cmdline + "\n"},
			{Path: "/config.txt", Mode: 0o644, Data: strings.Join([]string{
				"# Hearth: Raspberry Pi 4 and 5, 64-bit, Debian's kernel.",
				"[all]",
				"arm_64bit=1",
				"kernel=vmlinuz",
				"initramfs initrd.img followkernel",
				"# the PL011 UART on GPIO 14/15 is ttyAMA0 (Bluetooth gives it up)",
				"enable_uart=1",
				"dtoverlay=disable-bt",
				"disable_overscan=1",
				"",
			}, "\n")},
		}
	}
	return []File{
		{Path: "/loader/loader.conf", Mode: 0o644, Data: "timeout 0\ndefault hearth-a.conf\neditor no\nconsole-mode keep\n"},
		{Path: "/loader/entries/hearth-a.conf", Mode: 0o644, Data: "title Hearth (system A)\nlinux /hearth-a/vmlinuz\ninitrd /hearth-a/initrd.img\noptions " + cmdline + "\n"},
	}
}

// bootTree lays out the boot partition's content in dir and moves the
// kernel and initrd out of the root's /boot. It returns their new paths.
func (b *builder) bootTree(root, dir string, l Layout, cmdline string) (kernel, initrd string, err error) {
	arch := b.cfg.Arch
	kernelSrc, err := one(filepath.Join(root, "boot", "vmlinuz-*"))
	if err != nil {
		return "", "", err
	}
	initrdSrc, err := one(filepath.Join(root, "boot", "initrd.img-*"))
	if err != nil {
		return "", "", err
	}
	kdir := filepath.Join(dir, "hearth-a")
	if arch == ARM64 {
		kdir = dir
	}
	kernel, initrd = filepath.Join(kdir, "vmlinuz"), filepath.Join(kdir, "initrd.img")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return "", "", err
	}
	for src, dst := range map[string]string{kernelSrc: kernel, initrdSrc: initrd} {
		if err := copyFile(src, dst); err != nil {
			return "", "", err
		}
		if err := os.Remove(src); err != nil {
			return "", "", err
		}
	}
	if err := writeFiles(dir, bootFiles(arch, cmdline)); err != nil {
		return "", "", err
	}
	switch arch {
	case AMD64:
		efi := filepath.Join(root, "usr/lib/systemd/boot/efi/systemd-bootx64.efi")
		if err := copyFile(efi, filepath.Join(dir, "EFI/BOOT/BOOTX64.EFI")); err != nil {
			return "", "", err
		}
	case ARM64:
		if err := b.piFirmware(root, dir, kernelSrc); err != nil {
			return "", "", err
		}
	}
	return kernel, initrd, nil
}

// piFirmware copies raspi-firmware's files and the kernel's Pi device
// trees to the top of the firmware partition.
func (b *builder) piFirmware(root, dir, kernelSrc string) error {
	fw, err := filepath.Glob(filepath.Join(root, "usr/lib/raspi-firmware/*"))
	if err != nil || len(fw) == 0 {
		return fmt.Errorf("no firmware in /usr/lib/raspi-firmware: is raspi-firmware installed?")
	}
	version := strings.TrimPrefix(filepath.Base(kernelSrc), "vmlinuz-")
	dtbs, _ := filepath.Glob(filepath.Join(root, "usr/lib/linux-image-"+version, "broadcom", "bcm27*-rpi-*.dtb"))
	if len(dtbs) == 0 {
		return fmt.Errorf("no Raspberry Pi device trees for kernel %s", version)
	}
	for _, src := range append(fw, dtbs...) {
		st, err := os.Stat(src)
		if err != nil {
			return err
		}
		if st.IsDir() {
			continue
		}
		if err := copyFile(src, filepath.Join(dir, filepath.Base(src))); err != nil {
			return err
		}
	}
	// What raspi-firmware's hooks copied into the root is not needed there.
	old, _ := filepath.Glob(filepath.Join(root, "boot/firmware/*"))
	for _, p := range old {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return nil
}

// one returns the single match of pattern.
func one(pattern string) (string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return "", err
	}
	sort.Strings(m)
	if len(m) != 1 {
		return "", fmt.Errorf("want exactly one %s, found %d", pattern, len(m))
	}
	return m[0], nil
}
