package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The private dockerd's bridge: made by the benchmark (dockerd --bridge
// needs an existing one), so that the host's docker0 is never touched.
const dockerBridge = "hbenchdkr0"

// dockerRunDir is where dockerd 20.10 keeps plugin sockets, whatever its
// --exec-root.
const dockerRunDir = "/run/docker"

// dockerPeerConfig configures the docker method.
type dockerPeerConfig struct {
	// Dockerd and Docker are the daemon and the CLI (Debian's docker.io).
	Dockerd, Docker string
	// Host is an existing daemon's socket ("unix:///run/docker.sock"); empty
	// starts a private dockerd in Dir.
	Host string
	// Dir holds the private daemon's data, exec root, socket, pidfile,
	// configuration and log, and the CLI's configuration.
	Dir string
	// Gateway is the bridge's address with its subnet (private daemon only).
	Gateway netip.Prefix
	// Ref is the image reference to pull and run.
	Ref string
}

// dockerPeer runs containers with `docker run -d`.
type dockerPeer struct {
	cfg  dockerPeerConfig
	host string
	api  *http.Client
	env  []string
	// cmd and done are the private daemon and its Wait result (nil when
	// Host was given).
	cmd  *exec.Cmd
	done chan error
	// bridge says whether the private daemon's bridge was made, madeRunDir
	// whether dockerRunDir was not there before it.
	bridge, madeRunDir bool
	// made are the containers this run made (to remove from a shared daemon).
	made map[string]bool
}

// newDockerPeer starts the private daemon (unless cfg.Host is set) and pulls
// the image. On error, what it started is stopped.
func newDockerPeer(ctx context.Context, cfg dockerPeerConfig) (*dockerPeer, error) {
	p := &dockerPeer{cfg: cfg, host: cfg.Host, made: map[string]bool{}}
	if err := p.setup(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("docker peer: %w", err), p.close(context.WithoutCancel(ctx)))
	}
	return p, nil
}

func (p *dockerPeer) setup(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(p.cfg.Dir, "cli"), 0o700); err != nil {
		return err
	}
	p.env = append(os.Environ(), "DOCKER_CONFIG="+filepath.Join(p.cfg.Dir, "cli"))
	if p.host == "" {
		p.host = "unix://" + filepath.Join(p.cfg.Dir, "docker.sock")
	}
	sock, ok := strings.CutPrefix(p.host, "unix://")
	if !ok {
		return fmt.Errorf("host %q: only unix:// sockets are supported", p.host)
	}
	p.api = &http.Client{Transport: &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	if p.cfg.Host == "" {
		if err := p.startDaemon(ctx); err != nil {
			return err
		}
	} else if err := p.ping(ctx); err != nil {
		return fmt.Errorf("daemon at %s: %w", p.host, err)
	}
	if out, err := p.docker(ctx, "pull", "-q", p.cfg.Ref); err != nil {
		return fmt.Errorf("pull %s: %w: %s", p.cfg.Ref, err, bytes.TrimSpace(out))
	}
	return nil
}

// startDaemon starts dockerd with everything under Dir, on its own bridge,
// without touching iptables, ip_forward or the host's docker0, and waits
// until it answers.
func (p *dockerPeer) startDaemon(ctx context.Context) error {
	d := p.cfg.Dir
	conf := filepath.Join(d, "daemon.json")
	// Without deprecated-key-path (a configuration key only; no flag in
	// Debian's 20.10) dockerd writes /etc/docker/key.json.
	b, err := json.Marshal(map[string]string{"deprecated-key-path": filepath.Join(d, "key.json")})
	if err != nil {
		return err
	}
	if err := os.WriteFile(conf, b, 0o600); err != nil {
		return err
	}
	// dockerd makes its plugin folder there whatever its exec root.
	if _, err := os.Stat(dockerRunDir); errors.Is(err, fs.ErrNotExist) {
		p.madeRunDir = true
	}
	if err := createBridge(dockerBridge, p.cfg.Gateway); err != nil {
		return err
	}
	p.bridge = true
	logf, err := os.OpenFile(filepath.Join(d, "dockerd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	// Not CommandContext: the daemon outlives the start context; close stops it.
	p.cmd = exec.Command(p.cfg.Dockerd,
		"--config-file", conf,
		"--data-root", filepath.Join(d, "data"),
		"--exec-root", filepath.Join(d, "exec"),
		"--pidfile", filepath.Join(d, "dockerd.pid"),
		"--host", p.host,
		"--bridge", dockerBridge,
		"--iptables=false",
		"--ip-forward=false",
		"--ip-masq=false",
		"--userland-proxy=false",
		"--log-level", "warn",
	)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := p.cmd.Start(); err != nil {
		p.cmd = nil
		return fmt.Errorf("start dockerd: %w", err)
	}
	p.done = make(chan error, 1)
	go func() { p.done <- p.cmd.Wait() }()

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	for {
		if p.ping(ctx) == nil {
			return nil
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("dockerd exited at start: %v: %s", err, tail(filepath.Join(d, "dockerd.log")))
		case <-deadline.C:
			return fmt.Errorf("dockerd did not answer in 60s: %s", tail(filepath.Join(d, "dockerd.log")))
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// tail returns the end of a log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// docker runs the CLI against the daemon.
func (p *dockerPeer) docker(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, p.cfg.Docker, append([]string{"--host", p.host}, args...)...)
	cmd.Env = p.env
	return cmd.CombinedOutput()
}

// call sends one Engine API request and decodes a JSON answer into out
// (when not nil).
func (p *dockerPeer) call(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://docker"+path, nil)
	if err != nil {
		return err
	}
	resp, err := p.api.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(body))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return nil
}

func (p *dockerPeer) ping(ctx context.Context) error {
	return p.call(ctx, http.MethodGet, "/_ping", nil)
}

// version returns the daemon's version.
func (p *dockerPeer) version(ctx context.Context) (string, error) {
	var v struct{ Version string }
	if err := p.call(ctx, http.MethodGet, "/version", &v); err != nil {
		return "", fmt.Errorf("docker version: %w", err)
	}
	return v.Version, nil
}

func (p *dockerPeer) start(ctx context.Context, id string) (netip.Addr, error) {
	p.made[id] = true
	out, err := p.docker(ctx, "run", "-d", "--name", id, p.cfg.Ref)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("docker run: %w: %s", err, bytes.TrimSpace(out))
	}
	// What `docker inspect` asks, without starting another CLI process.
	var c struct {
		NetworkSettings struct{ IPAddress string }
	}
	if err := p.call(ctx, http.MethodGet, "/containers/"+url.PathEscape(id)+"/json", &c); err != nil {
		return netip.Addr{}, fmt.Errorf("docker inspect %s: %w", id, err)
	}
	ip, err := netip.ParseAddr(c.NetworkSettings.IPAddress)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("docker inspect %s: address %q: %w", id, c.NetworkSettings.IPAddress, err)
	}
	return ip, nil
}

func (p *dockerPeer) remove(ctx context.Context, id string) error {
	err := p.call(ctx, http.MethodDelete, "/containers/"+url.PathEscape(id)+"?force=true&v=true", nil)
	if err != nil && !strings.Contains(err.Error(), "404") {
		return fmt.Errorf("docker rm %s: %w", id, err)
	}
	delete(p.made, id)
	return nil
}

// close removes the containers this run made and stops the private daemon
// (its managed containerd with it), then deletes its bridge.
func (p *dockerPeer) close(ctx context.Context) error {
	var errs []error
	for id := range p.made {
		if p.api != nil {
			errs = append(errs, p.remove(ctx, id))
		}
	}
	if p.cmd != nil {
		errs = append(errs, p.stopDaemon())
	}
	if p.bridge {
		errs = append(errs, deleteLink(dockerBridge))
	}
	if p.madeRunDir {
		errs = append(errs, removeEmptyDirs(filepath.Join(dockerRunDir, "plugins"), dockerRunDir))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("docker cleanup: %w", err)
	}
	return nil
}

// stopDaemon sends SIGTERM and waits; after 30 s it kills the daemon's
// process group (the daemon and its managed containerd).
func (p *dockerPeer) stopDaemon() error {
	if p.done == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(30 * time.Second)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.done = nil
	return nil
}
