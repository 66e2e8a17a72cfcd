package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/internal/ctrd"
	"github.com/hearthbox/hearth/internal/samplecatalog"
	"github.com/hearthbox/hearth/internal/testenv"
)

// shared is built once per test binary: the two binaries and the sample
// catalog with its registry.
type shared struct {
	bin     string // folder with hearthd (built with fault points) and hearth
	samples *samplecatalog.Samples
	envPath string
	key     string
	err     error
}

var (
	sharedOnce sync.Once
	sh         shared
	boxSeq     atomic.Int32
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sh.samples != nil {
		_ = sh.samples.Close()
	}
	if sh.bin != "" {
		_ = os.RemoveAll(sh.bin)
	}
	os.Exit(code)
}

func setup(t *testing.T) *shared {
	t.Helper()
	testenv.NeedContainerd(t)
	sharedOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		sh.bin, sh.err = os.MkdirTemp("", "hearth-e2e-bin-")
		if sh.err != nil {
			return
		}
		root, err := filepath.Abs("../..")
		if err != nil {
			sh.err = err
			return
		}
		for _, b := range [][]string{
			{"build", "-tags", "faultinject", "-o", filepath.Join(sh.bin, "hearthd"), "./cmd/hearthd"},
			{"build", "-o", filepath.Join(sh.bin, "hearth"), "./cmd/hearth"},
		} {
			cmd := exec.CommandContext(ctx, "go", b...)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				sh.err = fmt.Errorf("go %v: %v: %s", b, err, out)
				return
			}
		}
		sh.samples, sh.err = samplecatalog.Start(ctx, samplecatalog.Options{Dir: filepath.Join(sh.bin, "samples")})
		if sh.err != nil {
			return
		}
		sh.envPath = filepath.Join(sh.bin, "samples.json")
		sh.err = os.WriteFile(sh.envPath, sh.samples.Envelope, 0o644)
		sh.key = base64.StdEncoding.EncodeToString(sh.samples.Source.Trust.Keys[0].Public)
	})
	if sh.err != nil {
		t.Fatalf("e2e setup: %v", sh.err)
	}
	return &sh
}

// box is one Hearth box: a state folder and, while it runs, a hearthd.
type box struct {
	t      *testing.T
	sh     *shared
	dir    string
	socket string
	n      int32

	cmd  *exec.Cmd
	done chan error
	log  *lockedWriter
	// ui is the web UI's address (HEARTH_UI), known once start returns.
	ui string
}

func newBox(t *testing.T) *box {
	t.Helper()
	s := setup(t)
	// Short: containerd's socket lives below it.
	dir, err := os.MkdirTemp("/tmp", "hb-")
	if err != nil {
		t.Fatal(err)
	}
	b := &box{t: t, sh: s, dir: dir, socket: filepath.Join(dir, "hearthd.sock"), n: boxSeq.Add(1)}
	t.Cleanup(b.teardown)
	return b
}

// start runs hearthd and waits until it is ready; with a fault point it
// returns at once, since hearthd will die there.
func (b *box) start(fault string) {
	b.t.Helper()
	b.cmd = exec.Command(filepath.Join(b.sh.bin, "hearthd"), "--dev", "--state", b.dir,
		"--dev-catalog", b.sh.envPath, "--dev-catalog-key", b.sh.key,
		"--net-prefix", fmt.Sprintf("he%03d", b.n), "--net-pool", fmt.Sprintf("10.236.%d.0/20", (b.n%16)*16),
		"--health-timeout", "20s", "--namespace", fmt.Sprintf("hearth-e2e-%d", b.n),
		"--http", "127.0.0.1:0", "--https", "127.0.0.1:0", "--ui", "127.0.0.1:0", "--app-port-base", fmt.Sprint(20001+int(b.n)*10))
	b.cmd.Env = append(os.Environ(), "HEARTH_FAULT="+fault)
	if b.log == nil {
		b.log = &lockedWriter{}
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		b.t.Fatal(err)
	}
	b.cmd.Stderr = b.log
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		once := false
		for sc.Scan() {
			if ui, ok := strings.CutPrefix(sc.Text(), "HEARTH_UI="); ok && !once {
				b.ui = ui // read after ready is closed
			}
			if strings.HasPrefix(sc.Text(), "HEARTH_SOCKET=") && !once {
				once = true
				close(ready)
			}
		}
	}()
	b.done = make(chan error, 1)
	cmd := b.cmd
	go func() { b.done <- cmd.Wait() }()
	select {
	case <-ready:
	case err := <-b.done:
		b.done <- err
		b.t.Fatalf("hearthd exited at start: %v\n%s", err, b.log)
	case <-time.After(60 * time.Second):
		b.t.Fatalf("hearthd not ready in 60 s\n%s", b.log)
	}
}

// waitDeath waits for hearthd to die at its fault point.
func (b *box) waitDeath() {
	b.t.Helper()
	select {
	case <-b.done:
		b.cmd = nil
	case <-time.After(90 * time.Second):
		b.t.Fatalf("hearthd did not reach its fault point\n%s", b.log)
	}
}

// stop stops hearthd cleanly.
func (b *box) stop() {
	if b.cmd == nil {
		return
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
	}
	b.cmd = nil
}

// hearth runs the CLI and returns its stdout, stderr and exit code.
func (b *box) hearth(args ...string) (string, string, int) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(b.sh.bin, "hearth"), args...)
	cmd.Env = append(os.Environ(), "HEARTH_SOCKET="+b.socket)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		b.t.Fatalf("hearth %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// ok runs the CLI and fails the test unless it exits 0.
func (b *box) ok(args ...string) string {
	b.t.Helper()
	out, errOut, code := b.hearth(args...)
	if code != 0 {
		b.t.Fatalf("hearth %v: exit %d: %s%s\nhearthd:\n%s", args, code, out, errOut, b.log)
	}
	return out
}

func (b *box) app(id string) (api.App, bool) {
	b.t.Helper()
	out, _, code := b.hearth("app", "info", id, "--json")
	if code != 0 {
		return api.App{}, false
	}
	var a api.App
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		b.t.Fatalf("app info --json: %v: %s", err, out)
	}
	return a, true
}

// waitApp waits until the app's state is want (and no operation runs).
func (b *box) waitApp(id, want string) api.App {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var last api.App
	for time.Now().Before(deadline) {
		a, ok := b.app(id)
		if ok && a.State == want && a.Operation == nil {
			return a
		}
		last = a
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Fatalf("app %s: got state %q (operation %+v), want %q\n%s", id, last.State, last.Operation, want, b.log)
	return last
}

// web asks the app's web service for path, on its own address (the
// samples' web service listens on 8080).
func (b *box) web(a api.App, path string) (string, error) {
	ip := ""
	for _, s := range a.Services {
		// The samples' web service is "web", or in some compose styles
		// the only other one than "store".
		if s.Name == "web" || (ip == "" && s.Name != "store") {
			ip = s.IP
		}
	}
	if ip == "" {
		return "", fmt.Errorf("app %s has no web service address", a.ID)
	}
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get("http://" + ip + ":8080" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return string(body), fmt.Errorf("%s: %s", path, resp.Status)
	}
	return string(body), nil
}

// viaProxy asks the app for path through hearthd's proxy on the app's own
// port (https://hearth.local:<port>/), trusting only the box's own root.
func (b *box) viaProxy(a api.App, path string) (string, error) {
	var port string
	for _, u := range a.URLs {
		if strings.HasPrefix(u, "https://hearth.local:") {
			port = strings.TrimSuffix(strings.TrimPrefix(u, "https://hearth.local:"), "/")
		}
	}
	if port == "" {
		return "", fmt.Errorf("app %s has no port URL in %v", a.ID, a.URLs)
	}
	pemBytes, err := os.ReadFile(filepath.Join(b.dir, "certs", "lanca", "root.crt"))
	if err != nil {
		return "", err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		return "", errors.New("no root certificate")
	}
	tr := &http.Transport{Proxy: nil, TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "hearth.local"}}
	c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	var body string
	var last error
	for range 50 { // the certificate is issued as the route appears
		resp, err := c.Get("https://127.0.0.1:" + port + path)
		if err == nil {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(raw)
			if resp.StatusCode == http.StatusOK {
				return body, nil
			}
			err = fmt.Errorf("%s: %s", resp.Status, body)
		}
		last = err
		sleep()
	}
	return body, last
}

func (b *box) dataDir(app string) string { return filepath.Join(b.dir, "apps", app) }

// teardown uninstalls what is left, stops hearthd, kills what its
// containerd still runs and removes the box.
func (b *box) teardown() {
	if b.cmd == nil {
		b.start("")
	}
	out, _, code := b.hearth("app", "ls", "--json")
	var apps []api.App
	if code == 0 && json.Unmarshal([]byte(out), &apps) == nil {
		for _, a := range apps {
			if _, errOut, code := b.hearth("app", "uninstall", a.ID); code != 0 {
				b.t.Errorf("teardown: uninstall %s: %s", a.ID, errOut)
			}
		}
	}
	b.stop()
	ctx := context.Background()
	if d, err := ctrd.Start(ctx, ctrd.Options{Dir: filepath.Join(b.dir, "containerd")}); err == nil {
		_ = d.Stop(ctx)
	}
	// The shims keep runc's state per namespace on the host: an empty
	// folder stays behind.
	_ = os.Remove(filepath.Join("/run/containerd/runc", fmt.Sprintf("hearth-e2e-%d", b.n)))
	mounts, _ := ctrd.MountsUnder(b.dir)
	for _, m := range mounts {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
	if err := os.RemoveAll(b.dir); err != nil {
		b.t.Errorf("teardown: %v", err)
	}
	if b.t.Failed() {
		b.t.Logf("hearthd's log:\n%s", b.log)
	}
}

// lockedWriter collects hearthd's log across its restarts.
type lockedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func sleep() { time.Sleep(200 * time.Millisecond) }
