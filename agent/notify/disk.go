package notify

import (
	"context"
	"fmt"
	"syscall"
)

// The disk is full when less than MinFreeBytes or MinFreePercent of it
// is free.
const (
	MinFreeBytes   = 1 << 30
	MinFreePercent = 5
)

// DiskSpace is what the data root's file system holds.
type DiskSpace struct {
	// Free is what an unprivileged writer may still use; Total the size.
	Free, Total uint64
}

// Full reports whether less than MinFreeBytes or MinFreePercent is free.
func (d DiskSpace) Full() bool {
	return d.Free < MinFreeBytes || d.Free*100 < d.Total*MinFreePercent
}

// Disk reads the space of the file system holding path.
func (nf *Notifier) Disk(path string) (DiskSpace, error) {
	var st syscall.Statfs_t
	if err := nf.cfg.Statfs(path, &st); err != nil {
		return DiskSpace{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return DiskSpace{Free: st.Bavail * bs, Total: st.Blocks * bs}, nil
}

// CheckDisk is the disk check (a Check): a disk-full notice when the data
// root's file system is full.
func (nf *Notifier) CheckDisk(ctx context.Context) ([]Notice, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	d, err := nf.Disk(nf.cfg.DataRoot)
	if err != nil || !d.Full() {
		return nil, err
	}
	return []Notice{{Kind: DiskFull, Title: "The disk is almost full",
		Body: fmt.Sprintf("Only %s of %s is free on the disk that holds the apps' data (%s). Apps may stop working and backups may fail: remove what you do not need, or move the data to a larger disk.",
			bytesText(d.Free), bytesText(d.Total), nf.cfg.DataRoot)}}, nil
}

// bytesText writes n in KiB, MiB, GiB or TiB with one decimal.
func bytesText(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}
