package agent

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/manifest"
)

// Admission says what the box can take. Zero fields are read from the host.
type Admission struct {
	// MemoryTotal is the memory apps may use in all, in bytes; default the
	// host's MemTotal less Reserved.
	MemoryTotal int64
	// Reserved is kept for the system and Hearth itself; default 256 MiB.
	Reserved int64
	// MinFreeDisk must stay free on the data folder's disk; default 1 GiB.
	MinFreeDisk int64
	// FreeDisk reports the free bytes under a path; default statfs.
	FreeDisk func(path string) (int64, error)
}

// admit refuses an install the box lacks the memory or disk for, saying
// what is missing. Memory counts what the installed apps need (memoryMin),
// not what they happen to use now, so that every app keeps its promise.
func (a *Agent) admit(rel release) error {
	ad := a.cfg.Admission
	if ad.Reserved == 0 {
		ad.Reserved = 256 << 20
	}
	if ad.MemoryTotal == 0 {
		total, err := memTotal()
		if err != nil {
			return fmt.Errorf("admission: %w", err)
		}
		ad.MemoryTotal = total - ad.Reserved
	}
	if ad.MinFreeDisk == 0 {
		ad.MinFreeDisk = 1 << 30
	}
	if ad.FreeDisk == nil {
		ad.FreeDisk = freeDisk
	}
	apps, err := a.store.Apps()
	if err != nil {
		return err
	}
	var promised int64
	for _, app := range apps {
		if app.ID == rel.Manifest.ID {
			continue
		}
		m, err := parseManifest(app.Manifest)
		if err != nil {
			continue
		}
		promised += int64(m.Resources.MemoryMin)
	}
	need := int64(rel.Manifest.Resources.MemoryMin)
	if promised+need > ad.MemoryTotal {
		return fmt.Errorf("%s needs %s of memory, and the box has %s for apps of which installed apps need %s: uninstall an app first: %w",
			rel.Manifest.Title, manifest.FormatSize(need), manifest.FormatSize(ad.MemoryTotal), manifest.FormatSize(promised), api.ErrRefused)
	}
	free, err := ad.FreeDisk(a.cfg.DataRoot)
	if err != nil {
		return fmt.Errorf("admission: free disk: %w", err)
	}
	if free < ad.MinFreeDisk {
		return fmt.Errorf("only %s of disk is free, and installing needs at least %s: free some space first: %w",
			manifest.FormatSize(free), manifest.FormatSize(ad.MinFreeDisk), api.ErrRefused)
	}
	return nil
}

func memTotal() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("meminfo: no MemTotal")
}

func freeDisk(path string) (int64, error) {
	if err := os.MkdirAll(path, 0o750); err != nil {
		return 0, err
	}
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
