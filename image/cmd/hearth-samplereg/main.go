// Command hearth-samplereg serves the sample apps' images from an OCI
// layout on a loopback address, as the registry the sample catalog names.
// Only the test image carries it (docs/image.md): the runtime always pulls
// through a registry, so "preloaded" images are served from the image
// itself, with no network.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// refAnnotation names an image of the layout: "samples/web:1.0".
const refAnnotation = "org.opencontainers.image.ref.name"

func main() { os.Exit(run()) }

func run() int {
	fs := flag.NewFlagSet("hearth-samplereg", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:5115", "loopback address to serve on")
	dir := fs.String("layout", "/usr/share/hearth/samples/oci", "OCI layout of the sample images")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, *addr, *dir, logger); err != nil {
		logger.Error("hearth-samplereg", "err", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, addr, dir string, logger *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-addr: %s is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	n, err := load(ctx, addr, dir)
	if err != nil {
		_ = srv.Close()
		<-done
		return err
	}
	logger.Info("sample registry ready", "addr", addr, "images", n)
	if _, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		logger.Warn("systemd notify", "err", err)
	}
	select {
	case <-ctx.Done():
	case err := <-done:
		return err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}

// load pushes every annotated image of the layout to the registry at addr,
// unchanged (same digests).
func load(ctx context.Context, addr, dir string) (int, error) {
	p, err := layout.FromPath(dir)
	if err != nil {
		return 0, fmt.Errorf("-layout: %w", err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return 0, fmt.Errorf("-layout: %w", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return 0, fmt.Errorf("-layout: %w", err)
	}
	n := 0
	for _, d := range im.Manifests {
		refName := d.Annotations[refAnnotation]
		if refName == "" {
			continue
		}
		ref, err := name.ParseReference(addr+"/"+refName, name.Insecure)
		if err != nil {
			return n, fmt.Errorf("layout image %q: %w", refName, err)
		}
		if d.MediaType.IsIndex() {
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return n, err
			}
			err = remote.WriteIndex(ref, child, remote.WithContext(ctx))
			if err != nil {
				return n, fmt.Errorf("push %s: %w", ref, err)
			}
		} else {
			img, err := idx.Image(d.Digest)
			if err != nil {
				return n, err
			}
			if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
				return n, fmt.Errorf("push %s: %w", ref, err)
			}
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("-layout: %s has no image annotated %s", dir, refAnnotation)
	}
	return n, nil
}
