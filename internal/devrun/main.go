// Command devrun is what make run starts: it prepares the offline sample
// catalog (images built from the sample apps, served by a registry on
// loopback, the catalog signed with this installation's own key) and runs
// hearthd in development mode trusting it, until interrupted.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hearthbox/hearth/internal/samplecatalog"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("devrun", flag.ContinueOnError)
	state := fs.String("state", ".hearth", "state folder")
	hearthd := fs.String("hearthd", "bin/hearthd", "the hearthd binary")
	registry := fs.String("registry", "127.0.0.1:5115", "where the sample registry listens (loopback)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *state, *hearthd, *registry, log); err != nil {
		log.Error("make run", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, state, hearthd, registry string, log *slog.Logger) error {
	dev := filepath.Join(state, "dev")
	log.Info("building the sample apps' images (the first time takes a minute)")
	s, err := samplecatalog.Start(ctx, samplecatalog.Options{Dir: dev, RegistryAddr: registry, Logger: log})
	if err != nil {
		return err
	}
	defer s.Close()
	envPath := filepath.Join(dev, "samples.json")
	if err := os.WriteFile(envPath, s.Envelope, 0o644); err != nil {
		return err
	}
	key := base64.StdEncoding.EncodeToString(s.Source.Trust.Keys[0].Public)
	log.Info("sample catalog ready", "registry", s.RegistryHost, "catalog", envPath)
	fmt.Println("The web UI (first-boot wizard, launcher, store):  http://127.0.0.1:8080  (the setup code is in " + filepath.Join(state, "setup-code") + ")")
	fmt.Println("Install the sample app with:  HEARTH_SOCKET=" + filepath.Join(state, "hearthd.sock") + " bin/hearth app install hello")
	// Not CommandContext: hearthd gets SIGTERM and stops cleanly.
	cmd := exec.Command(hearthd, "--dev", "--state", state, "--dev-catalog", envPath, "--dev-catalog-key", key)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start hearthd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
		err := <-done
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.ExitCode() == 0 {
			return nil
		}
		return err
	}
}
