// Command hearthd is Hearth's agent. It drives containerd for the apps and,
// started by containerd's shim with the log-driver marker, doubles as the
// writer of container logs (so one static binary does both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hearthbox/hearth/internal/ctrd"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/logfile"
)

func main() {
	if logfile.IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(logfile.Main())
	}
	os.Exit(run(os.Args[1:]))
}

// config is what the flags say.
type config struct {
	dev        bool
	stateDir   string
	containerd string
}

func parseFlags(args []string) (config, error) {
	var c config
	fs := flag.NewFlagSet("hearthd", flag.ContinueOnError)
	fs.BoolVar(&c.dev, "dev", false, "development mode: state in ./.hearth, a private containerd")
	fs.StringVar(&c.stateDir, "state", "", "state folder (default /var/lib/hearth, or ./.hearth with --dev)")
	fs.StringVar(&c.containerd, "containerd", "/run/containerd/containerd.sock", "containerd socket (ignored with --dev)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.stateDir == "" {
		c.stateDir = "/var/lib/hearth"
		if c.dev {
			c.stateDir = ".hearth"
		}
	}
	abs, err := filepath.Abs(c.stateDir)
	if err != nil {
		return c, err
	}
	c.stateDir = abs
	return c, nil
}

func run(args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("hearthd stopped", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	address := cfg.containerd
	if cfg.dev {
		d, err := ctrd.Start(ctx, ctrd.Options{Dir: filepath.Join(cfg.stateDir, "containerd"), KeepTasks: true})
		if err != nil {
			return err
		}
		defer func() {
			if err := d.Stop(context.WithoutCancel(ctx)); err != nil {
				log.Warn("stop containerd", "err", err)
			}
		}()
		address = d.Socket
		log.Info("private containerd started", "socket", d.Socket, "log", d.Log)
	}
	client, err := rt.New(ctx, rt.Config{
		Address:   address,
		StateDir:  filepath.Join(cfg.stateDir, "runtime"),
		DataRoot:  filepath.Join(cfg.stateDir, "apps"),
		LogDriver: self,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	defer client.Close()
	ctrs, err := client.List(ctx, "")
	if err != nil {
		return err
	}
	log.Info("hearthd ready", "state", cfg.stateDir, "containers", len(ctrs))
	<-ctx.Done()
	log.Info("hearthd stopping; containers keep running")
	return nil
}
