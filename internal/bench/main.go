// Command bench measures Hearth and writes one report per benchmark:
//
//	bench [flags] runtime   how fast the runtime starts a container, next to
//	                        ctr and docker on the same machine: .bench/runtime.json
//	bench [flags] agent     how long hearthd takes from start until 1, 10 and 50
//	                        running apps are reported healthy, and its idle
//	                        memory with 50: .bench/agent.json
//	bench [flags] proxy     requests per second and p50/p99 latency through
//	                        Hearth's proxy, Caddy and nginx in front of one
//	                        backend, under wrk: .bench/proxy.json
//	bench [flags] backup    a first and an incremental backup of 1 GiB of
//	                        mixed files through Hearth and through restic's
//	                        own command line: .bench/backup.json
//
// Each starts everything it needs (a private containerd, an in-process
// registry with the sample images, a private dockerd, hearthd) and stops and
// removes it at the end. It must run as root. `make bench` builds it and runs
// both. The binary is also the runtime's log driver: containerd's shim
// starts it with the driver's arguments.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hearthbox/hearth/runtime/logfile"
)

func main() {
	// containerd's shim starts this binary as the runtime's log driver.
	if logfile.IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(logfile.Main())
	}
	// The proxy benchmark starts this binary as its backend.
	if len(os.Args) == 2 && os.Args[1] == backendCommand {
		os.Exit(backendMain(os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line, runs the benchmark and returns the exit
// code: 0 when it ran (whatever its targets say, unless -strict), 1 when it
// could not, 2 for a bad command line, 3 for missed targets with -strict.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bench [flags] runtime|agent|proxy|backup")
		fs.PrintDefaults()
	}
	cfg := Config{Stdout: stdout, Progress: stderr}
	acfg := AgentConfig{Stdout: stdout, Progress: stderr}
	pcfg := proxyFlags(fs)
	fs.StringVar(&cfg.OutDir, "out", ".bench", "folder for runtime.json and agent.json")
	fs.IntVar(&cfg.Runs, "runs", 25, "runtime: measured rounds per method (at least 20)")
	fs.IntVar(&cfg.Warmup, "warmup", 1, "rounds before the measured ones, not counted")
	fs.DurationVar(&cfg.Poll, "poll", 2*time.Millisecond, "interval between HTTP attempts")
	fs.DurationVar(&cfg.Settle, "settle", 200*time.Millisecond, "pause after each removal")
	fs.DurationVar(&cfg.CycleTimeout, "timeout", time.Minute, "limit of one start, up to its first HTTP 200")
	fs.StringVar(&cfg.Containerd, "containerd", "containerd", "containerd binary")
	fs.StringVar(&cfg.Ctr, "ctr", "ctr", "ctr binary")
	fs.StringVar(&cfg.Docker, "docker", defaultDockerCLI(), "docker CLI (Debian's docker.io)")
	fs.StringVar(&cfg.Dockerd, "dockerd", "dockerd", "dockerd binary")
	fs.StringVar(&cfg.DockerHost, "docker-host", "", "use this dockerd (unix:///path) instead of starting a private one")
	fs.StringVar(&cfg.CNIPlugins, "cni-plugins", "/usr/lib/cni", "folder of the CNI plugins (linked at -cni-bin-dir if that is missing)")
	fs.StringVar(&cfg.CNIConfDir, "cni-conf-dir", "/etc/cni/net.d", "ctr's CNI configuration folder (fixed in ctr 1.6)")
	fs.StringVar(&cfg.CNIPluginDir, "cni-bin-dir", "/opt/cni/bin", "ctr's CNI plugin folder (fixed in ctr 1.6)")
	fs.StringVar(&cfg.CNICacheDir, "cni-cache-dir", "/var/lib/cni", "ctr's CNI result cache (fixed in ctr 1.6)")
	fs.StringVar(&acfg.Hearthd, "hearthd", "", "agent: the hearthd binary to measure (default: go build ./cmd/hearthd)")
	fs.IntVar(&acfg.Runs, "agent-runs", 5, "agent: measured starts of hearthd per number of apps (at least 3)")
	fs.DurationVar(&acfg.Poll, "agent-poll", 15*time.Millisecond, "agent: pause between API calls while waiting for healthy apps")
	fs.DurationVar(&acfg.Idle, "idle", 10*time.Second, "agent: how long hearthd idles with 50 healthy apps before its memory is read")
	fs.IntVar(&acfg.Readings, "readings", 5, "agent: memory readings after the idle time, 500 ms apart")
	fs.DurationVar(&acfg.StartTimeout, "agent-timeout", 3*time.Minute, "agent: limit of one hearthd start, until every app is healthy")
	bcfg := BackupConfig{Stdout: stdout, Progress: stderr}
	fs.StringVar(&bcfg.Restic, "restic", "restic", "backup: the restic binary")
	fs.Int64Var(&bcfg.Bytes, "backup-bytes", 1<<30, "backup: size of the tree backed up")
	fs.IntVar(&bcfg.Runs, "backup-runs", 5, "backup: measured runs, each into fresh repositories")
	verbose := fs.Bool("v", false, "log what the benchmark and the runtime do on stderr")
	strict := fs.Bool("strict", false, "exit with status 3 when a target is missed")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 || (fs.Arg(0) != "runtime" && fs.Arg(0) != "agent" && fs.Arg(0) != "proxy" && fs.Arg(0) != "backup") {
		fs.Usage()
		return 2
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	cfg.LogDriver = self
	acfg.OutDir, acfg.Containerd, acfg.Logger = cfg.OutDir, cfg.Containerd, cfg.Logger
	pcfg.OutDir, pcfg.Self, pcfg.Logger, pcfg.Stdout, pcfg.Progress = cfg.OutDir, self, cfg.Logger, stdout, stderr

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	measure := func(ctx context.Context) error { return runBench(ctx, cfg) }
	if fs.Arg(0) == "agent" {
		measure = func(ctx context.Context) error { return runAgentBench(ctx, acfg) }
	}
	if fs.Arg(0) == "backup" {
		bcfg.OutDir, bcfg.Logger = cfg.OutDir, cfg.Logger
		measure = func(ctx context.Context) error { return runBackupBench(ctx, bcfg) }
	}
	if fs.Arg(0) == "proxy" {
		measure = func(ctx context.Context) error { return runProxyBench(ctx, *pcfg) }
	}
	if err := measure(ctx); err != nil {
		if errors.Is(err, errTargetsMissed) {
			if *strict {
				return 3
			}
			return 0
		}
		fmt.Fprintf(stderr, "bench: %v\n", err)
		return 1
	}
	return 0
}

// defaultDockerCLI prefers Debian's docker CLI (/usr/bin/docker, from
// docker.io) over another one earlier on PATH.
func defaultDockerCLI() string {
	if _, err := os.Stat("/usr/bin/docker"); err == nil {
		return "/usr/bin/docker"
	}
	return "docker"
}
