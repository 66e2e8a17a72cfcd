package osimage

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Result is what Build made.
type Result struct {
	// Image is the raw disk image; Compressed its .zst (with
	// Config.Compress).
	Image, Compressed string
	// Kernel and Initrd are copies of the boot files (for direct kernel
	// boot, as the arm64 boot test does).
	Kernel, Initrd string
	// Cmdline is the kernel command line the boot partition carries.
	Cmdline string
	Layout  Layout
	// RawSize is the image's apparent size, CompressedSize the .zst's.
	RawSize, CompressedSize int64
	// RootBytes is what the system root holds.
	RootBytes int64
	// Phases are the seconds each step took.
	Phases map[string]float64
}

// builder carries one build's settings and logger.
type builder struct {
	cfg    Config
	log    *slog.Logger
	phases map[string]float64
}

// Build makes the image Config describes. The base root (the expensive
// part: downloads and package installation, minutes under qemu-user) is
// cached by the package list; everything else is redone each time.
func Build(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return Result{}, err
	}
	b := &builder{cfg: cfg, log: cfg.Logger.With("component", "osimage", "arch", string(cfg.Arch)), phases: map[string]float64{}}
	res, err := b.build(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("build image %s: %w", cfg.Name, err)
	}
	res.Phases = b.phases
	return res, nil
}

func (b *builder) phase(name string, start time.Time) {
	s := time.Since(start).Seconds()
	b.phases[name] = s
	b.log.Info("phase done", "phase", name, "seconds", fmt.Sprintf("%.1f", s))
}

func (b *builder) build(ctx context.Context) (Result, error) {
	c := b.cfg
	work := filepath.Join(c.OutDir, "work-"+c.Name)
	if err := os.RemoveAll(work); err != nil {
		return Result{}, err
	}
	if err := os.MkdirAll(work, 0o700); err != nil {
		return Result{}, err
	}
	t := time.Now()
	base, err := b.baseRoot(ctx)
	if err != nil {
		return Result{}, err
	}
	b.phase("base", t)

	t = time.Now()
	root := filepath.Join(work, "root")
	if _, err := b.run(ctx, nil, "cp", "-a", "--reflink=auto", base, root); err != nil {
		return Result{}, err
	}
	b.phase("copy", t)

	t = time.Now()
	if err := b.goBuild(ctx, root); err != nil {
		return Result{}, err
	}
	b.phase("go-build", t)

	t = time.Now()
	ids, err := NewIDs(c.Arch)
	if err != nil {
		return Result{}, err
	}
	l := PlanLayout(c.Arch, c.SystemSize, c.DataSize, ids)
	if err := b.configure(ctx, root, l); err != nil {
		return Result{}, err
	}
	bootTree := filepath.Join(work, "boot")
	res := Result{Layout: l, Cmdline: KernelCmdline(c.Arch, l.Part(RoleSystemA).PartUUID(l))}
	res.Kernel, res.Initrd, err = b.bootTree(root, bootTree, l, res.Cmdline)
	if err != nil {
		return Result{}, err
	}
	b.phase("configure", t)

	t = time.Now()
	if res.RootBytes, err = treeSize(root); err != nil {
		return Result{}, err
	}
	parts, err := b.filesystems(ctx, work, root, bootTree, l, ids)
	if err != nil {
		return Result{}, err
	}
	b.phase("filesystems", t)

	t = time.Now()
	res.Image = filepath.Join(c.OutDir, c.Name+".img")
	if err := b.assemble(ctx, res.Image, l, parts); err != nil {
		return Result{}, err
	}
	res.RawSize = l.Size
	// Keep the boot files beside the image for direct kernel boot.
	for _, p := range []*string{&res.Kernel, &res.Initrd} {
		dst := filepath.Join(c.OutDir, c.Name+"."+filepath.Base(*p))
		if err := copyFile(*p, dst); err != nil {
			return Result{}, err
		}
		*p = dst
	}
	b.phase("assemble", t)

	if c.Compress {
		t = time.Now()
		res.Compressed = res.Image + ".zst"
		if _, err := b.run(ctx, nil, c.Tools.Zstd, "-q", "-f", "-T0", "-10", res.Image, "-o", res.Compressed); err != nil {
			return Result{}, err
		}
		st, err := os.Stat(res.Compressed)
		if err != nil {
			return Result{}, err
		}
		res.CompressedSize = st.Size()
		b.phase("compress", t)
	}
	if err := os.RemoveAll(work); err != nil {
		return Result{}, err
	}
	return res, nil
}

// baseRoot returns the cached root mmdebstrap made for this package list,
// making it first if needed.
func (b *builder) baseRoot(ctx context.Context) (string, error) {
	c := b.cfg
	dir := filepath.Join(c.CacheDir, string(c.Arch))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// One build at a time makes a base root: another waits, then uses it.
	lock, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	base := filepath.Join(dir, "base-"+baseKey(c))
	if _, err := os.Stat(filepath.Join(base, "etc", "os-release")); err == nil {
		b.log.Info("base root cached", "dir", base)
		return base, nil
	}
	debs := filepath.Join(dir, "debs")
	setup := filepath.Join(dir, "setup-"+baseKey(c))
	tmp := base + ".tmp"
	for _, d := range []string{setup, tmp} {
		if err := os.RemoveAll(d); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(debs, 0o755); err != nil {
		return "", err
	}
	if err := os.MkdirAll(setup, 0o755); err != nil {
		return "", err
	}
	if err := writeFiles(setup, setupFiles(c.Arch)); err != nil {
		return "", err
	}
	logPath := filepath.Join(dir, "mmdebstrap.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return "", err
	}
	defer logf.Close()
	b.log.Info("making the base root with mmdebstrap (minutes; cached afterwards)", "log", logPath)
	cmd := exec.CommandContext(ctx, c.Tools.Mmdebstrap, mmdebstrapArgs(c, debs, setup, tmp)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("mmdebstrap (see %s): %w", logPath, err)
	}
	if err := os.RemoveAll(setup); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, base); err != nil {
		return "", err
	}
	// Older bases (another package list) are not used again.
	old, _ := filepath.Glob(filepath.Join(dir, "base-*"))
	for _, o := range old {
		if o != base {
			b.log.Info("removing an old base root", "dir", o)
			if err := os.RemoveAll(o); err != nil {
				return "", err
			}
		}
	}
	return base, nil
}

// goBuild builds hearthd and hearth, static, for the target.
func (b *builder) goBuild(ctx context.Context, root string) error {
	c := b.cfg
	bins := map[string]string{"./cmd/hearthd": "/usr/bin/hearthd", "./cmd/hearth": "/usr/bin/hearth"}
	if c.Samples != nil {
		bins["./image/cmd/hearth-samplereg"] = "/usr/lib/hearth/hearth-samplereg"
	}
	for pkg, dst := range bins {
		cmd := exec.CommandContext(ctx, c.Tools.Go, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(root, dst), pkg)
		cmd.Dir = c.ModuleDir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+string(c.Arch))
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w: %s", pkg, err, out)
		}
	}
	return nil
}

// configure writes the image's files into the root and enables its units.
func (b *builder) configure(ctx context.Context, root string, l Layout) error {
	c := b.cfg
	for _, p := range []string{"/var/lib/dbus/machine-id", "/etc/ssh/ssh_host_ecdsa_key", "/etc/ssh/ssh_host_ecdsa_key.pub",
		"/etc/ssh/ssh_host_ed25519_key", "/etc/ssh/ssh_host_ed25519_key.pub", "/etc/ssh/ssh_host_rsa_key", "/etc/ssh/ssh_host_rsa_key.pub",
		"/etc/resolv.conf"} {
		if err := os.Remove(filepath.Join(root, p)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if err := writeFiles(root, rootFiles(c, l)); err != nil {
		return err
	}
	if c.Samples != nil {
		oci := filepath.Join(root, "usr/share/hearth/samples/oci")
		if _, err := b.run(ctx, nil, "cp", "-a", c.Samples.Layout, oci); err != nil {
			return err
		}
		// The registry runs as a dynamic user: everything readable, root's.
		if err := readableTree(oci); err != nil {
			return err
		}
	}
	args := append([]string{"--root=" + root, "--quiet", "enable"}, enabledUnits(c)...)
	if _, err := b.run(ctx, nil, c.Tools.Systemctl, args...); err != nil {
		return err
	}
	return markUpdated(root)
}

// markUpdated writes the stamps systemd-update-done would write, so that
// the first boot does not rebuild caches the build made already (ldconfig,
// the hardware database, the journal catalog: minutes under emulation).
func markUpdated(root string) error {
	st, err := os.Stat(filepath.Join(root, "usr"))
	if err != nil {
		return err
	}
	stamp := fmt.Sprintf("# This file was created by systemd-update-done. Its only\n"+
		"# purpose is to hold a timestamp of the time this directory\n"+
		"# was updated. See man:systemd-update-done.service(8).\n"+
		"TIMESTAMP_NSEC=%d\n", st.ModTime().UnixNano())
	for _, p := range []string{"etc/.updated", "var/.updated"} {
		path := filepath.Join(root, p)
		if err := os.WriteFile(path, []byte(stamp), 0o644); err != nil {
			return err
		}
		if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// writeFiles writes files under root, making parent folders.
func writeFiles(root string, files []File) error {
	for _, f := range files {
		p := filepath.Join(root, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		switch {
		case f.Link != "":
			if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := os.Symlink(f.Link, p); err != nil {
				return err
			}
		case f.Mode.IsDir():
			if err := os.MkdirAll(p, f.Mode.Perm()); err != nil {
				return err
			}
			if err := os.Chmod(p, f.Mode.Perm()); err != nil {
				return err
			}
		default:
			if err := os.WriteFile(p, []byte(f.Data), f.Mode.Perm()); err != nil {
				return err
			}
			if err := os.Chmod(p, f.Mode.Perm()); err != nil {
				return err
			}
		}
	}
	return nil
}

// NewIDs makes random identifiers for one image.
func NewIDs(arch Arch) (IDs, error) {
	var ids IDs
	for _, p := range []*string{&ids.Disk, &ids.Boot, &ids.A, &ids.B, &ids.Data, &ids.RootFSUUID, &ids.DataFSUUID} {
		u, err := uuid4()
		if err != nil {
			return ids, err
		}
		*p = u
	}
	var v [4]byte
	if _, err := rand.Read(v[:]); err != nil {
		return ids, err
	}
	ids.BootVolID = fmt.Sprintf("%02X%02X%02X%02X", v[0], v[1], v[2], v[3])
	if arch == ARM64 {
		ids.Disk = "0x" + strings.ToLower(ids.BootVolID)
	}
	return ids, nil
}

func uuid4() (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[:]); err != nil {
		return "", err
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])), nil
}

// readableTree makes a copied tree root-owned and world-readable, with
// nothing executable but folders.
func readableTree(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		if err := os.Lchown(p, 0, 0); err != nil {
			return err
		}
		return os.Chmod(p, mode)
	})
}

// treeSize sums the sizes of the regular files under dir.
func treeSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			n += info.Size()
		}
		return nil
	})
	return n, err
}
