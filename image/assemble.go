package osimage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// filesystems makes one image file per partition (system B stays empty)
// and returns them by role.
func (b *builder) filesystems(ctx context.Context, work, root, bootTree string, l Layout, ids IDs) (map[Role]string, error) {
	t := b.cfg.Tools
	parts := map[Role]string{}

	boot := filepath.Join(work, "boot.img")
	bootPart := l.Part(RoleBoot)
	if _, err := b.run(ctx, nil, t.Mkfsvfat, "-F", "32", "-n", "HEARTH-BOOT", "-i", ids.BootVolID, "-C", boot, strconv.FormatInt(bootPart.Size/1024, 10)); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(bootTree)
	if err != nil {
		return nil, err
	}
	args := []string{"-s", "-Q", "-i", boot}
	for _, e := range entries {
		args = append(args, filepath.Join(bootTree, e.Name()))
	}
	if _, err := b.run(ctx, nil, t.Mcopy, append(args, "::/")...); err != nil {
		return nil, err
	}
	parts[RoleBoot] = boot

	data := filepath.Join(work, "data")
	if err := os.Mkdir(data, 0o700); err != nil {
		return nil, err
	}
	for _, fs := range []struct {
		role        Role
		img, tree   string
		label, uuid string
	}{
		{RoleSystemA, filepath.Join(work, "system-a.img"), root, "hearth-system-a", ids.RootFSUUID},
		{RoleData, filepath.Join(work, "data.img"), data, "hearth-data", ids.DataFSUUID},
	} {
		size := l.Part(fs.role).Size
		if err := truncate(fs.img, size); err != nil {
			return nil, err
		}
		// 4 KiB blocks and the default profile whatever the size: the data
		// file system starts small and grows to the disk (mke2fs would pick
		// 1 KiB blocks for a small one).
		if _, err := b.run(ctx, nil, t.Mkfsext4, "-F", "-q", "-T", "default", "-b", "4096", "-L", fs.label, "-U", strings.ToLower(fs.uuid),
			"-E", "root_owner=0:0", "-m", "1", "-d", fs.tree, fs.img); err != nil {
			return nil, err
		}
		parts[fs.role] = fs.img
	}
	return parts, nil
}

// assemble writes the partition table to a sparse file of the layout's
// size and copies each partition's image to its place, skipping zeros.
func (b *builder) assemble(ctx context.Context, img string, l Layout, parts map[Role]string) error {
	_ = os.Remove(img)
	if err := truncate(img, l.Size); err != nil {
		return err
	}
	if _, err := b.run(ctx, strings.NewReader(l.SfdiskScript()), b.cfg.Tools.Sfdisk, "-q", "--no-reread", "--no-tell-kernel", img); err != nil {
		return err
	}
	for _, p := range l.Partitions {
		src, ok := parts[p.Role]
		if !ok {
			continue
		}
		if err := copySparse(img, p.Start, p.Size, src); err != nil {
			return fmt.Errorf("partition %s: %w", p.Role, err)
		}
	}
	return nil
}

// copySparse writes src into dst at off, leaving all-zero MiB blocks
// unwritten (dst is sparse and zero there already).
func copySparse(dst string, off, max int64, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if st.Size() > max {
		return fmt.Errorf("%s is %d bytes, more than the partition's %d", src, st.Size(), max)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := make([]byte, mib)
	zero := make([]byte, mib)
	var pos int64
	for {
		n, err := io.ReadFull(in, buf)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := out.WriteAt(buf[:n], off+pos); werr != nil {
				out.Close()
				return werr
			}
		}
		pos += int64(n)
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

// truncate makes path a sparse file of size bytes.
func truncate(path string, size int64) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFile copies a regular file, making dst's folder.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
