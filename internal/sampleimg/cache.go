package sampleimg

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The cache holds one folder per spec and platform:
//
//	CacheDir/
//	  web-1.0-amd64-<key>/      key: hash of cacheFormat, spec, platform, sources
//	    layer.tar.gz            the gzipped layer
//	    layer.json              layerMeta: its digest, diff ID and size
//
// A folder is assembled under a temporary name and renamed into place, so a
// reader sees a whole entry or none.
const (
	// cacheFormat changes whenever the layer's layout changes, so old cache
	// entries are not reused.
	cacheFormat = "sampleimg-layer-v1"
	layerFile   = "layer.tar.gz"
	metaFile    = "layer.json"
)

// layerMeta is what the cache keeps next to a layer, so a cache hit reads
// nothing but this small file.
type layerMeta struct {
	Digest v1.Hash `json:"digest"`
	DiffID v1.Hash `json:"diffID"`
	Size   int64   `json:"size"`
}

// sourceHash hashes the sample apps' sources (non-test .go files under dir),
// so a changed app never comes from a stale cache entry.
func sourceHash(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hash sample app sources: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// layer returns the layer of s on p from the cache, building it first when
// it is not there.
func (b *Builder) layer(ctx context.Context, s Spec, p platform, src string) (v1.Layer, error) {
	key := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%s\n%t\n%s\n%s\n", cacheFormat, s.App, s.Version, s.Broken, p, src))
	broken := ""
	if s.Broken {
		broken = "-broken"
	}
	dir := filepath.Join(b.cfg.CacheDir, fmt.Sprintf("%s-%s%s-%s%s-%s", s.App, s.Version, broken, p.Arch, p.Variant, hex.EncodeToString(key[:8])))
	l, err := openLayer(dir)
	if err == nil {
		b.log.DebugContext(ctx, "sample layer cached", "app", s.App, "version", s.Version, "platform", p.String(), "dir", dir)
		return l, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("cache entry %s: %w", dir, err)
	}

	tmp, err := os.MkdirTemp(b.cfg.CacheDir, ".build-*")
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, s.App)
	if err := b.goBuild(ctx, s, p, bin); err != nil {
		return nil, err
	}
	if err := writeEntry(tmp, s.App, bin); err != nil {
		return nil, err
	}
	if err := os.Remove(bin); err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	if rerr := os.Rename(tmp, dir); rerr != nil {
		// Another Build may have put the same entry in place first.
		if l, err := openLayer(dir); err == nil {
			return l, nil
		}
		return nil, fmt.Errorf("cache: %w", rerr)
	}
	b.log.DebugContext(ctx, "sample layer built", "app", s.App, "version", s.Version, "platform", p.String(), "dir", dir)
	return openLayer(dir)
}

// writeEntry writes the layer of app with binary bin, and its layerMeta,
// into the folder dir.
func writeEntry(dir, app, bin string) (err error) {
	f, err := os.Create(filepath.Join(dir, layerFile))
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("cache: %w", cerr)
		}
	}()
	digest := sha256.New()
	counter := &countWriter{}
	diffID, err := writeLayer(io.MultiWriter(f, digest, counter), app, bin)
	if err != nil {
		return err
	}
	meta, err := json.Marshal(layerMeta{
		Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(digest.Sum(nil))},
		DiffID: diffID,
		Size:   counter.n,
	})
	if err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, metaFile), meta, 0o644); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// openLayer opens the cache entry in dir. It returns an error wrapping
// fs.ErrNotExist when there is none.
func openLayer(dir string) (v1.Layer, error) {
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return nil, err
	}
	var meta layerMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		return nil, fmt.Errorf("%s: %w", metaFile, err)
	}
	path := filepath.Join(dir, layerFile)
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() != meta.Size {
		return nil, fmt.Errorf("%s is %d bytes, %s says %d", layerFile, st.Size(), metaFile, meta.Size)
	}
	return &fileLayer{path: path, meta: meta}, nil
}

// fileLayer is a cached gzipped layer whose digest and diff ID are known
// without reading it.
type fileLayer struct {
	path string
	meta layerMeta
}

var _ v1.Layer = (*fileLayer)(nil)

// Digest returns the sha256 of the gzipped layer.
func (l *fileLayer) Digest() (v1.Hash, error) { return l.meta.Digest, nil }

// DiffID returns the sha256 of the uncompressed tar.
func (l *fileLayer) DiffID() (v1.Hash, error) { return l.meta.DiffID, nil }

// Size returns the size of the gzipped layer.
func (l *fileLayer) Size() (int64, error) { return l.meta.Size, nil }

// MediaType returns the OCI gzipped layer type.
func (l *fileLayer) MediaType() (types.MediaType, error) { return types.OCILayer, nil }

// Compressed opens the gzipped layer.
func (l *fileLayer) Compressed() (io.ReadCloser, error) { return os.Open(l.path) }

// Uncompressed opens the layer's tar.
func (l *fileLayer) Uncompressed() (io.ReadCloser, error) {
	f, err := os.Open(l.path)
	if err != nil {
		return nil, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return readCloser{Reader: zr, close: func() error { return errors.Join(zr.Close(), f.Close()) }}, nil
}

type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }

// countWriter counts the bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
