package rt_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearthbox/hearth/internal/ctrd"
	"github.com/hearthbox/hearth/internal/sampleimg"
	"github.com/hearthbox/hearth/internal/testenv"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/logfile"
)

// The package's integration tests share one private containerd and one
// registry holding the sample images, made once in TestMain. Each test gets
// its own runtime client: its own containerd namespace, state folder, data
// root, iptables chain prefix and slice of the address pool.
type sharedEnv struct {
	daemon   *ctrd.Daemon
	registry *testenv.Registry
	// refs are the pushed sample images by "app:version", with their digests.
	refs  map[string]string
	cache string
	err   error
}

func TestMain(m *testing.M) {
	// containerd's shim starts this test binary as the log driver.
	if logfile.IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(logfile.Main())
	}
	if os.Getenv(holderEnv) != "" {
		os.Exit(runHolder())
	}
	code := m.Run()
	env.stop()
	os.Exit(code)
}

// stop ends what startEnv started.
func (e *sharedEnv) stop() {
	if e.daemon != nil {
		if err := e.daemon.Stop(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "stop containerd:", err)
		}
	}
	if e.registry != nil {
		_ = e.registry.Close()
	}
	if e.cache != "" {
		_ = os.RemoveAll(e.cache)
	}
}

var (
	envOnce sync.Once
	env     sharedEnv
	envSeq  atomic.Int32
)

// needEnv returns the shared environment, starting it on first use. Under CI
// a missing part fails the test; elsewhere it skips.
func needEnv(t *testing.T) *sharedEnv {
	t.Helper()
	testenv.NeedContainerd(t)
	envOnce.Do(func() { env = startEnv() })
	if env.err != nil {
		t.Fatalf("test environment: %v", env.err)
	}
	return &env
}

func startEnv() sharedEnv {
	var e sharedEnv
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	e.daemon, e.err = ctrd.Start(ctx, ctrd.Options{})
	if e.err != nil {
		return e
	}
	e.registry, e.err = testenv.StartRegistry(testenv.RegistryOptions{})
	if e.err != nil {
		return e
	}
	e.cache, e.err = os.MkdirTemp("", "hearth-sampleimg-")
	if e.err != nil {
		return e
	}
	b := sampleimg.NewBuilder(sampleimg.Config{CacheDir: e.cache})
	e.refs = map[string]string{}
	for _, s := range sampleimg.Standard() {
		s.Platforms = []string{"linux/" + runtime.GOARCH}
		idx, err := b.Build(ctx, s)
		if err != nil {
			e.err = fmt.Errorf("build %s: %w", s.App, err)
			return e
		}
		ref := s.Ref(e.registry.Host)
		if _, err := b.Push(ctx, idx, ref); err != nil {
			e.err = fmt.Errorf("push %s: %w", ref, err)
			return e
		}
		e.refs[s.App+":"+s.Version] = ref
	}
	return e
}

// testClient is one test's runtime client and its folders.
type testClient struct {
	*rt.Client
	cfg      rt.Config
	dataRoot string
	ns       string
}

// newClient makes a runtime client for one test.
func newClient(t *testing.T, e *sharedEnv, tune ...func(*rt.Config)) *testClient {
	t.Helper()
	n := envSeq.Add(1)
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cfg := rt.Config{
		Address:   e.daemon.Socket,
		Namespace: fmt.Sprintf("hearth-test-%d", n),
		StateDir:  filepath.Join(dir, "state"),
		DataRoot:  filepath.Join(dir, "data"),
		LogDriver: self,
	}
	// Fixed width: no prefix may be a prefix of another.
	cfg.Network.Prefix = fmt.Sprintf("hrt%03d", n)
	// DNS forwarding stays on this machine: nothing listens there.
	cfg.Network.Upstreams = []string{"127.0.0.1:1"}
	cfg.Network.Pool = netip.MustParsePrefix(fmt.Sprintf("10.232.%d.0/20", (int(n)%16)*16))
	for _, f := range tune {
		f(&cfg)
	}
	c, err := rt.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("rt.New: %v", err)
	}
	tc := &testClient{Client: c, cfg: cfg, dataRoot: cfg.DataRoot, ns: cfg.Namespace}
	t.Cleanup(func() { tc.teardown(t) })
	return tc
}

// teardown removes every container and network the test made, then closes.
func (tc *testClient) teardown(t *testing.T) {
	ctx := context.Background()
	infos, err := tc.List(ctx, "")
	if err != nil {
		t.Errorf("teardown list: %v", err)
	}
	nets := map[string]bool{}
	for _, i := range infos {
		if err := tc.Remove(ctx, i.ID); err != nil {
			t.Errorf("teardown remove %s: %v", i.ID, err)
		}
		nets[i.Labels["hearth.network"]] = true
	}
	for n := range nets {
		if n != "" {
			if err := tc.RemoveNetwork(ctx, n); err != nil {
				t.Errorf("teardown network %s: %v", n, err)
			}
		}
	}
	if err := tc.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	// The shims keep runc's state per namespace on the host: an empty
	// folder stays behind.
	_ = os.Remove(filepath.Join("/run/containerd/runc", tc.ns))
}

// pull pulls a sample image and returns its pinned reference.
func (tc *testClient) pull(t *testing.T, e *sharedEnv, app string) string {
	t.Helper()
	img, err := tc.Pull(context.Background(), e.refs[app], rt.PullOptions{})
	if err != nil {
		t.Fatalf("pull %s: %v", app, err)
	}
	return img.Ref
}

// webSpec is the spec of the sample web app in group g.
func (tc *testClient) webSpec(id, group, image, network string) rt.ContainerSpec {
	return rt.ContainerSpec{
		ID:          id,
		Group:       group,
		Image:       image,
		Network:     network,
		Names:       []string{"web"},
		DataDir:     filepath.Join(tc.dataRoot, group),
		Volumes:     []rt.Volume{{Source: "web", Target: "/app/data"}},
		Env:         []string{"STORE_URL=http://store:8081"},
		Health:      &rt.HealthCheck{HTTPPath: "/healthz", HTTPPort: 8080, Interval: 200 * time.Millisecond, Timeout: time.Second, Retries: 2},
		Resources:   rt.Resources{MemoryBytes: 64 << 20, PidsLimit: 64},
		StopTimeout: 5 * time.Second,
	}
}

// run ensures and starts a spec, failing the test on error.
func (tc *testClient) run(t *testing.T, s rt.ContainerSpec) rt.ContainerInfo {
	t.Helper()
	ctx := context.Background()
	if _, _, err := tc.Ensure(ctx, s); err != nil {
		t.Fatalf("ensure %s: %v", s.ID, err)
	}
	info, err := tc.Start(ctx, s.ID)
	if err != nil {
		t.Fatalf("start %s: %v", s.ID, err)
	}
	return info
}

// get asks the container at ip:port for path and returns the body; an HTTP
// error status is returned as an error with the body.
func get(ctx context.Context, ip netip.Addr, port int, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	url := fmt.Sprintf("http://%s%s", netip.AddrPortFrom(ip, uint16(port)), path)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 400 {
		return string(b), fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

// waitHTTP polls until the container answers 200 on path.
func waitHTTP(t *testing.T, ip netip.Addr, port int, path string) string {
	t.Helper()
	var last error
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		body, err := get(context.Background(), ip, port, path)
		if err == nil {
			return body
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s:%d%s never answered: %v", ip, port, path, last)
	return ""
}

// waitFor polls cond until it is true or the time is up.
func waitFor(t *testing.T, what string, d time.Duration, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(d)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s (last error: %v)", what, d, last)
}
