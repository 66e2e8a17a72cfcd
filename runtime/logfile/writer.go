package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// MaxFiles is the largest maxFiles NewWriter accepts.
const MaxFiles = 100

// fileMode is the permission of every log file: the owner (root, the
// driver) writes, the group may read.
const fileMode fs.FileMode = 0o640

// ErrClosed is returned by WriteLine after Close.
var ErrClosed = errors.New("log writer closed")

// Writer appends entries to a log file and rotates it. It is safe for
// concurrent use (the driver's stdout and stderr copiers share one).
type Writer struct {
	path     string
	maxBytes int64
	maxFiles int

	// mu is held for a whole entry, rotation included, so that entries never
	// interleave and readers see the old file complete before the new one
	// appears. It guards every field below.
	mu     sync.Mutex
	f      *os.File // nil after Close, or after a failed reopen (retried on the next write)
	size   int64    // bytes in f
	closed bool
	buf    []byte // one formatted entry, reused
}

// NewWriter opens (or creates) the log file at path for appending. The file
// is rotated before it would grow past maxBytes; maxFiles counts the current
// file, so at most path, path.1 .. path.(maxFiles-1) exist. Rotated files
// beyond that, left by an earlier, larger maxFiles, are removed.
func NewWriter(path string, maxBytes int64, maxFiles int) (*Writer, error) {
	if path == "" {
		return nil, errors.New("log path is empty")
	}
	if maxBytes <= 0 {
		return nil, fmt.Errorf("maxBytes %d: must be positive", maxBytes)
	}
	if maxFiles < 1 || maxFiles > MaxFiles {
		return nil, fmt.Errorf("maxFiles %d: must be 1..%d", maxFiles, MaxFiles)
	}
	w := &Writer{path: path, maxBytes: maxBytes, maxFiles: maxFiles}
	if err := w.open(); err != nil {
		return nil, err
	}
	if err := w.removeStale(); err != nil {
		w.f.Close()
		return nil, err
	}
	return w, nil
}

// WriteLine appends one entry. stream is Stdout or Stderr; line has no
// newline. A line longer than MaxLineBytes is written as several entries, all
// but the last marked partial; partial marks the last one. If rotating fails,
// the entry is still written to the current file and the rotation error is
// returned.
func (w *Writer) WriteLine(t time.Time, stream string, line []byte, partial bool) error {
	if stream != Stdout && stream != Stderr {
		return fmt.Errorf("stream %q: must be %s or %s", stream, Stdout, Stderr)
	}
	if bytes.IndexByte(line, '\n') >= 0 {
		return errors.New("line contains a newline")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	var errs []error
	for {
		chunk, p := line, partial
		if len(chunk) > MaxLineBytes {
			chunk, p = line[:MaxLineBytes], true
		}
		if err := w.writeEntry(t, stream, chunk, p); err != nil {
			errs = append(errs, err)
		}
		line = line[len(chunk):]
		if len(line) == 0 {
			return errors.Join(errs...)
		}
	}
}

// Close closes the file. Later writes return ErrClosed.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", w.path, err)
	}
	return nil
}

// writeEntry writes one entry with w.mu held, rotating first if needed.
func (w *Writer) writeEntry(t time.Time, stream string, line []byte, partial bool) error {
	w.buf = appendEntry(w.buf[:0], t, stream, line, partial)
	var rotErr error
	if w.f != nil && w.size > 0 && w.size+int64(len(w.buf)) > w.maxBytes {
		rotErr = w.rotate()
	}
	if w.f == nil {
		if err := w.open(); err != nil {
			return errors.Join(rotErr, err)
		}
	}
	n, err := w.f.Write(w.buf)
	w.size += int64(n)
	if err != nil {
		return errors.Join(rotErr, fmt.Errorf("write %s: %w", w.path, err))
	}
	return rotErr
}

// rotate closes the current file and shifts the names: path.(n-2) becomes
// path.(n-1) (replacing the oldest), ..., path becomes path.1. The next write
// opens a new path. With maxFiles 1 the current file is removed. The old file
// is closed before it is renamed, so a reader that sees a new file at path
// knows the old one is complete.
func (w *Writer) rotate() error {
	cerr := w.f.Close()
	w.f = nil
	if cerr != nil {
		return fmt.Errorf("rotate: close %s: %w", w.path, cerr)
	}
	if w.maxFiles == 1 {
		if err := os.Remove(w.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate: %w", err)
		}
		return nil
	}
	for i := w.maxFiles - 2; i >= 1; i-- {
		err := os.Rename(rotatedName(w.path, i), rotatedName(w.path, i+1))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rotate: %w", err)
		}
	}
	if err := os.Rename(w.path, rotatedName(w.path, 1)); err != nil {
		return fmt.Errorf("rotate: %w", err)
	}
	return nil
}

// open opens path for appending, creating it with fileMode. It refuses to
// follow a symbolic link.
func (w *Writer) open() error {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, fileMode)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Mode().Perm() != fileMode {
		err = f.Chmod(fileMode)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("open log %s: %w", w.path, err)
	}
	w.f, w.size = f, fi.Size()
	return nil
}

// removeStale removes rotated files numbered maxFiles or higher.
func (w *Writer) removeStale() error {
	for _, i := range rotatedIndexes(w.path) {
		if i < w.maxFiles {
			continue
		}
		if err := os.Remove(rotatedName(w.path, i)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove old log: %w", err)
		}
	}
	return nil
}

// rotatedName is the name of the i-th rotated file (1 is the newest).
func rotatedName(path string, i int) string {
	return path + "." + strconv.Itoa(i)
}

// rotatedIndexes lists the numbers of the rotated files of path that exist
// (in directory order). Errors reading the directory give none.
func rotatedIndexes(path string) []int {
	ents, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		return nil
	}
	prefix := filepath.Base(path) + "."
	var idx []int
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok {
			continue
		}
		i, err := strconv.Atoi(rest)
		if err != nil || i < 1 || strconv.Itoa(i) != rest {
			continue
		}
		idx = append(idx, i)
	}
	return idx
}
