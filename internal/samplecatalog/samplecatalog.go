// Package samplecatalog prepares the offline sample catalog: it builds the
// sample apps' images for this machine, serves them from an in-process
// registry on loopback, and signs a catalog of them (src/) with a key made
// for this installation, so that no signing secret is ever in the
// repository. make run and the agent's end-to-end tests use it; hearthd
// never links it.
package samplecatalog

import (
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/internal/sampleimg"
	"github.com/hearthbox/hearth/internal/testenv"
)

//go:embed src
var srcFS embed.FS

// ID is the sample catalog's id.
const ID = "samples"

// Options tune Start.
type Options struct {
	// Dir keeps the signing key and the image build cache between runs.
	Dir string
	// RegistryAddr is where the registry listens; default 127.0.0.1:0.
	RegistryAddr string
	// Platform defaults to this machine's.
	Platform string
	Logger   *slog.Logger
}

// Samples is a running sample catalog.
type Samples struct {
	// RegistryHost serves the images ("127.0.0.1:port").
	RegistryHost string
	// Envelope is the signed catalog.
	Envelope []byte
	// Source is how a box trusts it.
	Source catalog.Source
	// Digests are the pushed images by "app:version".
	Digests map[string]string

	reg *testenv.Registry
}

// images are the sample images the catalog refers to.
func images() []sampleimg.Spec {
	return []sampleimg.Spec{
		{App: "web", Version: "1.0"},
		{App: "web", Version: "1.1"},
		{App: "web", Version: "2.0", Broken: true},
		{App: "store", Version: "1.0"},
	}
}

// Start builds and pushes the images, and builds and signs the catalog.
func Start(ctx context.Context, opts Options) (_ *Samples, err error) {
	if opts.Dir == "" {
		return nil, errors.New("samplecatalog: Dir is required")
	}
	if opts.Platform == "" {
		opts.Platform = "linux/" + runtime.GOARCH
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	reg, err := testenv.StartRegistry(testenv.RegistryOptions{Addr: opts.RegistryAddr})
	if err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	s := &Samples{RegistryHost: reg.Host, reg: reg, Digests: map[string]string{}}
	defer func() {
		if err != nil {
			_ = reg.Close()
		}
	}()
	b := sampleimg.NewBuilder(sampleimg.Config{CacheDir: filepath.Join(opts.Dir, "images"), Logger: opts.Logger})
	for _, spec := range images() {
		spec.Platforms = []string{opts.Platform}
		idx, err := b.Build(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("samplecatalog: build %s %s: %w", spec.App, spec.Version, err)
		}
		digest, err := b.Push(ctx, idx, spec.Ref(reg.Host))
		if err != nil {
			return nil, fmt.Errorf("samplecatalog: push %s: %w", spec.Ref(reg.Host), err)
		}
		s.Digests[spec.App+":"+spec.Version] = digest
	}
	src, err := s.writeSource(opts.Platform)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(src)
	resolve := func(_ context.Context, ref, _ string) (string, error) {
		i := strings.LastIndex(ref, "/samples/")
		if i < 0 {
			return "", fmt.Errorf("not a sample image: %s", ref)
		}
		d, ok := s.Digests[ref[i+len("/samples/"):]]
		if !ok {
			return "", fmt.Errorf("no sample image %s", ref)
		}
		return d, nil
	}
	now := time.Now()
	payload, err := catalog.Build(ctx, src, catalog.BuildMeta{ID: ID, Title: "Samples (development)", Timestamp: now, Expires: now.AddDate(1, 0, 0)}, resolve, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	priv, err := loadOrMakeKey(filepath.Join(opts.Dir, "catalog.key"))
	if err != nil {
		return nil, err
	}
	if s.Envelope, err = catalog.Sign(payload, priv); err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	s.Source = catalog.Source{ID: ID, Title: "Samples (development)",
		Trust: catalog.Trust{Keys: []catalog.Key{{ID: catalog.KeyID(pub), Public: pub}}, Threshold: 1}}
	return s, nil
}

// writeSource copies the catalog's source tree to a temporary folder with
// the registry and platform filled in.
func (s *Samples) writeSource(platform string) (string, error) {
	dir, err := os.MkdirTemp("", "hearth-samples-")
	if err != nil {
		return "", fmt.Errorf("samplecatalog: %w", err)
	}
	err = fs.WalkDir(srcFS, "src", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("src", path)
		dst := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := srcFS.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".json") {
			b = []byte(strings.NewReplacer("{{registry}}", s.RegistryHost, "{{platform}}", platform).Replace(string(b)))
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("samplecatalog: %w", err)
	}
	return dir, nil
}

// loadOrMakeKey reads the installation's signing key, making it on first use.
func loadOrMakeKey(path string) (ed25519.PrivateKey, error) {
	priv, err := catalog.ReadKeyFile(path)
	if err == nil {
		return priv, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	_, priv, err = catalog.GenerateKey()
	if err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	if err := catalog.WriteKeyFile(path, priv); err != nil {
		return nil, fmt.Errorf("samplecatalog: %w", err)
	}
	return priv, nil
}

// Close stops the registry.
func (s *Samples) Close() error { return s.reg.Close() }
