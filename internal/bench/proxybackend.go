package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// backendCommand is the first argument that makes this program the proxy
// benchmark's backend (main dispatches it): a process of its own, so that
// the three proxies share it alike and none shares a Go runtime with it.
const backendCommand = "proxy-backend"

// backendBodyBytes is the size of the backend's answer.
const backendBodyBytes = 1024

// backendBody is the fixed answer: 1 KiB of text.
func backendBody() []byte {
	return bytes.Repeat([]byte("hearth bench 1k\n"), backendBodyBytes/16)
}

// backendHandler answers every request with backendBody, its length set.
func backendHandler() http.Handler {
	body := backendBody()
	length := []string{fmt.Sprint(len(body))}
	ctype := []string{"text/plain; charset=utf-8"}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h["Content-Type"] = ctype
		h["Content-Length"] = length
		_, _ = w.Write(body)
	})
}

// newBackendServer returns the backend's server: HTTP/1.1 keep-alive, idle
// connections kept longer than any proxy keeps them.
func newBackendServer() *http.Server {
	return &http.Server{
		Handler:           backendHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       5 * time.Minute,
	}
}

// backendMain serves the backend on 127.0.0.1 (a free port), writes
// "listening ADDR" on stdout once it accepts, and ends when stdin reaches its
// end (the benchmark closed it, or died) or on SIGTERM/SIGINT.
func backendMain(stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// This reader ends with the process when stdin stays open past the end
	// of a signalled shutdown: it holds nothing that needs releasing.
	go func() {
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(stderr, "backend: %v\n", err)
		return 1
	}
	srv := newBackendServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "listening %s\n", ln.Addr())

	select {
	case err := <-served:
		fmt.Fprintf(stderr, "backend: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	shutdownCtx, cancelShutdown := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelShutdown()
	err = srv.Shutdown(shutdownCtx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "backend: %v\n", err)
		return 1
	}
	return 0
}

// backendProc is the backend process, seen from the benchmark.
type backendProc struct {
	*daemon
	// Addr is where it listens (127.0.0.1:port).
	Addr string
	// stdin is kept open while it should run.
	stdin *os.File
}

// startBackend starts self as the backend, with its stderr in logPath, and
// waits until it says where it listens.
func startBackend(ctx context.Context, thread *pinnedThread, self string, logf *os.File) (*backendProc, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("backend: %w", err), inR.Close(), inW.Close())
	}
	defer outR.Close()
	// Not CommandContext: the backend outlives ctx; stop ends it.
	cmd := exec.Command(self, backendCommand)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, logf
	d, err := startDaemon(thread, "backend", cmd)
	// The child holds its own copies now.
	cerr := errors.Join(inR.Close(), outW.Close())
	if err != nil {
		return nil, errors.Join(err, inW.Close(), cerr)
	}
	b := &backendProc{daemon: d, stdin: inW}
	if cerr != nil {
		return nil, errors.Join(fmt.Errorf("backend: %w", cerr), b.stop(context.WithoutCancel(ctx)))
	}

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(outR).ReadString('\n')
		line <- s
	}()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	select {
	case s := <-line:
		addr, ok := strings.CutPrefix(strings.TrimSpace(s), "listening ")
		if !ok {
			return nil, errors.Join(fmt.Errorf("backend: unexpected first line %q", s), b.stop(context.WithoutCancel(ctx)))
		}
		b.Addr = addr
		return b, nil
	case <-timer.C:
		err = errors.New("backend: no address within 10s")
	case <-ctx.Done():
		err = ctx.Err()
	}
	// Stopping the backend closes its stdout, which ends the reader.
	err = errors.Join(err, b.stop(context.WithoutCancel(ctx)))
	<-line
	return nil, err
}

// stop closes the backend's stdin (it ends on its own) and stops it.
func (b *backendProc) stop(ctx context.Context) error {
	return errors.Join(b.stdin.Close(), b.daemon.stop(ctx))
}
