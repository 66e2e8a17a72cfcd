package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	containerd "github.com/containerd/containerd/v2/client"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/internal/ctrd"
	"github.com/hearthbox/hearth/internal/samplecatalog"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/network"
)

// hearthdNamespace is the containerd namespace hearthd keeps its containers
// in (its own, so that it never meets a development box's); the shims keep
// runc's state under it.
const hearthdNamespace = "hearth-bench"

// agentSettle is the pause after each hearthd stops, so that its exit does
// not run into the next start's measurement.
const agentSettle = 500 * time.Millisecond

// AgentConfig configures a run of the agent benchmark.
type AgentConfig struct {
	// OutDir receives agent.json.
	OutDir string
	// Hearthd is the binary to measure; empty builds ./cmd/hearthd with Go.
	Hearthd string
	// Go is the go command that builds hearthd; default "go".
	Go string
	// Containerd is the containerd binary.
	Containerd string
	// Runs is the number of measured starts per number of apps, at least 3.
	Runs int
	// Poll is the pause between the end of one API call and the next.
	Poll time.Duration
	// Idle is how long hearthd runs untouched, every app healthy, before its
	// memory is read; Readings is how many readings are taken then, 500 ms
	// apart.
	Idle     time.Duration
	Readings int
	// StartTimeout bounds one start, until every app is healthy.
	StartTimeout time.Duration
	// NetPrefix and NetPool are hearthd's --net-prefix and --net-pool:
	// apart from the runtime benchmark's (hbenchrt, 10.233.0.0/16) and the
	// tests'. Defaults "hbag" and 10.238.0.0/16.
	NetPrefix string
	NetPool   netip.Prefix
	// Stdout receives the table, Progress one line per start.
	Stdout, Progress io.Writer
	Logger           *slog.Logger
}

var netPrefixPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)

// withDefaults validates c and fills its zero fields.
func (c AgentConfig) withDefaults() (AgentConfig, error) {
	if c.OutDir == "" {
		return c, errors.New("config: out: must be set")
	}
	if c.Runs < 3 {
		return c, fmt.Errorf("config: agent-runs %d: must be at least 3", c.Runs)
	}
	if c.Poll <= 0 || c.Poll > time.Second {
		return c, fmt.Errorf("config: agent-poll %s: must be above 0 and at most 1s", c.Poll)
	}
	if c.Idle < 0 {
		return c, fmt.Errorf("config: idle %s: must not be negative", c.Idle)
	}
	if c.Readings < 1 {
		return c, fmt.Errorf("config: readings %d: must be at least 1", c.Readings)
	}
	if c.StartTimeout <= 0 {
		return c, fmt.Errorf("config: agent-timeout %s: must be positive", c.StartTimeout)
	}
	if c.NetPrefix == "" {
		c.NetPrefix = "hbag"
	}
	if !netPrefixPattern.MatchString(c.NetPrefix) {
		return c, fmt.Errorf("config: net prefix %q: must be 1-8 lowercase letters and digits, starting with a letter", c.NetPrefix)
	}
	if !c.NetPool.IsValid() {
		c.NetPool = netip.MustParsePrefix("10.238.0.0/16")
	}
	if !c.NetPool.Addr().Is4() || c.NetPool.Bits() > 22 || c.NetPool != c.NetPool.Masked() {
		return c, fmt.Errorf("config: net pool %s: must be an IPv4 network of /22 or larger, room for %d /24 networks", c.NetPool, agentSizes[len(agentSizes)-1])
	}
	if c.Go == "" {
		c.Go = "go"
	}
	if c.Containerd == "" {
		c.Containerd = "containerd"
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

// agentBench is one run of the agent benchmark. Everything it starts is
// stopped by cleanup, last first.
type agentBench struct {
	cleanups
	cfg AgentConfig
	log *slog.Logger

	pin      *pinnedThread
	daemon   *ctrd.Daemon
	work     string
	hearthd  string // the binary
	stateDir string
	socket   string
	starts   int // hearthd starts so far, to name their logs

	// mu guards proc, the hearthd running now (nil between starts).
	mu   sync.Mutex
	proc *hearthdProc
}

// runAgentBench runs the agent benchmark: it starts a private containerd
// and the sample catalog, installs the sample app through hearthd and grows
// it to each number of apps, measures hearthd's starts, writes
// OutDir/agent.json, prints the table and removes everything it made.
func runAgentBench(ctx context.Context, cfg AgentConfig) (err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return err
	}
	ab := &agentBench{cfg: cfg, log: cfg.Logger.With("component", "bench")}
	defer func() { err = errors.Join(err, ab.cleanup()) }()
	return ab.run(ctx)
}

func (ab *agentBench) run(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return errors.New("the benchmark needs root (containerd, network namespaces, iptables)")
	}
	path, err := exec.LookPath(ab.cfg.Containerd)
	if err != nil {
		return fmt.Errorf("%s not found (make deps installs containerd): %w", ab.cfg.Containerd, err)
	}
	ab.cfg.Containerd = path
	for _, bin := range []string{"runc", "containerd-shim-runc-v2", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Errorf("%s not found (make deps installs it): %w", bin, err)
		}
	}
	work, err := os.MkdirTemp("/tmp", "hbench-agent-")
	if err != nil {
		return err
	}
	ab.work = work
	ab.onExit(func(context.Context) error { return removeTree(work) })
	ab.stateDir = filepath.Join(work, "state")
	ab.socket = filepath.Join(ab.stateDir, "hearthd.sock")
	if err := os.Mkdir(filepath.Join(work, "logs"), 0o700); err != nil {
		return err
	}
	if ab.hearthd, err = ab.hearthdBinary(ctx); err != nil {
		return err
	}

	// The daemons are started from a thread that outlives them (pinned.go).
	ab.pin = newPinnedThread()
	ab.onExit(func(context.Context) error { ab.pin.close(); return nil })
	ab.log.Info("starting containerd")
	ab.pin.do(func() {
		ab.daemon, err = ctrd.Start(ctx, ctrd.Options{Dir: filepath.Join(work, "ctrd"), Binary: ab.cfg.Containerd})
	})
	if err != nil {
		return err
	}
	// The shims keep runc's state under /run/containerd/runc/<namespace>
	// even for a private containerd; other private ones may share it, so
	// the folder goes only when it is empty.
	ab.onExit(func(context.Context) error {
		_ = removeEmptyDirs(filepath.Join(runcRoot, hearthdNamespace))
		return nil
	})
	ab.onExit(ab.daemon.Stop) // KeepTasks false: every task is killed
	res := AgentResults{
		Healthy: map[int][]float64{}, Ready: map[int][]float64{}, Seed: map[int]float64{},
		Idle: ab.cfg.Idle, Machine: hostInfo(),
	}
	if res.Machine.Containerd, err = containerdVersion(ctx, ab.daemon.Socket); err != nil {
		return err
	}

	ab.log.Info("building the sample catalog")
	samples, err := samplecatalog.Start(ctx, samplecatalog.Options{Dir: filepath.Join(work, "samples"), Logger: ab.cfg.Logger})
	if err != nil {
		return err
	}
	ab.onExit(func(context.Context) error { return samples.Close() })
	ab.onExit(ab.teardown)
	ab.onExit(func(context.Context) error { return ab.stopHearthd() })

	if err := ab.seed(ctx, samples); err != nil {
		return err
	}
	have := 1
	for i, n := range agentSizes {
		if n > have {
			if err := cloneApps(filepath.Join(ab.stateDir, "hearth.db"), seedApp, cloneIDs(have, n)); err != nil {
				return err
			}
			healthy, _, err := ab.cycle(ctx, n, nil)
			if err != nil {
				return fmt.Errorf("create %d apps: %w", n, err)
			}
			res.Seed[n] = millis(healthy)
			fmt.Fprintf(ab.cfg.Progress, "%d apps: the loop created %d new ones in %.1f ms\n", n, n-have, millis(healthy))
			have = n
		}
		for run := range ab.cfg.Runs {
			var memory func(*hearthdProc) error
			if i == len(agentSizes)-1 && run == ab.cfg.Runs-1 {
				memory = func(h *hearthdProc) error {
					rss, last, err := ab.readMemory(ctx, h)
					res.RSS, res.PeakRSS = rss, kibToMiB(last.HWM)
					res.AnonRSS, res.FileRSS = kibToMiB(last.Anon), kibToMiB(last.File)
					return err
				}
			}
			healthy, ready, err := ab.cycle(ctx, n, memory)
			if err != nil {
				return fmt.Errorf("%d apps, start %d: %w", n, run+1, err)
			}
			res.Healthy[n] = append(res.Healthy[n], millis(healthy))
			res.Ready[n] = append(res.Ready[n], millis(ready))
			fmt.Fprintf(ab.cfg.Progress, "%d apps, start %d/%d: all healthy %.1f ms, first pass done %.1f ms\n",
				n, run+1, ab.cfg.Runs, millis(healthy), millis(ready))
		}
	}
	if len(res.RSS) > 0 {
		fmt.Fprintf(ab.cfg.Progress, "%d apps: VmRSS %v MB after %s idle\n", have, roundAll(res.RSS, 1), ab.cfg.Idle)
	}
	res.Time = time.Now()
	res.Method = ab.method()
	rep, err := newAgentReport(res)
	if err != nil {
		return err
	}
	if err := writeReport(filepath.Join(ab.cfg.OutDir, "agent.json"), rep); err != nil {
		return err
	}
	if err := writeAgentTable(ab.cfg.Stdout, rep); err != nil {
		return err
	}
	if !rep.Pass {
		return errTargetsMissed
	}
	return nil
}

// method describes the measurement for the report.
func (ab *agentBench) method() string {
	args := strings.Join(ab.hearthdArgs(), " ")
	if ab.work != "" {
		args = strings.ReplaceAll(args, ab.work, "<tmp>")
	}
	return fmt.Sprintf("hearthd %s (not --dev) on a private containerd; N copies of the sample app %s %s "+
		"(one installed through the API from the signed sample catalog, the others cloned in the state file "+
		"and created by the loop) already running; time from exec to the first GET /v1/apps answer that "+
		"reports every app healthy, polled every %s; ready = hearthd's ready line (first reconcile pass done); "+
		"SIGTERM between starts, the containers keep running",
		args, seedApp, seedVersion, ab.cfg.Poll)
}

// hearthdBinary returns the binary to measure, building it when none was given.
func (ab *agentBench) hearthdBinary(ctx context.Context) (string, error) {
	if ab.cfg.Hearthd != "" {
		path, err := filepath.Abs(ab.cfg.Hearthd)
		if err != nil {
			return "", fmt.Errorf("hearthd %s: %w", ab.cfg.Hearthd, err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return "", fmt.Errorf("hearthd: %w", err)
		}
		if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return "", fmt.Errorf("hearthd %s: not an executable file", path)
		}
		return path, nil
	}
	out := filepath.Join(ab.work, "hearthd")
	ab.log.Info("building hearthd", "out", out)
	cmd := exec.CommandContext(ctx, ab.cfg.Go, "build", "-trimpath", "-o", out, "github.com/hearthbox/hearth/cmd/hearthd")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build hearthd (run from the repository, or give -hearthd): %w: %s", err, strings.TrimSpace(string(b)))
	}
	return out, nil
}

// hearthdArgs are hearthd's flags; the paths are the run's.
func (ab *agentBench) hearthdArgs() []string {
	sock := "<private containerd>"
	if ab.daemon != nil {
		sock = ab.daemon.Socket
	}
	return []string{
		"--containerd", sock, "--state", ab.stateDir, "--socket", ab.socket,
		"--net-prefix", ab.cfg.NetPrefix, "--net-pool", ab.cfg.NetPool.String(),
		"--namespace", hearthdNamespace,
	}
}

// startHearthd starts hearthd; the run has at most one at a time.
func (ab *agentBench) startHearthd() (*hearthdProc, error) {
	ab.mu.Lock()
	defer ab.mu.Unlock()
	if ab.proc != nil {
		return nil, errors.New("hearthd is running already")
	}
	ab.starts++
	h, err := startHearthd(ab.pin, ab.hearthd, ab.hearthdArgs(), filepath.Join(ab.work, "logs", fmt.Sprintf("hearthd-%02d.log", ab.starts)))
	if err != nil {
		return nil, err
	}
	ab.proc = h
	return h, nil
}

// stopHearthd stops the running hearthd, if any.
func (ab *agentBench) stopHearthd() error {
	ab.mu.Lock()
	h := ab.proc
	ab.proc = nil
	ab.mu.Unlock()
	if h == nil {
		return nil
	}
	return h.stop()
}

// stopAndSettle stops the running hearthd and pauses for agentSettle.
func (ab *agentBench) stopAndSettle(ctx context.Context) error {
	if err := ab.stopHearthd(); err != nil {
		return err
	}
	timer := time.NewTimer(agentSettle)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// seed starts hearthd on an empty state folder and installs the sample app
// through its API.
func (ab *agentBench) seed(ctx context.Context, samples *samplecatalog.Samples) error {
	ab.log.Info("installing the sample app through hearthd")
	h, err := ab.startHearthd()
	if err != nil {
		return err
	}
	if _, err := ab.waitReady(ctx, h); err != nil {
		return errors.Join(err, ab.stopHearthd())
	}
	client := api.NewClient(ab.socket)
	defer client.CloseIdleConnections()
	ictx, cancel := context.WithTimeout(ctx, ab.cfg.StartTimeout)
	defer cancel()
	if err := installSeed(ictx, client, samples); err != nil {
		return errors.Join(fmt.Errorf("%w (hearthd log: %s)", err, h.tail()), ab.stopHearthd())
	}
	if _, err := ab.waitHealthy(ctx, h, 1); err != nil {
		return errors.Join(err, ab.stopHearthd())
	}
	return ab.stopAndSettle(ctx)
}

// cycle starts hearthd with n apps installed and running, waits until the
// API reports every one healthy and hearthd says it is ready, calls memory
// (if not nil) and stops hearthd. It returns the times from the exec to
// all healthy and to ready.
func (ab *agentBench) cycle(ctx context.Context, n int, memory func(*hearthdProc) error) (healthy, ready time.Duration, err error) {
	h, err := ab.startHearthd()
	if err != nil {
		return 0, 0, err
	}
	defer func() { err = errors.Join(err, ab.stopAndSettle(ctx)) }()
	healthyAt, err := ab.waitHealthy(ctx, h, n)
	if err != nil {
		return 0, 0, err
	}
	readyAt, err := ab.waitReady(ctx, h)
	if err != nil {
		return 0, 0, err
	}
	if memory != nil {
		if err := memory(h); err != nil {
			return 0, 0, err
		}
	}
	return healthyAt.Sub(h.started), readyAt.Sub(h.started), nil
}

// waitHealthy polls the API until it reports n apps, every one healthy,
// and returns when that answer came.
func (ab *agentBench) waitHealthy(ctx context.Context, h *hearthdProc, n int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, ab.cfg.StartTimeout)
	defer cancel()
	client := api.NewClient(ab.socket)
	defer client.CloseIdleConnections()
	timer := time.NewTimer(0)
	defer timer.Stop()
	last := "no answer yet"
	for {
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%d apps not all healthy after %s (last seen: %s): %w", n, ab.cfg.StartTimeout, last, ctx.Err())
		case <-h.done:
			return time.Time{}, fmt.Errorf("hearthd exited before every app was healthy: %v: %s", h.err, h.tail())
		case <-timer.C:
		}
		cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
		apps, err := client.Apps(cctx)
		ccancel()
		at := time.Now()
		if err == nil {
			ok, summary := allHealthy(apps, n)
			if ok {
				return at, nil
			}
			last = summary
		} else {
			last = err.Error()
		}
		timer.Reset(ab.cfg.Poll)
	}
}

// waitReady waits for hearthd's ready line and returns when it came.
func (ab *agentBench) waitReady(ctx context.Context, h *hearthdProc) (time.Time, error) {
	timer := time.NewTimer(ab.cfg.StartTimeout)
	defer timer.Stop()
	select {
	case <-h.out.seen:
		at, _ := h.out.seenAt()
		return at, nil
	case <-h.done:
		return time.Time{}, fmt.Errorf("hearthd exited before it was ready: %v: %s", h.err, h.tail())
	case <-timer.C:
		return time.Time{}, fmt.Errorf("hearthd not ready after %s: %s", ab.cfg.StartTimeout, h.tail())
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	}
}

// readMemory leaves hearthd idle for Idle, then reads its memory Readings
// times, 500 ms apart: the resident sets in MiB, and the last reading.
func (ab *agentBench) readMemory(ctx context.Context, h *hearthdProc) (rss []float64, last procMemory, err error) {
	wait := ab.cfg.Idle
	for i := range ab.cfg.Readings {
		if i > 0 {
			wait = 500 * time.Millisecond
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, last, ctx.Err()
		case <-h.done:
			timer.Stop()
			return nil, last, fmt.Errorf("hearthd exited while idle: %v: %s", h.err, h.tail())
		case <-timer.C:
		}
		if last, err = h.memory(); err != nil {
			return nil, last, err
		}
		rss = append(rss, kibToMiB(last.RSS))
	}
	return rss, last, nil
}

func kibToMiB(kib int64) float64 { return float64(kib) / 1024 }

// teardown removes every container and network hearthd made, with the
// runtime in this process (hearthd is stopped by then), while containerd
// still runs: no bridge, firewall chain or mount of the run is left.
func (ab *agentBench) teardown(ctx context.Context) error {
	if ab.daemon == nil {
		return nil
	}
	runtimeDir := filepath.Join(ab.stateDir, "runtime")
	if _, err := os.Stat(runtimeDir); errors.Is(err, fs.ErrNotExist) {
		return nil // hearthd never ran
	}
	c, err := rt.New(ctx, rt.Config{
		Address:   ab.daemon.Socket,
		Namespace: hearthdNamespace,
		StateDir:  runtimeDir,
		DataRoot:  filepath.Join(ab.stateDir, "apps"),
		LogDriver: ab.hearthd,
		Network:   network.Config{Prefix: ab.cfg.NetPrefix, Pool: ab.cfg.NetPool},
		Logger:    ab.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	infos, err := c.List(ctx, "")
	errs := []error{err}
	// A few at a time: each waits for its container to stop.
	sem := make(chan struct{}, 8)
	removed := make([]error, len(infos))
	var wg sync.WaitGroup
	for i, info := range infos {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			removed[i] = c.Remove(ctx, info.ID)
		}()
	}
	wg.Wait()
	errs = append(errs, removed...)
	for _, n := range c.Networks() {
		errs = append(errs, c.RemoveNetwork(ctx, n))
	}
	errs = append(errs, c.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("teardown: %w", err)
	}
	return nil
}

// containerdVersion asks the daemon at socket for its version.
func containerdVersion(ctx context.Context, socket string) (string, error) {
	c, err := containerd.New(socket, containerd.WithTimeout(10*time.Second))
	if err != nil {
		return "", fmt.Errorf("connect to containerd: %w", err)
	}
	defer c.Close()
	v, err := c.Version(ctx)
	if err != nil {
		return "", fmt.Errorf("containerd version: %w", err)
	}
	return v.Version, nil
}
