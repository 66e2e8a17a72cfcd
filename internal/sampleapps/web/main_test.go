package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hearthbox/hearth/internal/sampleapps/apptest"
)

// call sends one request and returns the status and body.
func call(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp.StatusCode, string(b)
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	return addr
}

// waitFor polls cond every 10 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.NewTimer(5 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-ticker.C:
		}
	}
}

func TestWebEndpoints(t *testing.T) {
	webBin := apptest.Build(t, ".", "main.version=1.0-test")
	storeBin := apptest.Build(t, "../store", "main.version=1.0-test")
	tmp := t.TempDir()
	store := apptest.Start(t, storeBin, "DATA_DIR="+filepath.Join(tmp, "store"))
	dataDir := filepath.Join(tmp, "web", "data")
	web := apptest.Start(t, webBin, "DATA_DIR="+dataDir, "STORE_URL="+store.URL, "HEARTH_TEST_ENV=hello")

	if web.Start.DataError != "" {
		t.Fatalf("start line dataError = %q, want none", web.Start.DataError)
	}
	if _, err := os.Stat(dataDir); err != nil {
		t.Fatalf("data dir not created at start: %v", err)
	}
	file := filepath.Join(dataDir, "hello.txt")

	// Sequential: later cases see what earlier ones did.
	tests := []struct {
		name       string
		method     string
		path       string
		wantStatus int
		wantBody   string // substring
	}{
		{"healthz", "GET", "/healthz", 200, "ok"},
		{"break needs POST", "GET", "/break", 405, ""},
		{"write", "GET", "/write?path=" + file + "&data=hi-there", 200, "ok"},
		{"read", "GET", "/read?path=" + file, 200, "hi-there"},
		{"read missing", "GET", "/read?path=" + filepath.Join(dataDir, "nope"), 500, "no such file or directory"},
		{"write relative path", "GET", "/write?path=x", 400, "parameter path"},
		{"proc status", "GET", "/proc?file=status", 200, "CapEff:"},
		{"proc status seccomp", "GET", "/proc?file=status", 200, "Seccomp:"},
		{"proc status no_new_privs", "GET", "/proc?file=status", 200, "NoNewPrivs:"},
		{"proc cgroup", "GET", "/proc?file=cgroup", 200, ":"},
		{"proc mountinfo", "GET", "/proc?file=mountinfo", 200, " - "},
		{"proc limits", "GET", "/proc?file=limits", 200, "Max open files"},
		{"proc outside the list", "GET", "/proc?file=../environ", 400, "parameter file"},
		{"alloc", "GET", "/alloc?mb=4", 200, "holding 4 MiB"},
		{"alloc holds", "GET", "/alloc?mb=2", 200, "holding 6 MiB"},
		{"alloc zero", "GET", "/alloc?mb=0", 400, "parameter mb"},
		{"burn", "GET", "/burn?ms=20", 200, "burned"},
		{"burn too long", "GET", "/burn?ms=600000", 400, "parameter ms"},
		{"dial store", "GET", "/dial?addr=" + store.Start.Addr, 200, "ok"},
		{"dial closed port", "GET", "/dial?addr=" + closedPort(t) + "&timeout=1000", 500, "connection refused"},
		{"dial bad addr", "GET", "/dial?addr=nowhere", 400, "parameter addr"},
		{"resolve", "GET", "/resolve?name=localhost", 200, "127.0.0.1"},
		{"resolve no name", "GET", "/resolve", 400, "parameter name"},
		{"peer first", "GET", "/peer", 200, "1\n"},
		{"peer second", "GET", "/peer", 200, "2\n"},
		{"exit bad code", "GET", "/exit?code=300", 400, "parameter code"},
		{"unknown", "GET", "/nope", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := call(t, tt.method, web.URL+tt.path)
			if status != tt.wantStatus {
				t.Errorf("status: got %d, want %d (body %q)", status, tt.wantStatus, body)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body: got %q, want it to contain %q", body, tt.wantBody)
			}
		})
	}

	t.Run("info", func(t *testing.T) {
		status, body := call(t, "GET", web.URL+"/")
		if status != 200 {
			t.Fatalf("status: got %d, want 200 (body %q)", status, body)
		}
		var got Info
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("decode %q: %v", body, err)
		}
		host, _ := os.Hostname()
		want := Info{
			App: "web", Version: "1.0-test", Hostname: host, PID: got.PID,
			UID: os.Getuid(), GID: os.Getgid(), Groups: got.Groups,
			Env: got.Env, DataDir: dataDir, DataFiles: []string{"hello.txt"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("info (-want +got):\n%s", diff)
		}
		if got.Env["HEARTH_TEST_ENV"] != "hello" {
			t.Errorf("env HEARTH_TEST_ENV: got %q, want %q", got.Env["HEARTH_TEST_ENV"], "hello")
		}
	})

	t.Run("break and heal", func(t *testing.T) {
		steps := []struct {
			method, path string
			wantStatus   int
			wantBody     string
		}{
			{"POST", "/break", 200, "ok"},
			{"GET", "/healthz", 500, "broken at run time"},
			{"POST", "/heal", 200, "ok"},
			{"GET", "/healthz", 200, "ok"},
		}
		for _, s := range steps {
			status, body := call(t, s.method, web.URL+s.path)
			if status != s.wantStatus || !strings.Contains(body, s.wantBody) {
				t.Errorf("%s %s: got %d %q, want %d %q", s.method, s.path, status, body, s.wantStatus, s.wantBody)
			}
		}
	})

	t.Run("log", func(t *testing.T) {
		status, body := call(t, "GET", web.URL+"/log?lines=3&size=20")
		if status != 200 {
			t.Fatalf("status: got %d, want 200 (body %q)", status, body)
		}
		want := []string{"web log line 0 xxxxx", "web log line 1 xxxxx", "web log line 2 xxxxx"}
		var got []string
		waitFor(t, "3 log lines on stdout", func() bool {
			lines := strings.Split(strings.TrimSuffix(web.Stdout(), "\n"), "\n")
			got = lines[1:] // after the start line
			return len(got) >= 3
		})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("stdout lines (-want +got):\n%s", diff)
		}
		waitFor(t, "a line on stderr", func() bool { return strings.Contains(web.Stderr(), "web stderr line") })
	})

	t.Run("exit", func(t *testing.T) {
		status, body := call(t, "GET", web.URL+"/exit?code=3")
		if status != 200 || !strings.Contains(body, "exiting with code 3") {
			t.Errorf("exit: got %d %q, want 200 \"exiting with code 3\"", status, body)
		}
		code, err := web.Wait(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code != 3 {
			t.Errorf("exit code: got %d, want 3", code)
		}
	})
}

func TestWebBuiltBroken(t *testing.T) {
	bin := apptest.Build(t, ".", "main.version=2.0", "main.broken=true")
	web := apptest.Start(t, bin, "DATA_DIR="+filepath.Join(t.TempDir(), "data"))

	status, body := call(t, "GET", web.URL+"/healthz")
	if status != 500 || !strings.Contains(body, "built broken") {
		t.Errorf("healthz: got %d %q, want 500 \"built broken\"", status, body)
	}
	call(t, "POST", web.URL+"/heal")
	if status, _ := call(t, "GET", web.URL+"/healthz"); status != 500 {
		t.Errorf("healthz after heal: got %d, want 500 (a broken build stays broken)", status)
	}
	var info Info
	_, body = call(t, "GET", web.URL+"/")
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("decode %q: %v", body, err)
	}
	if !info.BuiltBroken || info.Version != "2.0" {
		t.Errorf("info: got builtBroken %v version %q, want true \"2.0\"", info.BuiltBroken, info.Version)
	}

	if err := web.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	code, err := web.Wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Errorf("exit code after SIGTERM: got %d, want 0", code)
	}
}
