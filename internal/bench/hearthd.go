package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// readyLine starts the line hearthd prints on stdout once its state is open
// and its first reconcile pass has run.
const readyLine = "HEARTH_SOCKET="

// hearthdStopTimeout bounds a SIGTERM'd hearthd's exit before it is killed.
const hearthdStopTimeout = 30 * time.Second

// hearthdProc is one run of the hearthd binary under test. Its waiting
// goroutine is owned by stop, which every caller of startHearthd must call.
type hearthdProc struct {
	cmd     *exec.Cmd
	logPath string
	out     *lineWatcher
	// started is taken just before the exec.
	started time.Time
	// done is closed once the process has been waited for; err is then
	// its exit.
	done chan struct{}
	err  error
}

// startHearthd execs bin with args from the pinned thread (so that the
// parent-death signal stays armed for the whole run), its stdout and
// stderr going to logPath. It is not tied to a context: stop sends SIGTERM,
// as systemd does, and the apps keep running.
func startHearthd(pin *pinnedThread, bin string, args []string, logPath string) (*hearthdProc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("hearthd log: %w", err)
	}
	h := &hearthdProc{logPath: logPath, out: newLineWatcher(logf, readyLine), done: make(chan struct{})}
	h.cmd = exec.Command(bin, args...)
	h.cmd.Stdout = h.out
	h.cmd.Stderr = logf
	h.cmd.Env = daemonEnv(os.Environ())
	// Its own process group (a ^C to make reaches the benchmark, which stops
	// hearthd itself), and SIGTERM should the benchmark die.
	h.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	h.cmd.WaitDelay = 5 * time.Second
	pin.do(func() {
		h.started = time.Now()
		err = h.cmd.Start()
	})
	if err != nil {
		logf.Close()
		return nil, fmt.Errorf("start hearthd: %w", err)
	}
	go func() {
		h.err = h.cmd.Wait()
		logf.Close()
		close(h.done)
	}()
	return h, nil
}

// daemonEnv is env without what would make hearthd talk to a systemd that
// supervises the benchmark, not it.
func daemonEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES":
			continue
		}
		out = append(out, kv)
	}
	return out
}

// exited reports whether the process has ended.
func (h *hearthdProc) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM, waits for the exit (killing the process after
// hearthdStopTimeout) and returns an error unless it exited with status 0.
// It may be called more than once.
func (h *hearthdProc) stop() error {
	if !h.exited() {
		_ = h.cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(hearthdStopTimeout)
		defer timer.Stop()
		select {
		case <-h.done:
		case <-timer.C:
			_ = h.cmd.Process.Kill()
			<-h.done
			return fmt.Errorf("hearthd did not stop within %s of SIGTERM: killed: %s", hearthdStopTimeout, h.tail())
		}
	}
	if h.err != nil {
		return fmt.Errorf("hearthd exited: %w: %s", h.err, h.tail())
	}
	return nil
}

// tail returns the end of the process's log, for error messages.
func (h *hearthdProc) tail() string {
	b, err := os.ReadFile(h.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return strings.TrimSpace(string(b))
}

// procMemory is a process's memory as /proc/<pid>/status gives it, in KiB:
// the resident set (VmRSS, the sum of RssAnon, RssFile and RssShmem), its
// peak (VmHWM), and the anonymous (heap, stacks) and file-backed (the
// binary's pages) parts.
type procMemory struct {
	RSS, HWM, Anon, File int64
}

// memory reads the process's memory.
func (h *hearthdProc) memory() (procMemory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", h.cmd.Process.Pid))
	if err != nil {
		return procMemory{}, fmt.Errorf("hearthd memory: %w", err)
	}
	return parseProcMemory(b)
}

// parseProcMemory reads a /proc/<pid>/status.
func parseProcMemory(status []byte) (procMemory, error) {
	var m procMemory
	fields := map[string]*int64{"VmRSS": &m.RSS, "VmHWM": &m.HWM, "RssAnon": &m.Anon, "RssFile": &m.File}
	seen := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		dst, want := fields[k]
		if !ok || !want {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return procMemory{}, fmt.Errorf("status %s: %q: want \"<n> kB\"", k, strings.TrimSpace(v))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 {
			return procMemory{}, fmt.Errorf("status %s: %q: not a size", k, f[0])
		}
		*dst = n
		seen[k] = true
	}
	if err := sc.Err(); err != nil {
		return procMemory{}, err
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		if !seen[k] {
			return procMemory{}, fmt.Errorf("status: %s missing (a kernel thread, or a zombie?)", k)
		}
	}
	return m, nil
}

// lineWatcher passes what is written to it on to w and notes when a line
// starting with prefix was first written.
type lineWatcher struct {
	w      io.Writer
	prefix []byte

	// mu guards the fields below.
	mu      sync.Mutex
	partial []byte    // the start of a line not yet ended
	at      time.Time // when the first prefix line was written; zero before
	seen    chan struct{}
}

// maxPartial bounds the unended line kept: a longer one cannot be the
// ready line.
const maxPartial = 4096

func newLineWatcher(w io.Writer, prefix string) *lineWatcher {
	return &lineWatcher{w: w, prefix: []byte(prefix), seen: make(chan struct{})}
}

func (l *lineWatcher) Write(p []byte) (int, error) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		if l.at.IsZero() && bytes.HasPrefix(l.partial[:i], l.prefix) {
			l.at = now
			close(l.seen)
		}
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > maxPartial {
		l.partial = l.partial[:0]
	}
	if _, err := l.w.Write(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// seenAt returns when the prefix line was written, and whether it was.
func (l *lineWatcher) seenAt() (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at, !l.at.IsZero()
}
