package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"
)

// ProxyConfig configures a run of the proxy benchmark.
type ProxyConfig struct {
	// OutDir receives proxy.json.
	OutDir string
	// Self is this program (started again as the backend).
	Self string
	// Wrk, Caddy and Nginx are the binaries (Debian's wrk and nginx, Caddy
	// go-installed at the pinned version); OpenSSL is Debian's openssl, which
	// checks what TLS each proxy negotiates.
	Wrk, Caddy, Nginx, OpenSSL string
	// Workers is how many cores each proxy may use at once: nginx's
	// worker_processes, Caddy's and Hearth's GOMAXPROCS.
	Workers int
	// Rounds are measured rounds (each runs every proxy once, the order
	// rotated each round), at least 3. Each proxy first gets Warmup of load
	// that is not measured.
	Rounds int
	// Load is the load generator's setting, the same for every proxy.
	Load wrkLoad
	// Warmup is the unmeasured load on each proxy before the rounds; Settle
	// the pause before each measurement.
	Warmup, Settle time.Duration
	// AccessLog turns the access log on for all three proxies (to files in
	// the run's folder); off by default for all three.
	AccessLog bool
	// CPUProfile, when set, is where a CPU profile of Hearth's in-process
	// proxy goes, taken during one more run of the load after the measured
	// rounds (so that profiling does not touch the figures).
	CPUProfile string
	// Stdout receives the table, Progress one line per measurement.
	Stdout, Progress io.Writer
	Logger           *slog.Logger
}

// proxyFlags registers the proxy benchmark's flags on fs and returns the
// configuration they fill.
func proxyFlags(fs *flag.FlagSet) *ProxyConfig {
	c := &ProxyConfig{}
	fs.StringVar(&c.Wrk, "wrk", "wrk", "proxy: the load generator (Debian's wrk)")
	fs.StringVar(&c.Caddy, "caddy", "caddy", "proxy: Caddy (make bench go-installs the pinned version into bin/tools)")
	fs.StringVar(&c.Nginx, "nginx", "nginx", "proxy: nginx (Debian's)")
	fs.StringVar(&c.OpenSSL, "openssl", "openssl", "proxy: openssl (Debian's), to check the TLS each proxy negotiates")
	fs.IntVar(&c.Workers, "proxy-workers", runtime.NumCPU(), "proxy: nginx worker_processes and the Go proxies' GOMAXPROCS")
	fs.IntVar(&c.Rounds, "proxy-rounds", 5, "proxy: measured rounds, each proxy once per round (at least 3)")
	fs.IntVar(&c.Load.Threads, "proxy-threads", 2, "proxy: wrk threads (-t)")
	fs.IntVar(&c.Load.Conns, "proxy-conns", 64, "proxy: wrk connections (-c)")
	fs.DurationVar(&c.Load.Duration, "proxy-duration", 10*time.Second, "proxy: length of one measurement (wrk -d, whole seconds)")
	fs.DurationVar(&c.Warmup, "proxy-warmup", 3*time.Second, "proxy: unmeasured load on each proxy before the rounds (whole seconds, 0 for none)")
	fs.DurationVar(&c.Settle, "proxy-settle", time.Second, "proxy: pause before each measurement")
	fs.BoolVar(&c.AccessLog, "proxy-access-log", false, "proxy: access logs on for all three proxies")
	fs.StringVar(&c.CPUProfile, "proxy-cpuprofile", "", "proxy: write a CPU profile of Hearth's proxy under one more run of the load to this file")
	return c
}

// withDefaults validates c and fills its zero fields.
func (c ProxyConfig) withDefaults() (ProxyConfig, error) {
	if c.OutDir == "" {
		return c, errors.New("proxy config: out: must be set")
	}
	if c.Self == "" || !filepath.IsAbs(c.Self) {
		return c, fmt.Errorf("proxy config: self %q: must be an absolute path", c.Self)
	}
	if c.Rounds < 3 {
		return c, fmt.Errorf("proxy config: proxy-rounds %d: must be at least 3", c.Rounds)
	}
	if c.Load.Threads < 1 || c.Load.Threads > 64 {
		return c, fmt.Errorf("proxy config: proxy-threads %d: must be 1..64", c.Load.Threads)
	}
	if c.Load.Conns < c.Load.Threads || c.Load.Conns > 4096 {
		return c, fmt.Errorf("proxy config: proxy-conns %d: must be at least the threads and at most 4096", c.Load.Conns)
	}
	if c.Load.Duration < time.Second || c.Load.Duration%time.Second != 0 {
		return c, fmt.Errorf("proxy config: proxy-duration %s: must be whole seconds, at least 1s", c.Load.Duration)
	}
	if c.Warmup < 0 || c.Warmup%time.Second != 0 {
		return c, fmt.Errorf("proxy config: proxy-warmup %s: must be whole seconds, 0 or more", c.Warmup)
	}
	if c.Workers < 1 || c.Workers > 1024 {
		return c, fmt.Errorf("proxy config: proxy-workers %d: must be 1..1024", c.Workers)
	}
	if c.Settle < 0 {
		return c, fmt.Errorf("proxy config: proxy-settle %s: must not be negative", c.Settle)
	}
	for _, b := range []struct{ flag, path string }{{"wrk", c.Wrk}, {"caddy", c.Caddy}, {"nginx", c.Nginx}, {"openssl", c.OpenSSL}} {
		if b.path == "" {
			return c, fmt.Errorf("proxy config: %s: must be set", b.flag)
		}
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

// lookBinaries resolves the three binaries, saying where to get a missing
// one.
func (c *ProxyConfig) lookBinaries() error {
	for _, b := range []struct {
		path *string
		hint string
	}{
		{&c.Wrk, "Debian's wrk: apt-get install wrk (make deps-bench does)"},
		{&c.Nginx, "Debian's nginx: apt-get install nginx (make deps-bench does)"},
		{&c.Caddy, "Caddy: make bench go-installs the pinned version into bin/tools and passes -caddy"},
		{&c.OpenSSL, "Debian's openssl: apt-get install openssl"},
	} {
		p, err := exec.LookPath(*b.path)
		if err != nil {
			return fmt.Errorf("%s not found (%w): install %s", *b.path, err, b.hint)
		}
		*b.path = p
	}
	return nil
}

// proxyBench is one run of the proxy benchmark. Everything it starts is
// stopped by cleanup, last first.
type proxyBench struct {
	cleanups
	cfg ProxyConfig
	log *slog.Logger
	// proxies are by name; hearth is also kept for profiling.
	proxies map[string]*runningProxy
	hearth  *hearthProxy
	// backendPID is the backend's process, whose cost is measured too.
	backendPID int
}

// runProxyBench runs the proxy benchmark: it starts the backend and the
// three proxies, measures them in interleaved rounds, writes
// OutDir/proxy.json, prints the table and stops everything it started.
func runProxyBench(ctx context.Context, cfg ProxyConfig) (err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return err
	}
	if err := cfg.lookBinaries(); err != nil {
		return err
	}
	b := &proxyBench{cfg: cfg, log: cfg.Logger.With("component", "bench"), proxies: map[string]*runningProxy{}}
	defer func() { err = errors.Join(err, b.cleanup()) }()
	return b.run(ctx)
}

func (b *proxyBench) run(ctx context.Context) error {
	res := ProxyResults{Time: time.Now(), Runs: map[string]ProxyRun{}}
	m := hostInfo()
	res.Machine = ProxyMachine{Cores: m.Cores, CPU: m.CPU, Kernel: m.Kernel, Cgroup: m.Cgroup, Go: m.Go, LoadAvgBefore: loadAvg()}
	wrkVersion, err := commandVersion(ctx, b.cfg.Wrk, "-v")
	if err != nil {
		return err
	}
	res.WrkVersion, _, _ = strings.Cut(wrkVersion, " Copyright")

	if err := b.start(ctx); err != nil {
		return err
	}
	load := b.cfg.Load
	res.Load = ProxyLoad{
		Generator:   "wrk (Debian)",
		Command:     "wrk " + quoteArgs(load.args("https://"+benchDialHost+":PORT/")),
		Threads:     load.Threads,
		Connections: load.Conns,
		DurationS:   load.Duration.Seconds(),
		WarmupS:     b.cfg.Warmup.Seconds(),
		Order:       "interleaved, each proxy once per round, the order rotated each round",
		Protocol:    "HTTP/1.1 keep-alive over TLS (test CA, ECDSA P-256 leaf), loopback only",
		Backend:     "Go net/http server on 127.0.0.1 in its own process, a fixed answer",
		BodyBytes:   backendBodyBytes,
		AccessLog:   b.cfg.AccessLog,
		Parallelism: fmt.Sprintf("%d: nginx worker_processes %d, Caddy GOMAXPROCS=%d, Hearth GOMAXPROCS=%d",
			b.cfg.Workers, b.cfg.Workers, b.cfg.Workers, runtime.GOMAXPROCS(0)),
		CPUPinning: fmt.Sprintf("none: wrk, the backend and each proxy share all %d cores alike", m.Cores),
	}

	if b.cfg.Warmup > 0 {
		warm := load
		warm.Duration = b.cfg.Warmup
		for _, name := range proxyOrder() {
			if _, _, err := runWrk(ctx, b.cfg.Wrk, warm, b.proxies[name].URL); err != nil {
				return fmt.Errorf("warm-up of %s: %w", name, err)
			}
		}
	}
	order := proxyOrder()
	for round := range b.cfg.Rounds {
		for i := range order {
			name := order[(round+i)%len(order)]
			if err := sleepCtx(ctx, b.cfg.Settle); err != nil {
				return err
			}
			w, err := measureProxy(ctx, b.cfg.Wrk, load, b.proxies[name], b.backendPID)
			if err != nil {
				return fmt.Errorf("round %d, %s: %w", round+1, name, err)
			}
			run := res.Runs[name]
			run.Rounds = append(run.Rounds, w)
			res.Runs[name] = run
			fmt.Fprintf(b.cfg.Progress, "round %d/%d %-6s %9.0f rps  p50 %7.3f ms  p99 %7.3f ms  %6.1f cpu us/req  %5.2f syscalls/req  errors %d/%d\n",
				round+1, b.cfg.Rounds, name, w.RPS, w.P50, w.P99, w.CPUPerRequestUS, w.SyscallsPerRequest, w.SocketErrors, w.Non2xx)
		}
	}
	for name, p := range b.proxies {
		run := res.Runs[name]
		run.Version, run.Setup, run.TLS = p.Version, p.Setup, p.TLS
		res.Runs[name] = run
	}
	if b.cfg.CPUProfile != "" {
		if err := b.profileHearth(ctx); err != nil {
			return err
		}
	}
	res.Machine.LoadAvgAfter = loadAvg()

	r, err := newProxyReport(res)
	if err != nil {
		return err
	}
	if err := writeReport(filepath.Join(b.cfg.OutDir, "proxy.json"), r); err != nil {
		return err
	}
	if err := writeProxyTable(b.cfg.Stdout, r); err != nil {
		return err
	}
	if !r.Pass {
		return errTargetsMissed
	}
	return nil
}

// start makes the run's folder and test certificate, and starts the
// pinned thread, the backend and the three proxies.
func (b *proxyBench) start(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "hbench-proxy-")
	if err != nil {
		return fmt.Errorf("proxy bench: %w", err)
	}
	b.onExit(func(context.Context) error { return os.RemoveAll(dir) })
	// nginx's workers run as nobody: they may pass through, not list.
	if err := os.Chmod(dir, 0o711); err != nil {
		return fmt.Errorf("proxy bench: %w", err)
	}
	tlsDir := filepath.Join(dir, "tls")
	if err := os.Mkdir(tlsDir, 0o700); err != nil {
		return fmt.Errorf("proxy bench: %w", err)
	}
	pki, err := newTestPKI(tlsDir, time.Now())
	if err != nil {
		return err
	}
	// Hearth's proxy runs in this process: it gets as many cores as the
	// others.
	prevProcs := runtime.GOMAXPROCS(b.cfg.Workers)
	b.onExit(func(context.Context) error { runtime.GOMAXPROCS(prevProcs); return nil })
	thread := newPinnedThread()
	b.onExit(func(context.Context) error { thread.close(); return nil })

	logf, err := os.Create(filepath.Join(dir, "backend.log"))
	if err != nil {
		return fmt.Errorf("proxy bench: %w", err)
	}
	defer logf.Close()
	backend, err := startBackend(ctx, thread, b.cfg.Self, logf)
	if err != nil {
		return err
	}
	b.onExit(backend.stop)
	b.backendPID = backend.cmd.Process.Pid
	b.log.Debug("backend started", "addr", backend.Addr)

	env := peerEnv{thread: thread, pki: pki, backend: backend.Addr, dir: dir, accessLog: b.cfg.AccessLog, workers: b.cfg.Workers}
	h, err := startHearth(ctx, env, b.cfg.Logger)
	if err != nil {
		return err
	}
	b.hearth = h
	b.onExit(h.stop)
	b.proxies[proxyHearth] = &h.runningProxy
	for _, p := range []struct {
		name  string
		start func(context.Context, peerEnv, string) (*runningProxy, error)
		bin   string
	}{{proxyCaddy, startCaddy, b.cfg.Caddy}, {proxyNginx, startNginx, b.cfg.Nginx}} {
		rp, err := p.start(ctx, env, p.bin)
		if err != nil {
			return err
		}
		b.onExit(rp.stop)
		b.proxies[p.name] = rp
		b.log.Debug("proxy started", "name", p.name, "url", rp.URL, "version", rp.Version)
	}
	for _, name := range proxyOrder() {
		rp := b.proxies[name]
		if rp.TLS, err = probeTLS(ctx, b.cfg.OpenSSL, rp.port); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// measureProxy runs the load once against p and reads what p's processes,
// the backend and wrk used meanwhile.
func measureProxy(ctx context.Context, wrk string, load wrkLoad, p *runningProxy, backendPID int) (ProxyRound, error) {
	pids, err := p.pids()
	if err != nil {
		return ProxyRound{}, fmt.Errorf("processes of %s: %w", p.Name, err)
	}
	before, err := readUsage(pids)
	if err != nil {
		return ProxyRound{}, fmt.Errorf("usage of %s: %w", p.Name, err)
	}
	backendBefore, err := readUsage([]int{backendPID})
	if err != nil {
		return ProxyRound{}, fmt.Errorf("usage of the backend: %w", err)
	}
	w, wrkCPU, err := runWrk(ctx, wrk, load, p.URL)
	if err != nil {
		return ProxyRound{}, err
	}
	after, err := readUsage(pids)
	if err != nil {
		return ProxyRound{}, fmt.Errorf("usage of %s: %w", p.Name, err)
	}
	backendAfter, err := readUsage([]int{backendPID})
	if err != nil {
		return ProxyRound{}, fmt.Errorf("usage of the backend: %w", err)
	}
	r := ProxyRound{WrkResult: w}
	if n := float64(w.Requests); n > 0 {
		used := after.sub(before)
		perRequestUS := func(d time.Duration) float64 { return round(float64(d)/float64(time.Microsecond)/n, 2) }
		r.CPUPerRequestUS = perRequestUS(used.CPU)
		r.SyscallsPerRequest = round(float64(used.Syscalls)/n, 2)
		r.BackendCPUPerRequestUS = perRequestUS(backendAfter.sub(backendBefore).CPU)
		r.WrkCPUPerRequestUS = perRequestUS(wrkCPU)
	}
	return r, nil
}

// profileHearth writes a CPU profile of this process (where Hearth's proxy
// runs; the backend and the load generator are processes of their own)
// while wrk loads Hearth's proxy once more.
func (b *proxyBench) profileHearth(ctx context.Context) error {
	f, err := os.Create(b.cfg.CPUProfile)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return errors.Join(fmt.Errorf("cpu profile: %w", err), f.Close())
	}
	w, _, err := runWrk(ctx, b.cfg.Wrk, b.cfg.Load, b.proxies[proxyHearth].URL)
	pprof.StopCPUProfile()
	if cerr := f.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cpu profile: %w", cerr))
	}
	if err != nil {
		return fmt.Errorf("profiled run: %w", err)
	}
	fmt.Fprintf(b.cfg.Progress, "profiled  hearth %9.0f rps  p50 %7.3f ms  p99 %7.3f ms (not counted): %s\n", w.RPS, w.P50, w.P99, b.cfg.CPUProfile)
	return nil
}

// quoteArgs joins args for people, quoting those with spaces.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if strings.ContainsAny(a, " \t") {
			out[i] = strconv.Quote(a)
		}
	}
	return strings.Join(out, " ")
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loadAvg returns the 1-minute load average (0 when it cannot be read).
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	v, err := strconv.ParseFloat(f, 64)
	if err != nil {
		return 0
	}
	return v
}
