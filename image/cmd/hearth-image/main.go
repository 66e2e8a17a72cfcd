// Command hearth-image builds Hearth's raw disk image for one architecture
// (make image ARCH=amd64|arm64) and prints where it is, its sizes and how
// long each step took.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"

	osimage "github.com/hearthbox/hearth/image"
)

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("hearth-image", flag.ContinueOnError)
	arch := fs.String("arch", "amd64", "amd64 (UEFI PC) or arm64 (Raspberry Pi 4/5)")
	cache := fs.String("cache", ".hearth/image-cache", "where downloaded packages and base roots are kept")
	out := fs.String("out", ".hearth/image", "where the image is written")
	sshKeys := fs.String("ssh-keys", "", "a file of SSH public keys: installs openssh-server, key login for root only")
	compress := fs.Bool("compress", true, "write <image>.zst too")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	mod, err := os.Getwd()
	if err != nil {
		log.Error("hearth-image", "err", err)
		return 1
	}
	cfg := osimage.Config{Arch: osimage.Arch(*arch), ModuleDir: mod, CacheDir: abs(*cache), OutDir: abs(*out), Compress: *compress, Logger: log}
	if *sshKeys != "" {
		b, err := os.ReadFile(*sshKeys)
		if err != nil {
			log.Error("hearth-image", "err", fmt.Errorf("--ssh-keys: %w", err))
			return 2
		}
		cfg.SSHKeys = string(b)
	}
	res, err := osimage.Build(ctx, cfg)
	if err != nil {
		log.Error("hearth-image", "err", err)
		return 1
	}
	fmt.Printf("image=%s\nraw_bytes=%d\nroot_bytes=%d\n", res.Image, res.RawSize, res.RootBytes)
	if res.Compressed != "" {
		fmt.Printf("compressed=%s\ncompressed_bytes=%d\n", res.Compressed, res.CompressedSize)
	}
	names := make([]string, 0, len(res.Phases))
	for n := range res.Phases {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Printf("phase_%s_s=%.1f\n", n, res.Phases[n])
	}
	return 0
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}
