package logfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// DriverMarker is the argument that tells hearthd it was started as the
// logging binary of a container.
const DriverMarker = "hearth-log-driver"

// Driver argument names (keys of DriverArgs). The shim passes the pairs in
// random order.
const (
	argDir      = "dir"
	argMaxBytes = "max-bytes"
	argMaxFiles = "max-files"
	// driverVersion is the value of DriverMarker.
	driverVersion = "1"
)

// Limits of the driver's rotation settings.
const (
	MinDriverMaxBytes = 1 << 10
	MaxDriverMaxBytes = 1 << 30
)

// drainTimeout is how long the driver keeps copying after it is told to stop
// (SIGTERM), so that what a stopping container printed last is kept.
const drainTimeout = time.Second

// DriverArgs are the arguments of cio.BinaryIO(hearthd, args) that make the
// shim start hearthd as the logging binary writing Path(dir, id). Check them
// first with CheckDriverConfig: the shim cannot report a driver that fails.
func DriverArgs(dir string, maxBytes int64, maxFiles int) map[string]string {
	return map[string]string{
		DriverMarker: driverVersion,
		argDir:       dir,
		argMaxBytes:  strconv.FormatInt(maxBytes, 10),
		argMaxFiles:  strconv.Itoa(maxFiles),
	}
}

// CheckDriverConfig returns an error naming the bad setting if RunDriver
// would refuse DriverArgs(dir, maxBytes, maxFiles): dir must be absolute,
// maxBytes within MinDriverMaxBytes..MaxDriverMaxBytes and maxFiles within
// 1..MaxFiles.
func CheckDriverConfig(dir string, maxBytes int64, maxFiles int) error {
	if dir == "" || !filepath.IsAbs(dir) {
		return fmt.Errorf("log driver %s %q: must be an absolute path", argDir, dir)
	}
	if maxBytes < MinDriverMaxBytes || maxBytes > MaxDriverMaxBytes {
		return fmt.Errorf("log driver %s %d: must be %d..%d", argMaxBytes, maxBytes, MinDriverMaxBytes, MaxDriverMaxBytes)
	}
	if maxFiles < 1 || maxFiles > MaxFiles {
		return fmt.Errorf("log driver %s %d: must be 1..%d", argMaxFiles, maxFiles, MaxFiles)
	}
	return nil
}

// IsDriverInvocation reports whether a process started with args (os.Args[1:])
// and environment getenv is a logging binary started by a containerd shim:
// the arguments are key value pairs with DriverMarker among the keys, and
// CONTAINER_ID is set.
func IsDriverInvocation(args []string, getenv func(string) string) bool {
	if len(args)%2 != 0 || getenv("CONTAINER_ID") == "" {
		return false
	}
	for i := 0; i < len(args); i += 2 {
		if args[i] == DriverMarker {
			return true
		}
	}
	return false
}

// driverConfig is the parsed form of the driver's arguments.
type driverConfig struct {
	dir         string
	maxBytes    int64
	maxFiles    int
	containerID string
}

// parseDriverArgs reads the key value pairs, in any order, and the
// container's id from the environment.
func parseDriverArgs(args []string, getenv func(string) string) (driverConfig, error) {
	if len(args)%2 != 0 {
		return driverConfig{}, fmt.Errorf("log driver arguments: %d given, want key value pairs", len(args))
	}
	vals := make(map[string]string, len(args)/2)
	for i := 0; i < len(args); i += 2 {
		k, v := args[i], args[i+1]
		switch k {
		case DriverMarker, argDir, argMaxBytes, argMaxFiles:
		default:
			return driverConfig{}, fmt.Errorf("log driver argument %q: unknown", k)
		}
		if _, dup := vals[k]; dup {
			return driverConfig{}, fmt.Errorf("log driver argument %q: given twice", k)
		}
		vals[k] = v
	}
	for _, k := range []string{DriverMarker, argDir, argMaxBytes, argMaxFiles} {
		if _, ok := vals[k]; !ok {
			return driverConfig{}, fmt.Errorf("log driver argument %q: missing", k)
		}
	}
	if v := vals[DriverMarker]; v != driverVersion {
		return driverConfig{}, fmt.Errorf("log driver argument %q: version %q, want %q", DriverMarker, v, driverVersion)
	}
	var cfg driverConfig
	cfg.dir = filepath.Clean(vals[argDir])
	maxBytes, err := strconv.ParseInt(vals[argMaxBytes], 10, 64)
	if err != nil {
		return driverConfig{}, fmt.Errorf("log driver argument %q: %q is not a number", argMaxBytes, vals[argMaxBytes])
	}
	maxFiles, err := strconv.Atoi(vals[argMaxFiles])
	if err != nil {
		return driverConfig{}, fmt.Errorf("log driver argument %q: %q is not a number", argMaxFiles, vals[argMaxFiles])
	}
	cfg.maxBytes, cfg.maxFiles = maxBytes, maxFiles
	if err := CheckDriverConfig(vals[argDir], maxBytes, maxFiles); err != nil {
		return driverConfig{}, err
	}
	cfg.containerID = getenv("CONTAINER_ID")
	if !validContainerID(cfg.containerID) {
		return driverConfig{}, fmt.Errorf("log driver CONTAINER_ID %q: want 1 to 200 of [a-zA-Z0-9_.-]", cfg.containerID)
	}
	return cfg, nil
}

// RunDriver is the logging binary: it parses args (key value pairs, any
// order) and CONTAINER_ID from getenv, opens Path(dir, CONTAINER_ID) for
// appending (creating dir 0750 if needed), closes ready to let the shim start
// the container, and copies stdout and stderr into the file line by line until
// both end. A write error does not stop the copying (a full disk must not block
// the container on a full pipe): the first one is returned at the end.
//
// When ctx is done, copying goes on for a short drain time if the readers
// have read deadlines (pipes from os.Pipe or os.NewFile on a non-blocking
// descriptor), then stops; other readers are copied until they end. On a
// setup error ready is not closed.
func RunDriver(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Reader, ready io.Closer) error {
	cfg, err := parseDriverArgs(args, getenv)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(cfg.dir, 0o750); err != nil {
		return fmt.Errorf("log driver: %w", err)
	}
	w, err := NewWriter(Path(cfg.dir, cfg.containerID), cfg.maxBytes, cfg.maxFiles)
	if err != nil {
		return fmt.Errorf("log driver: %w", err)
	}
	if err := ready.Close(); err != nil {
		w.Close()
		return fmt.Errorf("log driver: signal ready: %w", err)
	}

	var (
		copiers sync.WaitGroup
		errs    [2]error
		streams = [2]io.Reader{stdout, stderr}
		names   = [2]string{Stdout, Stderr}
		copied  = make(chan struct{})
		drained = make(chan struct{})
	)
	copiers.Add(len(streams))
	for i := range streams {
		go func() {
			defer copiers.Done()
			errs[i] = copyLines(w, names[i], streams[i], time.Now)
		}()
	}
	// The drainer ends the copiers' reads a while after ctx is done.
	go func() {
		defer close(drained)
		select {
		case <-copied:
		case <-ctx.Done():
			deadline := time.Now().Add(drainTimeout)
			for _, r := range streams {
				if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
					_ = d.SetReadDeadline(deadline) // without deadlines, r is read to its end
				}
			}
		}
	}()
	copiers.Wait()
	close(copied)
	<-drained
	return errors.Join(errs[0], errs[1], w.Close())
}

// copyLines copies r into w line by line until r ends. A line longer than
// MaxLineBytes is written as partial entries of that size as it arrives;
// text after the last newline is written as a full line at the end.
func copyLines(w *Writer, stream string, r io.Reader, now func() time.Time) error {
	br := bufio.NewReaderSize(r, MaxLineBytes)
	var (
		buf      []byte
		firstErr error
	)
	write := func(line []byte, partial bool) {
		if err := w.WriteLine(now(), stream, line, partial); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if n := len(buf); n > 0 && buf[n-1] == '\n' {
			write(buf[:n-1], false)
			buf = buf[:0]
		}
		for len(buf) > MaxLineBytes {
			write(buf[:MaxLineBytes], true)
			buf = buf[:copy(buf, buf[MaxLineBytes:])]
		}
		switch {
		case err == nil || errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, os.ErrClosed):
			if len(buf) > 0 {
				write(buf, false)
			}
			return firstErr
		default:
			if len(buf) > 0 {
				write(buf, false)
			}
			return errors.Join(firstErr, fmt.Errorf("log driver: read %s: %w", stream, err))
		}
	}
}

// validContainerID reports whether id is 1 to 200 of [a-zA-Z0-9_.-], which
// makes Path(dir, id) a plain file name in dir.
func validContainerID(id string) bool {
	if len(id) == 0 || len(id) > 200 {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.', c == '-':
		default:
			return false
		}
	}
	return true
}
