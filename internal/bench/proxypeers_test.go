package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/testenv"
)

func TestBackendMain(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	var code int
	done := make(chan struct{})
	go func() {
		defer close(done)
		code = backendMain(inR, outW, io.Discard)
		outW.Close()
	}()
	t.Cleanup(func() {
		inW.Close()
		<-done
	})
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("read the address line: %v", err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok || !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("got first line %q, want \"listening 127.0.0.1:port\"", line)
	}
	if err := getBody(context.Background(), http.DefaultClient, "http://"+addr+"/anything", backendBody()); err != nil {
		t.Fatalf("GET: %v", err)
	}
	inW.Close() // the end of stdin ends the backend
	select {
	case <-done:
		if code != 0 {
			t.Errorf("got exit code %d, want 0", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("backend did not end 10s after its stdin closed")
	}
}

func TestBackendBody(t *testing.T) {
	if got := len(backendBody()); got != backendBodyBytes {
		t.Errorf("got a %d-byte body, want %d", got, backendBodyBytes)
	}
}

func TestDaemonStop(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Unavailable(t, "no sleep binary")
	}
	thread := newPinnedThread()
	t.Cleanup(thread.close)
	d, err := startDaemon(thread, "sleep", exec.Command(sleep, "60"))
	if err != nil {
		t.Fatalf("startDaemon: %v", err)
	}
	if err := d.stop(context.Background()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-d.exited:
	default:
		t.Fatal("got a daemon that has not exited after stop, want it exited")
	}
	if err := d.stop(context.Background()); err != nil {
		t.Errorf("second stop: got error %v, want none", err)
	}
}

func TestReadUsage(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		testenv.Unavailable(t, "no sleep binary")
	}
	cmd := exec.Command(sleep, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	pids, err := withChildren(os.Getpid())
	if err != nil {
		t.Fatalf("withChildren: %v", err)
	}
	found := false
	for _, p := range pids {
		found = found || p == cmd.Process.Pid
	}
	if !found || pids[0] != os.Getpid() {
		t.Errorf("got processes %v, want this one (%d) first and its child %d among them", pids, os.Getpid(), cmd.Process.Pid)
	}

	before, err := readUsage([]int{os.Getpid()})
	if err != nil {
		t.Fatalf("readUsage: %v", err)
	}
	// Burn CPU (20 ms of ticks at least) and make system calls.
	deadline := time.Now().Add(100 * time.Millisecond)
	for time.Now().Before(deadline) {
		if _, err := os.ReadFile("/proc/self/stat"); err != nil {
			t.Fatal(err)
		}
	}
	after, err := readUsage([]int{os.Getpid()})
	if err != nil {
		t.Fatalf("readUsage: %v", err)
	}
	used := after.sub(before)
	if used.CPU <= 0 || used.Syscalls <= 0 {
		t.Errorf("got %v CPU and %d system calls used, want both above 0", used.CPU, used.Syscalls)
	}
}

// caddyForTest finds the Caddy that make bench installs, or one named by
// HEARTH_CADDY, or one on PATH.
func caddyForTest(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEARTH_CADDY"); p != "" {
		return p
	}
	if m, _ := filepath.Glob("../../bin/tools/caddy-*/caddy"); len(m) > 0 {
		p, err := filepath.Abs(m[len(m)-1])
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := exec.LookPath("caddy")
	if err != nil {
		testenv.Unavailable(t, "no Caddy: run make bench (it installs the pinned one into bin/tools) or set HEARTH_CADDY")
	}
	return p
}

// TestPeersProxy starts each proxy in front of an in-process backend, as the
// benchmark does, and checks that it proxies over TLS with the test
// certificate (the start waits for a correct answer), that OpenSSL (wrk's
// library) negotiates the same TLS with each, and that a short wrk run
// through it parses, with every answer a 200.
func TestPeersProxy(t *testing.T) {
	wrk, wrkErr := exec.LookPath("wrk")
	backend := httptest.NewUnstartedServer(backendHandler())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend.Listener = ln
	backend.Start()
	t.Cleanup(backend.Close)

	dir := t.TempDir()
	pki, err := newTestPKI(dir, time.Now())
	if err != nil {
		t.Fatalf("newTestPKI: %v", err)
	}
	thread := newPinnedThread()
	t.Cleanup(thread.close)
	env := peerEnv{thread: thread, pki: pki, backend: ln.Addr().String(), dir: dir, workers: 2}
	ctx := context.Background()

	tests := []struct {
		name  string
		start func(t *testing.T) (*runningProxy, error)
	}{
		{proxyHearth, func(*testing.T) (*runningProxy, error) {
			h, err := startHearth(ctx, env, nil)
			if err != nil {
				return nil, err
			}
			return &h.runningProxy, nil
		}},
		{proxyCaddy, func(t *testing.T) (*runningProxy, error) { return startCaddy(ctx, env, caddyForTest(t)) }},
		{proxyNginx, func(t *testing.T) (*runningProxy, error) {
			nginx, err := exec.LookPath("nginx")
			if err != nil {
				testenv.Unavailable(t, "no nginx: apt-get install nginx")
			}
			return startNginx(ctx, env, nginx)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.start(t)
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			t.Cleanup(func() {
				if err := p.stop(context.Background()); err != nil {
					t.Errorf("stop: %v", err)
				}
			})
			if !strings.HasPrefix(p.URL, "https://localhost:") || p.Version == "" {
				t.Errorf("got URL %q and version %q, want https://localhost:port/ and a version", p.URL, p.Version)
			}
			openssl, err := exec.LookPath("openssl")
			if err != nil {
				testenv.Unavailable(t, "no openssl: apt-get install openssl")
			}
			const wantTLS = "TLSv1.3 TLS_AES_128_GCM_SHA256 X25519"
			if got, err := probeTLS(ctx, openssl, p.port); err != nil || got != wantTLS {
				t.Errorf("negotiated TLS: got %q, %v, want %q", got, err, wantTLS)
			}
			if wrkErr != nil {
				testenv.Unavailable(t, "no wrk: apt-get install wrk")
			}
			r, err := measureProxy(ctx, wrk, wrkLoad{Threads: 1, Conns: 4, Duration: time.Second}, p, os.Getpid())
			if err != nil {
				t.Fatalf("measureProxy: %v", err)
			}
			if r.Requests == 0 || r.Non2xx != 0 || r.SocketErrors != 0 {
				t.Errorf("got %d requests, %d not 2xx, %d socket errors; want some, none, none", r.Requests, r.Non2xx, r.SocketErrors)
			}
			if r.CPUPerRequestUS <= 0 || r.SyscallsPerRequest <= 0 {
				t.Errorf("got %v us CPU and %v system calls per request, want both above 0", r.CPUPerRequestUS, r.SyscallsPerRequest)
			}
		})
	}
}
