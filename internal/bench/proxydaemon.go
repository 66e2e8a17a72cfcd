package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"syscall"
	"time"
)

// daemonStopTimeout is how long a daemon has to end after SIGTERM before its
// process group is killed.
const daemonStopTimeout = 10 * time.Second

// daemon is a long-running process the proxy benchmark started (the
// backend, Caddy, nginx). It runs in a process group of its own, so that
// stop reaches nginx's workers too, and gets SIGTERM if the thread that
// started it ends (the benchmark's pinned thread, which lives until the
// end of the run).
type daemon struct {
	name string
	cmd  *exec.Cmd
	// done receives Wait's result once; exited is closed after it.
	done   chan error
	exited chan struct{}
	err    error
}

// startDaemon starts cmd (its I/O already set) from thread. The goroutine
// that waits for the process is owned by the daemon: stop waits for it.
func startDaemon(thread *pinnedThread, name string, cmd *exec.Cmd) (*daemon, error) {
	d := &daemon{name: name, cmd: cmd, done: make(chan error, 1), exited: make(chan struct{})}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	var err error
	thread.do(func() { err = cmd.Start() })
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		d.err = cmd.Wait()
		close(d.exited)
	}()
	return d, nil
}

// exitErr describes how the daemon ended; call it only after exited is
// closed.
func (d *daemon) exitErr() error {
	if d.err == nil {
		return fmt.Errorf("%s exited", d.name)
	}
	return fmt.Errorf("%s exited: %w", d.name, d.err)
}

// stop sends SIGTERM to the daemon and waits; after daemonStopTimeout (or
// when ctx ends) it kills the whole process group. A daemon that had
// already exited is not an error here: the run noticed that when it
// happened.
func (d *daemon) stop(ctx context.Context) error {
	select {
	case <-d.exited:
		return nil
	default:
	}
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop %s: %w", d.name, err)
	}
	timer := time.NewTimer(daemonStopTimeout)
	defer timer.Stop()
	select {
	case <-d.exited:
		return nil
	case <-timer.C:
	case <-ctx.Done():
	}
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	<-d.exited
	return fmt.Errorf("stop %s: killed after %s without ending", d.name, daemonStopTimeout)
}
