package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Proxy names: the keys of the report.
const (
	proxyHearth = "hearth"
	proxyCaddy  = "caddy"
	proxyNginx  = "nginx"
)

// proxyOrder is the order the first round runs them in; each later round
// starts one further along.
func proxyOrder() []string { return []string{proxyHearth, proxyCaddy, proxyNginx} }

// runningProxy is one proxy under test, serving https://localhost:port/
// (and benchHost there).
type runningProxy struct {
	Name string
	URL  string
	// Version is what the proxy says it is; Setup how it runs; TLS what
	// openssl (as wrk) negotiates with it.
	Version, Setup, TLS string
	// port is where it listens on 127.0.0.1.
	port int
	// pids are the proxy's processes, whose CPU time and system calls are
	// its cost.
	pids func() ([]int, error)
	stop func(context.Context) error
}

// peerEnv is what every proxy is started with.
type peerEnv struct {
	thread  *pinnedThread
	pki     *testPKI
	backend string
	// dir is the run's folder; each peer gets dir/<name>.
	dir       string
	accessLog bool
	// workers is nginx's worker_processes and the Go proxies' GOMAXPROCS.
	workers int
}

// startCaddy runs `caddy run` with a Caddyfile in its own folder, with its
// home and XDG folders there too, so that it writes nothing elsewhere.
func startCaddy(ctx context.Context, env peerEnv, bin string) (*runningProxy, error) {
	dir := filepath.Join(env.dir, proxyCaddy)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	version, err := moduleVersion(bin)
	if err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	trustBefore, err := dirNames(systemTrustDir)
	if err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	conf, err := renderCaddyfile(peerConf{Dir: dir, Port: port, Backend: env.backend, CertFile: env.pki.CertFile, KeyFile: env.pki.KeyFile, AccessLog: env.accessLog, Workers: env.workers})
	if err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	confPath := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(confPath, conf, 0o600); err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	logPath := filepath.Join(dir, "caddy.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("caddy: %w", err)
	}
	defer logf.Close()
	// Not CommandContext: Caddy outlives ctx; stop ends it.
	cmd := exec.Command(bin, "run", "--config", confPath, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = append(withHome(os.Environ(), dir), "GOMAXPROCS="+strconv.Itoa(env.workers))
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startPeer(ctx, env, proxyCaddy, cmd, logPath, port, version, false,
		"caddy run: reverse_proxy with its default transport but keepalive_idle_conns_per_host 64 (default 32), tls with the test certificate, protocols h1 h2, admin and automatic HTTPS off, GOMAXPROCS="+strconv.Itoa(env.workers))
	if err != nil {
		return nil, err
	}
	if err := checkTrustUnchanged(trustBefore); err != nil {
		return nil, errors.Join(fmt.Errorf("caddy: %w", err), p.stop(context.WithoutCancel(ctx)))
	}
	return p, nil
}

// systemTrustDir is where Debian keeps locally added CA certificates.
const systemTrustDir = "/usr/local/share/ca-certificates"

// checkTrustUnchanged fails when systemTrustDir holds names it did not
// hold before: a proxy must never change what the machine trusts.
func checkTrustUnchanged(before map[string]bool) error {
	after, err := dirNames(systemTrustDir)
	if err != nil {
		return err
	}
	var added []string
	for n := range after {
		if !before[n] {
			added = append(added, n)
		}
	}
	if len(added) > 0 {
		slices.Sort(added)
		return fmt.Errorf("%s gained %s: remove them and run update-ca-certificates", systemTrustDir, strings.Join(added, ", "))
	}
	return nil
}

// dirNames returns the names in dir (none when it does not exist).
func dirNames(dir string) (map[string]bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	names := map[string]bool{}
	for _, e := range ents {
		names[e.Name()] = true
	}
	return names, nil
}

// moduleVersion reads the main module's version and the Go version from a
// Go binary (caddy version says "unknown" for a go-installed build).
func moduleVersion(bin string) (string, error) {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return "", fmt.Errorf("build info of %s: %w", bin, err)
	}
	return bi.Main.Version + " (" + bi.GoVersion + ")", nil
}

// startNginx runs Debian's nginx with its own prefix and configuration
// (master process, env.workers worker processes, in the foreground).
func startNginx(ctx context.Context, env peerEnv, bin string) (*runningProxy, error) {
	dir := filepath.Join(env.dir, proxyNginx)
	// The workers run as nobody and need to reach their temporary folders.
	if err := os.MkdirAll(filepath.Join(dir, "tmp"), 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	version, err := commandVersion(ctx, bin, "-v")
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	version = strings.TrimPrefix(version, "nginx version: ")
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	conf, err := renderNginxConf(peerConf{Dir: dir, Port: port, Backend: env.backend, CertFile: env.pki.CertFile, KeyFile: env.pki.KeyFile, AccessLog: env.accessLog, Workers: env.workers})
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, conf, 0o644); err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	logPath := filepath.Join(dir, "error.log")
	logf, err := os.Create(filepath.Join(dir, "nginx.out"))
	if err != nil {
		return nil, fmt.Errorf("nginx: %w", err)
	}
	defer logf.Close()
	// -e: the error log before the configuration is read (Debian's default
	// is /var/log/nginx/error.log). Not CommandContext: nginx outlives ctx.
	cmd := exec.Command(bin, "-p", dir+"/", "-c", confPath, "-e", logPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	return startPeer(ctx, env, proxyNginx, cmd, logPath, port, version, true,
		"nginx -p DIR -c nginx.conf: master process, worker_processes "+strconv.Itoa(env.workers)+", proxy_pass to an upstream with keepalive 64, keepalive_requests 1000000 (client and upstream), X-Forwarded-* set, default proxy buffering, TLS 1.3 suites in Go's order with server preference")
}

// startPeer starts cmd and waits until it proxies to the backend. workers
// says that the proxy's cost includes its child processes.
func startPeer(ctx context.Context, env peerEnv, name string, cmd *exec.Cmd, logPath string, port int, version string, workers bool, setup string) (*runningProxy, error) {
	d, err := startDaemon(env.thread, name, cmd)
	if err != nil {
		return nil, err
	}
	p := &runningProxy{
		Name: name, Version: version, Setup: setup,
		URL:  proxyURL(port),
		port: port,
		stop: d.stop,
	}
	pid := cmd.Process.Pid
	p.pids = func() ([]int, error) { return []int{pid}, nil }
	if workers {
		p.pids = func() ([]int, error) { return withChildren(pid) }
	}
	if err := waitProxying(ctx, env.pki.client(), p.URL, d.exited); err != nil {
		if errors.Is(err, errPeerExited) {
			err = d.exitErr()
		}
		return nil, errors.Join(fmt.Errorf("%s: %w: %s", name, err, tail(logPath)), d.stop(context.WithoutCancel(ctx)))
	}
	return p, nil
}

// errPeerExited says a proxy ended while the benchmark waited for it.
var errPeerExited = errors.New("exited before it answered")

// waitProxying polls url until it answers 200 with the backend's body,
// over TLS verified against the test CA: proof that the proxy terminates
// TLS with the test certificate and forwards to the backend. It gives up
// after 30 s, when ctx ends, or when exited is closed.
func waitProxying(ctx context.Context, c *http.Client, url string, exited <-chan struct{}) error {
	defer c.CloseIdleConnections()
	want := backendBody()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	var last error
	for {
		if last = getBody(ctx, c, url, want); last == nil {
			return nil
		}
		select {
		case <-exited:
			return errPeerExited
		case <-deadline.C:
			return fmt.Errorf("no correct answer from %s in 30s: %w", url, last)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// getBody GETs url (Host: benchHost) and checks that the answer is 200 with body want.
func getBody(ctx context.Context, c *http.Client, url string, want []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Host = benchHost
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("got status %s, want 200", resp.Status)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("got a %d-byte body, want the backend's %d bytes", len(got), len(want))
	}
	return nil
}

// proxyURL is where the load generator connects for a proxy on port.
func proxyURL(port int) string {
	return "https://" + net.JoinHostPort(benchDialHost, strconv.Itoa(port)) + "/"
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	return port, nil
}

// commandVersion runs bin with args and returns the first line it prints
// (on stdout or stderr: nginx -v writes to stderr, wrk -v exits with 1).
func commandVersion(ctx context.Context, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	line = strings.TrimSpace(line)
	if line == "" {
		if err == nil {
			err = errors.New("printed nothing")
		}
		return "", fmt.Errorf("%s %s: %w", bin, strings.Join(args, " "), err)
	}
	return line, nil
}

// withHome returns env with HOME and the XDG folders set to dir.
func withHome(env []string, dir string) []string {
	out := make([]string, 0, len(env)+3)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if k == "HOME" || k == "XDG_CONFIG_HOME" || k == "XDG_DATA_HOME" || k == "XDG_CACHE_HOME" {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
}
