// Package apptest builds the sample apps for the host and runs them as real
// processes, for the sample apps' own tests. Only tests import it.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/sampleapps/appkit"
)

// startTimeout bounds how long Start waits for the start line.
const startTimeout = 20 * time.Second

// GoBinary returns the go command, failing the test under CI (skipping it
// elsewhere) when there is none.
func GoBinary(tb testing.TB) string {
	tb.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if root := os.Getenv("GOROOT"); root != "" {
		p := filepath.Join(root, "bin", "go")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	why := "the go command is not on PATH nor in $GOROOT/bin"
	if os.Getenv("CI") != "" {
		tb.Fatalf("CI is set and %s", why)
	}
	tb.Skip(why)
	return ""
}

// Build compiles the main package in pkgDir (relative to the test's working
// directory) for the host with the given -X flags (e.g. "main.version=1.0")
// and returns the binary's path, in a folder removed after the test.
func Build(tb testing.TB, pkgDir string, xflags ...string) string {
	tb.Helper()
	abs, err := filepath.Abs(pkgDir)
	if err != nil {
		tb.Fatalf("package dir %q: %v", pkgDir, err)
	}
	out := filepath.Join(tb.TempDir(), filepath.Base(abs))
	ldflags := "-s -w"
	for _, x := range xflags {
		ldflags += " -X " + x
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, GoBinary(tb), "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, ".")
	cmd.Dir = pkgDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkgDir, err, b)
	}
	return out
}

// Proc is a running sample app.
type Proc struct {
	// Start is the app's start line; Start.Addr is where it listens.
	Start appkit.StartLine
	// URL is "http://" + Start.Addr.
	URL string

	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{} // closed when the process has been waited for
	err    error         // cmd.Wait's result, set before done is closed
}

// Start runs bin with HOST=127.0.0.1, PORT=0 and env added to the test's
// environment, waits for its start line and stops it (SIGKILL) in
// tb.Cleanup if it still runs.
func Start(tb testing.TB, bin string, env ...string) *Proc {
	tb.Helper()
	p := &Proc{stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = append(append(os.Environ(), "HOST=127.0.0.1", "PORT=0"), env...)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})

	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		if line, ok := strings.CutSuffix(p.stdout.firstLine(), "\n"); ok {
			if err := json.Unmarshal([]byte(line), &p.Start); err != nil {
				tb.Fatalf("start line %q: %v", line, err)
			}
			p.URL = "http://" + p.Start.Addr
			return p
		}
		select {
		case <-p.done:
			tb.Fatalf("%s exited before its start line: %v\nstderr: %s", bin, p.err, p.stderr.String())
		case <-deadline.C:
			tb.Fatalf("%s printed no start line in %s", bin, startTimeout)
		case <-ticker.C:
		}
	}
}

// Stdout returns what the process printed on stdout so far.
func (p *Proc) Stdout() string { return p.stdout.String() }

// Stderr returns what the process printed on stderr so far.
func (p *Proc) Stderr() string { return p.stderr.String() }

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) error { return p.cmd.Process.Signal(sig) }

// Wait waits up to timeout for the process to exit and returns its exit code.
func (p *Proc) Wait(timeout time.Duration) (int, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), nil
	case <-t.C:
		return 0, fmt.Errorf("process still runs after %s", timeout)
	}
}

// syncBuffer is a bytes.Buffer safe for the exec copier and the test.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// firstLine returns the first line with its newline, or "" until there is one.
func (b *syncBuffer) firstLine() string {
	s := b.String()
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i+1]
	}
	return ""
}
