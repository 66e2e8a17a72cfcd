// Package ctrd starts and stops a private containerd daemon: its own root,
// state and socket in one folder, touching no system containerd. Tests and
// hearthd's development mode use it; a real box runs Debian's containerd
// under systemd instead.
package ctrd

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"golang.org/x/sys/unix"
)

// Options tune Start.
type Options struct {
	// Dir holds root, state, socket and log. Empty: a new folder under /tmp
	// (removed by Stop). Unix socket paths are limited to 108 bytes.
	Dir string
	// Binary defaults to "containerd" on PATH.
	Binary string
	// KeepTasks leaves running containers alive at Stop (development mode:
	// the next start re-attaches). Tests leave it false.
	KeepTasks bool
}

// Daemon is a running private containerd.
type Daemon struct {
	Dir    string
	Socket string
	Log    string

	opts    Options
	ownsDir bool
	cmd     *exec.Cmd
	done    chan error
}

const config = `version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %q

[ttrpc]
  address = %q
`

// Start starts containerd and waits until it answers.
func Start(ctx context.Context, opts Options) (*Daemon, error) {
	bin := opts.Binary
	if bin == "" {
		bin = "containerd"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	d := &Daemon{opts: opts, done: make(chan error, 1)}
	if opts.Dir == "" {
		if d.Dir, err = os.MkdirTemp("/tmp", "hctd-"); err != nil {
			return nil, fmt.Errorf("start containerd: %w", err)
		}
		d.ownsDir = true
	} else {
		if d.Dir, err = filepath.Abs(opts.Dir); err != nil {
			return nil, fmt.Errorf("start containerd: %w", err)
		}
		if err := os.MkdirAll(d.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("start containerd: %w", err)
		}
	}
	d.Socket = filepath.Join(d.Dir, "c.sock")
	d.Log = filepath.Join(d.Dir, "containerd.log")
	if len(d.Socket) > 100 {
		return nil, fmt.Errorf("start containerd: socket path %s is too long for a unix socket", d.Socket)
	}
	cfg := fmt.Sprintf(config, filepath.Join(d.Dir, "root"), filepath.Join(d.Dir, "state"), d.Socket, d.Socket+".ttrpc")
	cfgPath := filepath.Join(d.Dir, "config.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	logf, err := os.OpenFile(d.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}
	defer logf.Close()
	// Not CommandContext: the daemon must outlive the start context.
	d.cmd = exec.Command(path, "--config", cfgPath)
	d.cmd.Stdout = logf
	d.cmd.Stderr = logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	// The parent-death signal fires when the *thread* that started the
	// child ends, and Go ends a thread whenever a goroutine exits locked to
	// it (the network code does so on purpose). So the daemon is started from
	// a goroutine that stays locked to its thread until the daemon exits.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends after the daemon
		if err := d.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		d.done <- d.cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start containerd: %w", err)
	}

	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		if cl, err := containerd.New(d.Socket, containerd.WithTimeout(time.Second)); err == nil {
			_, verr := cl.Version(ctx)
			cl.Close()
			if verr == nil {
				return d, nil
			}
		}
		select {
		case err := <-d.done:
			d.done <- err
			tail := d.tail()
			_ = d.cleanupFiles()
			return nil, fmt.Errorf("containerd exited at start: %v: %s", err, tail)
		case <-deadline.C:
			tail := d.tail()
			_ = d.Stop(context.Background())
			return nil, fmt.Errorf("containerd did not answer in 30s: %s", tail)
		case <-ctx.Done():
			_ = d.Stop(context.Background())
			return nil, ctx.Err()
		case <-ticker.C:
		}
	}
}

// Stop kills every task the daemon runs (unless KeepTasks), stops the daemon,
// and, for a folder Start made, unmounts what is left and removes it.
func (d *Daemon) Stop(ctx context.Context) error {
	var errs []error
	if !d.opts.KeepTasks {
		if cl, err := containerd.New(d.Socket, containerd.WithTimeout(2*time.Second)); err == nil {
			errs = append(errs, killAll(ctx, cl))
			cl.Close()
		}
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case <-d.done:
	case <-timer.C:
		_ = d.cmd.Process.Kill()
		<-d.done
	}
	if d.ownsDir {
		errs = append(errs, d.cleanupFiles())
	}
	return errors.Join(errs...)
}

func killAll(ctx context.Context, cl *containerd.Client) error {
	nss, err := cl.NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("list namespaces: %w", err)
	}
	var errs []error
	for _, ns := range nss {
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, err := cl.Containers(nctx)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ctr := range ctrs {
			task, err := ctr.Task(nctx, nil)
			if err != nil {
				continue
			}
			if _, err := task.Delete(nctx, containerd.WithProcessKill); err != nil {
				errs = append(errs, fmt.Errorf("delete task %s/%s: %w", ns, ctr.ID(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// cleanupFiles unmounts anything left below Dir, deepest first, and removes it.
func (d *Daemon) cleanupFiles() error {
	mounts, err := MountsUnder(d.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	if err := os.RemoveAll(d.Dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// MountsUnder lists the mount points at or below dir, deepest first.
func MountsUnder(dir string) ([]string, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, sc.Err()
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

func (d *Daemon) tail() string {
	b, _ := os.ReadFile(d.Log)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
