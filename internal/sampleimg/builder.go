package sampleimg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Config configures a Builder.
type Config struct {
	// GoBinary is the go command; default: "go" on PATH, else $GOROOT/bin/go.
	GoBinary string
	// CacheDir holds the built layers, one file per spec and platform.
	// Required. Tests use a t.TempDir shared by the package's tests.
	CacheDir string
	// ModuleDir is the root of the Hearth module (where go.mod is); default:
	// the first folder holding go.mod at or above the working directory.
	ModuleDir string
	// Logger receives debug records of builds and cache hits; nil discards.
	Logger *slog.Logger
}

// Builder builds sample images. It is safe for concurrent use: a layer is
// written to the cache under a temporary name and renamed into place.
type Builder struct {
	cfg Config
	log *slog.Logger
	// err is a configuration error found by NewBuilder, returned by Build.
	err error
}

// NewBuilder returns a Builder. A configuration error (no CacheDir, no go
// command, no go.mod) is returned by Build.
func NewBuilder(cfg Config) *Builder {
	b := &Builder{cfg: cfg, log: cfg.Logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	b.log = b.log.With("component", "sampleimg")
	var errs []error
	if cfg.CacheDir == "" {
		errs = append(errs, errors.New("config field CacheDir is empty"))
	}
	if b.cfg.GoBinary == "" {
		p, err := findGo()
		errs = append(errs, err)
		b.cfg.GoBinary = p
	}
	if b.cfg.ModuleDir == "" {
		d, err := findModuleDir()
		errs = append(errs, err)
		b.cfg.ModuleDir = d
	}
	b.err = errors.Join(errs...)
	return b
}

// Build builds s for each of its platforms and returns an OCI image index
// over them. The same spec and sources give the same digest: the binaries are
// built with -trimpath and without VCS stamps, and every timestamp is fixed.
func (b *Builder) Build(ctx context.Context, s Spec) (v1.ImageIndex, error) {
	if b.err != nil {
		return nil, fmt.Errorf("sample image builder: %w", b.err)
	}
	platforms, err := s.validate()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(b.cfg.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("sample image cache: %w", err)
	}
	if _, err := os.Stat(filepath.Join(b.cfg.ModuleDir, "internal", "sampleapps", s.App)); err != nil {
		return nil, fmt.Errorf("config field ModuleDir %q: no sample app %s: %w", b.cfg.ModuleDir, s.App, err)
	}
	src, err := sourceHash(filepath.Join(b.cfg.ModuleDir, "internal", "sampleapps"))
	if err != nil {
		return nil, fmt.Errorf("build %s %s: %w", s.App, s.Version, err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	// One goroutine per platform (each mostly waits for its go build);
	// Build owns them and waits for all.
	layers := make([]v1.Layer, len(platforms))
	errs := make([]error, len(platforms))
	var wg sync.WaitGroup
	for i, p := range platforms {
		wg.Go(func() { layers[i], errs[i] = b.layer(ctx, s, p, src) })
	}
	wg.Wait()
	var adds []mutate.IndexAddendum
	for i, p := range platforms {
		if errs[i] != nil {
			return nil, fmt.Errorf("build %s %s for %s: %w", s.App, s.Version, p, errs[i])
		}
		img, err := image(s, p, layers[i])
		if err != nil {
			return nil, fmt.Errorf("build %s %s for %s: %w", s.App, s.Version, p, err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{
				Platform: &v1.Platform{OS: p.OS, Architecture: p.Arch, Variant: p.Variant},
			},
		})
	}
	idx = mutate.AppendManifests(idx, adds...)
	annotated, ok := mutate.Annotations(idx, labels(s)).(v1.ImageIndex)
	if !ok {
		return nil, errors.New("annotate index: mutate.Annotations did not return an index")
	}
	return annotated, nil
}

// Push pushes idx (with its images and layers) to ref and returns the index
// digest. Pass remote.WithAuth for a registry that wants credentials.
func (b *Builder) Push(ctx context.Context, idx v1.ImageIndex, ref string, opts ...remote.Option) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("push: reference %q: %w", ref, err)
	}
	o := append([]remote.Option{remote.WithContext(ctx)}, opts...)
	if err := remote.WriteIndex(r, idx, o...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		return "", fmt.Errorf("push %s: digest: %w", ref, err)
	}
	b.log.DebugContext(ctx, "pushed sample image", "ref", ref, "digest", d.String())
	return d.String(), nil
}
