package api

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// staleDialTimeout bounds the probe that tells a stale socket from a live one.
const staleDialTimeout = time.Second

// Listen opens the API's unix socket at path, for root only:
//   - the folder is created 0700 if missing; an existing one must be a real
//     folder owned by this user, and is tightened to 0700 unless it is a
//     shared folder (world-writable or sticky, such as /tmp), which is refused;
//   - a socket left at path by a dead hearthd is removed; a live one (it
//     answers) or a file that is not a socket is refused;
//   - the socket file is 0600.
//
// Closing the listener removes the socket file.
func Listen(path string) (net.Listener, error) {
	if path == "" || !filepath.IsAbs(path) {
		return nil, fmt.Errorf("socket path %q: must be absolute", path)
	}
	if err := privateDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	// The folder is 0700, so nobody else can reach the socket between
	// its creation and this chmod.
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod socket %s: %w", path, err)
	}
	return ln, nil
}

// privateDir makes dir a folder only its owner (this user) can enter.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("socket folder %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("socket folder %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket folder %s: not a folder (a symlink?)", dir)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("socket folder %s: no owner information", dir)
	}
	if uid := os.Geteuid(); int(st.Uid) != uid {
		return fmt.Errorf("socket folder %s: owned by uid %d, not %d", dir, st.Uid, uid)
	}
	perm := fi.Mode().Perm()
	if perm == 0o700 {
		return nil
	}
	if fi.Mode()&fs.ModeSticky != 0 || perm&0o002 != 0 {
		return fmt.Errorf("socket folder %s: a shared folder (mode %o): put the socket in a folder of its own", dir, perm)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("socket folder %s: %w", dir, err)
	}
	return nil
}

// removeStale removes a socket at path that nothing answers on.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("socket %s: %w", path, err)
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("socket %s: a file that is not a socket is in the way", path)
	}
	c, err := net.DialTimeout("unix", path, staleDialTimeout)
	if err == nil {
		c.Close()
		return fmt.Errorf("socket %s: another hearthd answers on it", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("socket %s: probe: %w", path, err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket %s: %w", path, err)
	}
	return nil
}
