package addons

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// daemonConfig describes one supervised server process.
type daemonConfig struct {
	name string
	// argv is the command; argv[0] is an absolute path.
	argv []string
	// user is the system account the process runs as ("" keeps root: a
	// server that drops privileges itself, as mariadbd --user does).
	user string
	// stop is the signal that shuts the server down cleanly.
	stop syscall.Signal
	// ready answers nil once the server takes requests.
	ready func(ctx context.Context) error
	// readyTimeout bounds each wait for ready.
	readyTimeout time.Duration
	// output receives the server's stdout and stderr; nil discards them.
	output io.Writer
	log    *slog.Logger
}

// daemon runs a server process and restarts it when it exits, waiting 1 s,
// then twice as long after each exit up to a minute (forgiven after a
// minute of running). Its goroutine is owned by the daemon: stop waits for it.
type daemon struct {
	cfg daemonConfig

	// mu guards cancel, done and runs.
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	runs   int // processes started so far (tests watch restarts)
}

func newDaemon(cfg daemonConfig) *daemon {
	if cfg.log == nil {
		cfg.log = slog.New(slog.DiscardHandler)
	}
	if cfg.output == nil {
		cfg.output = io.Discard
	}
	if cfg.readyTimeout == 0 {
		cfg.readyTimeout = 60 * time.Second
	}
	return &daemon{cfg: cfg}
}

// credential is the uid and gid of the daemon's user; nil for root.
func (d *daemon) credential() (*syscall.Credential, error) {
	if d.cfg.user == "" {
		return nil, nil
	}
	return lookupCredential(d.cfg.user)
}

func lookupCredential(name string) (*syscall.Credential, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("system user %s: %w", name, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("system user %s: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("system user %s: gid %q: %w", name, u.Gid, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// start launches the process, keeps it running, and returns once it is
// ready (or failed to be within the ready timeout; it keeps trying then).
// Starting a started daemon only waits for it to be ready.
func (d *daemon) start(ctx context.Context) error {
	cred, err := d.credential()
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.done == nil {
		// The loop outlives ctx (the caller's request): stop ends it.
		loopCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		d.cancel, d.done = cancel, make(chan struct{})
		go d.loop(loopCtx, cred, d.done)
	}
	d.mu.Unlock()
	return d.waitReady(ctx)
}

func (d *daemon) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.cfg.readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if last = d.cfg.ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not ready: %w", d.cfg.name, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// running says whether the daemon was started and not stopped.
func (d *daemon) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done != nil
}

func (d *daemon) starts() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.runs
}

// stop ends the loop: the process gets the stop signal and, if it has not
// exited when ctx ends, SIGKILL. Stopping a stopped daemon does nothing.
func (d *daemon) stop(ctx context.Context) error {
	d.mu.Lock()
	cancel, done := d.cancel, d.done
	d.cancel, d.done = nil, nil
	d.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		<-done // the loop kills the process when ctx passes: see run
		return fmt.Errorf("stop %s: %w", d.cfg.name, ctx.Err())
	}
}

const (
	daemonBackoffMin     = time.Second
	daemonBackoffMax     = time.Minute
	daemonBackoffForgive = time.Minute
	daemonKillAfter      = 30 * time.Second
)

func (d *daemon) loop(ctx context.Context, cred *syscall.Credential, done chan struct{}) {
	defer close(done)
	wait := daemonBackoffMin
	for {
		began := time.Now()
		err := d.run(ctx, cred)
		if ctx.Err() != nil {
			return
		}
		if time.Since(began) > daemonBackoffForgive {
			wait = daemonBackoffMin
		}
		d.cfg.log.Warn("addon server exited, restarting", "server", d.cfg.name, "err", err, "in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, daemonBackoffMax)
	}
}

// run starts the process once and waits for it to exit, or for ctx to end
// (then it signals the process and waits). The goroutine keeps its OS
// thread while the process runs, so that the parent-death signal (SIGKILL
// when hearthd dies) is tied to a thread that lives as long as the process.
func (d *daemon) run(ctx context.Context, cred *syscall.Credential) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command(d.cfg.argv[0], d.cfg.argv[1:]...) // stopped by signal below, not by a context
	cmd.Stdout, cmd.Stderr = d.cfg.output, d.cfg.output
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", d.cfg.name, err)
	}
	d.mu.Lock()
	d.runs++
	d.mu.Unlock()
	d.cfg.log.Info("addon server started", "server", d.cfg.name, "pid", cmd.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // owned by run, which receives from exited on every path
	select {
	case err := <-exited:
		return fmt.Errorf("%s exited: %w", d.cfg.name, err)
	case <-ctx.Done():
	}
	_ = cmd.Process.Signal(d.cfg.stop)
	kill := time.NewTimer(daemonKillAfter)
	defer kill.Stop()
	select {
	case <-exited:
	case <-kill.C:
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	d.cfg.log.Info("addon server stopped", "server", d.cfg.name)
	return nil
}

// prepareDir makes dir and gives it to the user, mode 0700. Missing
// parents are made with mode 0711 (the user may pass, not list); parents
// that exist must let the user through already.
func prepareDir(dir, owner string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return fmt.Errorf("addon folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("addon folder: %w", err)
	}
	cred, err := lookupCredential(owner)
	if err != nil {
		return err
	}
	if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("addon folder: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("addon folder: %w", err)
	}
	return nil
}

// writeOwned writes a file owned by the user with mode perm.
func writeOwned(path string, data []byte, owner string, perm os.FileMode) error {
	cred, err := lookupCredential(owner)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chown(tmp, int(cred.Uid), int(cred.Gid)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// runTool runs a client tool (psql, mariadb...) as root with stdin and
// returns its stdout; a failure carries its stderr.
func runTool(ctx context.Context, stdin io.Reader, stdout io.Writer, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = stdin
	cmd.Stdout = stdout
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/nonexistent"}
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", argv[0], err, stderr.String())
	}
	return nil
}

// limitedBuffer keeps the first 4 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 4096 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string { return string(l.b) }

// cmdAs is a command run as the given user (nil: root).
func cmdAs(ctx context.Context, cred *syscall.Credential, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"LANG=C.UTF-8", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	return cmd
}

// initMarker is written once a server's data folder is initialised: a
// folder without it is the leftover of a crash during initdb (or
// mariadb-install-db), holds no data, and is made again.
const initMarker = "initialized"

func initialized(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, initMarker))
	return err == nil
}

func markInitialized(dir string) error {
	if err := os.WriteFile(filepath.Join(dir, initMarker), nil, 0o600); err != nil {
		return fmt.Errorf("mark initialised: %w", err)
	}
	return nil
}
