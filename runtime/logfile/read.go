package logfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

// pollInterval is how often a follower looks for new lines and rotations.
const pollInterval = 100 * time.Millisecond

// maxEntryBytes bounds one stored line: the text plus the time, stream and
// tag. Longer lines are not ours and are skipped.
const maxEntryBytes = MaxLineBytes + 128

// ReadOptions select the entries Read passes on.
type ReadOptions struct {
	// Follow keeps reading lines as they are written, across rotations,
	// until the context is done.
	Follow bool
	// Tail passes on only the last Tail entries that exist when Read starts
	// (after Since is applied); 0 passes on all of them. Entries written
	// later are all passed on when following.
	Tail int
	// Since skips entries older than it.
	Since time.Time
}

// Read passes the entries of the log at path to fn, oldest first: the rotated
// files (path.N .. path.1), then path. Malformed lines and a last line without
// its newline are skipped. An error from fn stops Read and is returned as is.
//
// Without Follow, Read returns nil at the end of path, or an error wrapping
// fs.ErrNotExist when there is no file at all. With Follow it waits for path
// to appear if needed, then keeps reading: when a new file appears at path
// (a rotation), it finishes the old file, reads any file rotated in between,
// and goes on with the new one. It returns ctx.Err() when ctx is done.
func Read(ctx context.Context, path string, opts ReadOptions, fn func(Entry) error) error {
	if opts.Tail < 0 {
		return fmt.Errorf("tail %d: must not be negative", opts.Tail)
	}
	r := &reader{path: path, opts: opts, fn: fn}
	return r.run(ctx)
}

// reader is the state of one Read call.
type reader struct {
	path string
	opts ReadOptions
	fn   func(Entry) error
	// buffering is true while the entries that exist at the start are read
	// and Tail is set: they are kept in ring instead of passed on.
	buffering bool
	ring      []Entry
}

// logFile is one open log file and its unfinished last line.
type logFile struct {
	f       *os.File
	fi      fs.FileInfo
	br      *bufio.Reader // made on first read
	pending []byte        // bytes of a line whose newline has not been read yet
	tooLong bool          // the line being read is longer than maxEntryBytes: drop it
}

func (r *reader) run(ctx context.Context) error {
	var (
		cur   *logFile
		older []*logFile
		err   error
	)
	var tick <-chan time.Time // polls, when following
	if r.opts.Follow {
		ticker := time.NewTicker(pollInterval)
		defer ticker.Stop()
		tick = ticker.C
	}
	for {
		cur, older, err = openChain(r.path, nil)
		if err != nil {
			return err
		}
		if cur != nil || (!r.opts.Follow && len(older) > 0) {
			break
		}
		closeAll(older)
		if !r.opts.Follow {
			return fmt.Errorf("read log: %w", &fs.PathError{Op: "open", Path: r.path, Err: fs.ErrNotExist})
		}
		select { // wait for the file to appear
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		}
	}
	defer func() {
		closeAll(older)
		if cur != nil {
			cur.close()
		}
	}()

	r.buffering = r.opts.Tail > 0
	for i := len(older) - 1; i >= 0; i-- {
		if err := older[i].readAvailable(ctx, r.emit); err != nil {
			return err
		}
		older[i].close()
	}
	older = nil
	if cur != nil {
		if err := cur.readAvailable(ctx, r.emit); err != nil {
			return err
		}
	}
	if err := r.flushTail(); err != nil {
		return err
	}
	if !r.opts.Follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
		}
		next, err := r.step(ctx, cur)
		if err != nil {
			return err
		}
		cur = next
	}
}

// step reads what was added to cur and, if path is a new file, finishes cur,
// reads the files rotated in between and returns the new file (cur is then
// closed). Otherwise it returns cur.
func (r *reader) step(ctx context.Context, cur *logFile) (*logFile, error) {
	if err := cur.readAvailable(ctx, r.emit); err != nil {
		return cur, err
	}
	fi, err := os.Stat(r.path)
	if errors.Is(err, fs.ErrNotExist) {
		return cur, nil // between a rotation's rename and create, or removed
	}
	if err != nil {
		return cur, fmt.Errorf("follow log: %w", err)
	}
	if os.SameFile(fi, cur.fi) {
		return cur, nil
	}
	next, between, err := openChain(r.path, cur.fi)
	if err != nil {
		return cur, err
	}
	if next == nil {
		closeAll(between)
		return cur, nil
	}
	// The writer closes a file before renaming it, so cur is complete now.
	err = cur.readAvailable(ctx, r.emit)
	for i := len(between) - 1; i >= 0 && err == nil; i-- {
		err = between[i].readAvailable(ctx, r.emit)
	}
	closeAll(between)
	if err != nil {
		next.close()
		return cur, err
	}
	cur.close()
	return next, nil
}

// openChain opens path and then its rotated files path.1, path.2 ... newest
// first. It stops at the file stop (which it does not return), or after two
// names in a row are missing: a rotation in progress leaves one gap, which
// moves towards path while this walk moves away from it, so no file is
// missed. A file seen twice (moved by a rotation during the walk) is kept
// once. cur is nil when path does not exist.
func openChain(path string, stop fs.FileInfo) (cur *logFile, older []*logFile, err error) {
	seen := func(fi fs.FileInfo) bool {
		if cur != nil && os.SameFile(fi, cur.fi) {
			return true
		}
		for _, o := range older {
			if os.SameFile(fi, o.fi) {
				return true
			}
		}
		return false
	}
	cur, err = openLog(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	misses := 0
	for i := 1; misses < 2; i++ {
		lf, err := openLog(rotatedName(path, i))
		if errors.Is(err, fs.ErrNotExist) {
			misses++
			continue
		}
		if err != nil {
			closeAll(older)
			if cur != nil {
				cur.close()
			}
			return nil, nil, err
		}
		misses = 0
		if stop != nil && os.SameFile(lf.fi, stop) {
			lf.close()
			break
		}
		if seen(lf.fi) {
			lf.close()
			continue
		}
		older = append(older, lf)
	}
	return cur, older, nil
}

// openLog opens a log file for reading.
func openLog(name string) (*logFile, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open log: %w", err)
	}
	return &logFile{f: f, fi: fi}, nil
}

func closeAll(files []*logFile) {
	for _, lf := range files {
		lf.close()
	}
}

func (lf *logFile) close() {
	lf.f.Close()
	lf.br = nil
}

// readAvailable passes every complete line up to the end of the file to emit.
// The bytes of an unfinished last line are kept for the next call.
func (lf *logFile) readAvailable(ctx context.Context, emit func([]byte) error) error {
	if lf.br == nil {
		lf.br = bufio.NewReaderSize(lf.f, 64<<10)
	}
	for {
		chunk, err := lf.br.ReadSlice('\n')
		switch {
		case err == nil:
			line := chunk
			if len(lf.pending) > 0 {
				lf.pending = append(lf.pending, chunk...)
				line = lf.pending
			}
			skip := lf.tooLong || len(line) > maxEntryBytes
			lf.pending, lf.tooLong = lf.pending[:0], false
			if skip {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := emit(line); err != nil {
				return err
			}
		case errors.Is(err, bufio.ErrBufferFull) || errors.Is(err, io.EOF):
			if !lf.tooLong {
				lf.pending = append(lf.pending, chunk...)
			}
			if len(lf.pending) > maxEntryBytes {
				lf.pending, lf.tooLong = lf.pending[:0], true
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
		default:
			return fmt.Errorf("read log %s: %w", lf.f.Name(), err)
		}
	}
}

// emit parses a line and passes it on, or keeps it for the tail.
func (r *reader) emit(line []byte) error {
	e, err := ParseLine(line)
	if err != nil {
		return nil // not ours (a crash mid-write, a foreign file): skip it
	}
	if !r.opts.Since.IsZero() && e.Time.Before(r.opts.Since) {
		return nil
	}
	if r.buffering {
		r.ring = append(r.ring, e)
		if n := r.opts.Tail; len(r.ring) >= 2*n {
			r.ring = r.ring[:copy(r.ring, r.ring[len(r.ring)-n:])]
		}
		return nil
	}
	return r.fn(e)
}

// flushTail passes on the last Tail kept entries and stops buffering.
func (r *reader) flushTail() error {
	if !r.buffering {
		return nil
	}
	r.buffering = false
	keep := r.ring
	if len(keep) > r.opts.Tail {
		keep = keep[len(keep)-r.opts.Tail:]
	}
	r.ring = nil
	for _, e := range keep {
		if err := r.fn(e); err != nil {
			return err
		}
	}
	return nil
}
