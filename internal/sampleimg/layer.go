package sampleimg

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// nonroot is the uid and gid the apps run as (distroless' "nonroot").
const nonroot = 65532

// epoch is the fixed time of every file, layer and config, for reproducibility.
func epoch() time.Time { return time.Unix(0, 0).UTC() }

// layerEntry is one entry of the layer's tar.
type layerEntry struct {
	name     string
	mode     int64
	uid, gid int
	file     string // host file to copy; "" for a folder
}

// layerEntries lists the layer in tar order: the binary at /app/APP, the
// app's data folder owned by nonroot, and empty /etc, /run and /tmp for the
// runtime's mounts.
func layerEntries(app, bin string) []layerEntry {
	return []layerEntry{
		{name: "app/", mode: 0o755},
		{name: "app/" + app, mode: 0o755, file: bin},
		{name: "app/data/", mode: 0o755, uid: nonroot, gid: nonroot},
		{name: "etc/", mode: 0o755},
		{name: "run/", mode: 0o755},
		{name: "tmp/", mode: 0o1777},
	}
}

// writeLayer writes the gzipped layer tar for app with binary bin to w and
// returns the digest of the uncompressed tar (the layer's diff ID).
//
// BestSpeed: the tests build under the race detector, which makes
// compress/flate ~20 times slower; level 1 costs a few percent of size.
func writeLayer(w io.Writer, app, bin string) (v1.Hash, error) {
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed) // no name, no mtime: reproducible
	if err != nil {
		return v1.Hash{}, fmt.Errorf("write layer: %w", err)
	}
	diff := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diff))
	for _, e := range layerEntries(app, bin) {
		if err := addEntry(tw, e); err != nil {
			return v1.Hash{}, fmt.Errorf("write layer: %s: %w", e.name, err)
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		return v1.Hash{}, fmt.Errorf("write layer: %w", err)
	}
	return v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", diff.Sum(nil))}, nil
}

func addEntry(tw *tar.Writer, e layerEntry) error {
	h := &tar.Header{
		Name:     e.name,
		Mode:     e.mode,
		Uid:      e.uid,
		Gid:      e.gid,
		ModTime:  epoch(),
		Typeflag: tar.TypeDir,
		Format:   tar.FormatUSTAR,
	}
	if e.file == "" {
		return tw.WriteHeader(h)
	}
	src, err := os.Open(e.file)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	h.Typeflag = tar.TypeReg
	h.Size = st.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.Copy(tw, src)
	return err
}
