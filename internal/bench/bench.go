package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"
	"golang.org/x/sys/unix"

	"github.com/hearthbox/hearth/internal/ctrd"
	"github.com/hearthbox/hearth/internal/sampleimg"
	"github.com/hearthbox/hearth/internal/testenv"
)

// runcRoot is the containerd shim's default runc root.
const runcRoot = "/run/containerd/runc"

// errTargetsMissed is returned, after the report is written, when a target
// was missed.
var errTargetsMissed = errors.New("benchmark targets missed")

// Config configures a run of the runtime benchmark.
type Config struct {
	// OutDir receives runtime.json.
	OutDir string
	// Runs is the number of measured rounds (each runs every method once),
	// at least 20; Warmup rounds before them are not measured.
	Runs, Warmup int
	// Poll is the interval between HTTP attempts; Settle the pause after
	// each removal, so that one method's clean-up does not run into the
	// next one's measurement; CycleTimeout bounds one start.
	Poll, Settle, CycleTimeout time.Duration
	// Binaries: containerd, ctr, docker (the CLI) and dockerd.
	Containerd, Ctr, Docker, Dockerd string
	// DockerHost is an existing dockerd's socket (unix://...); empty starts
	// a private one.
	DockerHost string
	// CNIPlugins is where the CNI plugins are (Debian: /usr/lib/cni).
	CNIPlugins string
	// CNIConfDir, CNIPluginDir and CNICacheDir are ctr's fixed CNI folders.
	CNIConfDir, CNIPluginDir, CNICacheDir string
	// RTPool is the runtime's address pool (default 10.233.0.0/16),
	// CTRSubnet ctr's bridge subnet (10.234.0.0/24) and DockerGateway the
	// private dockerd's bridge address (10.235.0.1/24): apart from each
	// other and from the tests' 10.232.0.0/16.
	RTPool, CTRSubnet, DockerGateway netip.Prefix
	// LogDriver is this program (containerd's shim starts it as the
	// runtime's log driver).
	LogDriver string
	// Stdout receives the table, Progress one line per round.
	Stdout, Progress io.Writer
	Logger           *slog.Logger
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	if c.Runs < 20 {
		return c, fmt.Errorf("config: runs %d: must be at least 20", c.Runs)
	}
	if c.Warmup < 0 {
		return c, fmt.Errorf("config: warmup %d: must not be negative", c.Warmup)
	}
	if c.Poll <= 0 || c.Poll > time.Second {
		return c, fmt.Errorf("config: poll %s: must be above 0 and at most 1s", c.Poll)
	}
	if c.Settle < 0 {
		return c, fmt.Errorf("config: settle %s: must not be negative", c.Settle)
	}
	if c.CycleTimeout <= 0 {
		return c, fmt.Errorf("config: cycle timeout %s: must be positive", c.CycleTimeout)
	}
	if c.OutDir == "" {
		return c, errors.New("config: out: must be set")
	}
	if c.DockerHost != "" && !strings.HasPrefix(c.DockerHost, "unix://") {
		return c, fmt.Errorf("config: docker-host %q: must be unix:///path", c.DockerHost)
	}
	if c.LogDriver == "" || !filepath.IsAbs(c.LogDriver) {
		return c, fmt.Errorf("config: log driver %q: must be an absolute path", c.LogDriver)
	}
	defaults := []struct {
		p   *netip.Prefix
		def string
	}{{&c.RTPool, "10.233.0.0/16"}, {&c.CTRSubnet, "10.234.0.0/24"}, {&c.DockerGateway, "10.235.0.1/24"}}
	for _, d := range defaults {
		if !d.p.IsValid() {
			*d.p = netip.MustParsePrefix(d.def)
		}
	}
	if c.RTPool.Overlaps(c.CTRSubnet) || c.RTPool.Overlaps(c.DockerGateway.Masked()) || c.CTRSubnet.Overlaps(c.DockerGateway.Masked()) {
		return c, fmt.Errorf("config: the runtime pool %s, ctr subnet %s and docker bridge %s must not overlap", c.RTPool, c.CTRSubnet, c.DockerGateway)
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// method is one way of starting the sample container.
type method interface {
	// start creates and starts container id and returns its address, once
	// the call or command that starts it returned.
	start(ctx context.Context, id string) (netip.Addr, error)
	// remove stops and deletes container id with all it holds.
	remove(ctx context.Context, id string) error
}

// bench is one run. Everything it starts is stopped by cleanup, last first.
type bench struct {
	cleanups
	cfg Config
	log *slog.Logger
}

// runBench runs the runtime benchmark: it starts the parts, measures, writes
// OutDir/runtime.json, prints the table and stops everything it started.
func runBench(ctx context.Context, cfg Config) (err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return err
	}
	b := &bench{cfg: cfg, log: cfg.Logger.With("component", "bench")}
	defer func() { err = errors.Join(err, b.cleanup()) }()
	return b.run(ctx)
}

// cleanups are what a run must undo, in the order it did them.
type cleanups struct {
	undo []func(context.Context) error
}

// onExit registers f to run at cleanup.
func (c *cleanups) onExit(f func(context.Context) error) { c.undo = append(c.undo, f) }

// cleanup runs the registered functions, last first, with a context of its
// own: the run's may be cancelled already.
func (c *cleanups) cleanup() error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var errs []error
	for i := len(c.undo) - 1; i >= 0; i-- {
		errs = append(errs, c.undo[i](ctx))
	}
	c.undo = nil
	return errors.Join(errs...)
}

// binaries resolves the host binaries the run needs.
func (b *bench) binaries() error {
	for _, p := range []*string{&b.cfg.Containerd, &b.cfg.Ctr, &b.cfg.Docker, &b.cfg.Dockerd} {
		if b.cfg.DockerHost != "" && p == &b.cfg.Dockerd {
			continue
		}
		path, err := exec.LookPath(*p)
		if err != nil {
			return fmt.Errorf("%s not found (make deps-bench installs containerd and docker.io): %w", *p, err)
		}
		*p = path
	}
	for _, bin := range []string{"runc", "containerd-shim-runc-v2", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found (make deps-bench installs it): %w", bin, err)
		}
	}
	return nil
}

func (b *bench) run(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("the benchmark needs root (containerd, dockerd, network namespaces, iptables)")
	}
	if err := b.binaries(); err != nil {
		return err
	}
	work, err := os.MkdirTemp("/tmp", "hbench-")
	if err != nil {
		return err
	}
	b.onExit(func(context.Context) error { return removeTree(work) })

	// The daemons are started from a thread that outlives them (pinned.go).
	pin := newPinnedThread()
	b.onExit(func(context.Context) error { pin.close(); return nil })

	b.log.Info("starting containerd")
	var daemon *ctrd.Daemon
	pin.do(func() { daemon, err = ctrd.Start(ctx, ctrd.Options{Binary: b.cfg.Containerd}) })
	if err != nil {
		return err
	}
	// The shims keep runc's state under /run/containerd/runc/<namespace>
	// even for a private containerd: remove those folders once it stopped.
	b.onExit(func(context.Context) error {
		return removeEmptyDirs(filepath.Join(runcRoot, rtNamespace), filepath.Join(runcRoot, ctrNamespace))
	})
	b.onExit(daemon.Stop)
	ctd, err := containerd.New(daemon.Socket, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return fmt.Errorf("connect to containerd: %w", err)
	}
	b.onExit(func(context.Context) error { return ctd.Close() })

	reg, err := testenv.StartRegistry(testenv.RegistryOptions{})
	if err != nil {
		return err
	}
	b.onExit(func(context.Context) error { return reg.Close() })
	ref, err := b.pushImage(ctx, reg.Host, filepath.Join(work, "images"))
	if err != nil {
		return err
	}

	rec := newPhaseRecorder()
	evCtx, stopEvents := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		followTaskEvents(evCtx, ctd, rtNamespace, rec)
	}()
	b.onExit(func(context.Context) error { stopEvents(); wg.Wait(); return nil })

	b.log.Info("setting up the runtime")
	rtp, err := newRTPeer(ctx, rtPeerConfig{
		Socket: daemon.Socket, StateDir: filepath.Join(work, "rt", "state"), DataRoot: filepath.Join(work, "rt", "data"),
		LogDriver: b.cfg.LogDriver, Pool: b.cfg.RTPool, Ref: ref, Recorder: rec, Logger: b.cfg.Logger,
	})
	if err != nil {
		return err
	}
	b.onExit(rtp.close)

	b.log.Info("setting up ctr")
	ctrp, err := newCTRPeer(ctx, ctrPeerConfig{
		Binary: b.cfg.Ctr, Socket: daemon.Socket, Ref: ref, WorkDir: filepath.Join(work, "ctr"), Subnet: b.cfg.CTRSubnet,
		ConfDir: b.cfg.CNIConfDir, PluginDir: b.cfg.CNIPluginDir, CacheDir: b.cfg.CNICacheDir, PluginSource: b.cfg.CNIPlugins,
		Client: ctd,
	})
	if err != nil {
		return err
	}
	b.onExit(ctrp.close)

	b.log.Info("setting up docker")
	var dp *dockerPeer
	pin.do(func() {
		dp, err = newDockerPeer(ctx, dockerPeerConfig{
			Dockerd: b.cfg.Dockerd, Docker: b.cfg.Docker, Host: b.cfg.DockerHost, Dir: filepath.Join(work, "d"),
			Gateway: b.cfg.DockerGateway, Ref: ref,
		})
	})
	if err != nil {
		return err
	}
	b.onExit(dp.close)

	res, err := b.describe(ctx, ctd, ctrp, dp)
	if err != nil {
		return err
	}
	methods := []struct {
		name string
		m    method
	}{{methodEnsure, rtp}, {methodCtr, ctrp}, {methodDocker, dp}}
	res.Samples = map[string][]float64{}
	res.Phases = map[string][]float64{}
	probe := newProber(8080, "/healthz", b.cfg.Poll)
	for round := -b.cfg.Warmup; round < b.cfg.Runs; round++ {
		line := []string{fmt.Sprintf("round %d/%d", round+1, b.cfg.Runs)}
		if round < 0 {
			line[0] = "warm-up"
		}
		for _, mm := range methods {
			id := fmt.Sprintf("hbench-%s-%d", mm.name, round+b.cfg.Warmup)
			d, err := b.cycle(ctx, mm.m, probe, id)
			if err != nil {
				return fmt.Errorf("method %s, container %s: %w", mm.name, id, err)
			}
			line = append(line, fmt.Sprintf("%s %.1f ms", mm.name, millis(d)))
			if round < 0 {
				continue
			}
			res.Samples[mm.name] = append(res.Samples[mm.name], millis(d))
			if mm.name == methodEnsure {
				for name, ms := range rec.phases(id) {
					res.Phases[name] = append(res.Phases[name], ms)
				}
			}
		}
		fmt.Fprintln(b.cfg.Progress, strings.Join(line, "  "))
	}
	res.Time = time.Now()
	rep, err := newReport(res)
	if err != nil {
		return err
	}
	if err := writeReport(filepath.Join(b.cfg.OutDir, "runtime.json"), rep); err != nil {
		return err
	}
	if err := writeTable(b.cfg.Stdout, rep); err != nil {
		return err
	}
	if !rep.Pass {
		return errTargetsMissed
	}
	return nil
}

// pushImage builds the sample web app 1.0 for this host and pushes it.
func (b *bench) pushImage(ctx context.Context, host, cache string) (string, error) {
	b.log.Info("building the sample image")
	spec := sampleimg.Spec{App: "web", Version: "1.0", Platforms: []string{"linux/" + runtime.GOARCH}}
	builder := sampleimg.NewBuilder(sampleimg.Config{CacheDir: cache, Logger: b.cfg.Logger})
	idx, err := builder.Build(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("sample image: %w", err)
	}
	ref := spec.Ref(host)
	if _, err := builder.Push(ctx, idx, ref); err != nil {
		return "", fmt.Errorf("sample image: %w", err)
	}
	return ref, nil
}

// describe fills what Results say about the machine and the peers.
func (b *bench) describe(ctx context.Context, ctd *containerd.Client, ctrp *ctrPeer, dp *dockerPeer) (Results, error) {
	res := Results{Machine: hostInfo(), PhaseOrder: phaseNames()}
	v, err := ctd.Version(ctx)
	if err != nil {
		return res, fmt.Errorf("containerd version: %w", err)
	}
	res.Machine.Containerd = v.Version
	if res.Machine.Ctr, err = ctrp.version(ctx); err != nil {
		return res, err
	}
	if res.Machine.Docker, err = dp.version(ctx); err != nil {
		return res, err
	}
	res.Peer = fmt.Sprintf("ctr %s and docker.io %s (private dockerd), same registry and image", res.Machine.Ctr, res.Machine.Docker)
	if b.cfg.DockerHost != "" {
		res.Peer = fmt.Sprintf("ctr %s and docker.io %s (dockerd at %s), same registry and image", res.Machine.Ctr, res.Machine.Docker, b.cfg.DockerHost)
	}
	res.Commands = map[string]string{
		methodEnsure: "rt.Client.Ensure + Start, network " + rtNetwork + " (bridge, host-local, iptables isolation)",
		methodCtr:    "ctr run -d --cni --log-uri file://LOG IMAGE ID (bridge, host-local, ipMasq)",
		methodDocker: "docker run -d --name ID IMAGE (bridge " + dockerBridge + ", dockerd --iptables=false)",
	}
	return res, nil
}

// cycle starts container id with m, waits for its first HTTP 200 and
// returns the time between, then removes the container (not timed).
func (b *bench) cycle(ctx context.Context, m method, probe *prober, id string) (time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, b.cfg.CycleTimeout)
	defer cancel()
	begin := time.Now()
	ip, err := m.start(cctx, id)
	var ready time.Time
	if err == nil {
		ready, err = probe.wait(cctx, ip)
	}
	if r, ok := m.(interface{ ready(string, time.Time) }); ok && err == nil {
		r.ready(id, ready)
	}
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer rcancel()
	if rerr := m.remove(rctx, id); rerr != nil {
		err = errors.Join(err, fmt.Errorf("remove: %w", rerr))
	}
	if err != nil {
		return 0, err
	}
	if b.cfg.Settle > 0 {
		t := time.NewTimer(b.cfg.Settle)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-t.C:
		}
	}
	return ready.Sub(begin), nil
}

// writeReport writes r (a Report or an AgentReport) as JSON to path,
// through a temporary file.
func writeReport(path string, r any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(f.Name())
	if err := writeJSON(f, r); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// removeTree unmounts whatever is still mounted below dir, deepest first,
// and removes it.
func removeTree(dir string) error {
	mounts, err := ctrd.MountsUnder(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, m := range mounts {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", m, err))
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
