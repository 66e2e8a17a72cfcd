package logfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Descriptors the shim gives a logging binary.
const (
	fdStdout = 3
	fdStderr = 4
	fdReady  = 5
)

// Main is the whole logging binary for a main function that found
// IsDriverInvocation true: it takes the container's stdout and stderr from
// descriptors 3 and 4, signals readiness on descriptor 5 (one byte, then
// close, which both the "binary" and the "binary-v2" shim protocols accept),
// stops on SIGTERM or SIGINT after a short drain, and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runMain(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", DriverMarker, err)
		return 1
	}
	return 0
}

func runMain(ctx context.Context) error {
	var files [3]*os.File
	for i, fd := range []int{fdStdout, fdStderr, fdReady} {
		// Non-blocking descriptors go to Go's poller, which gives the
		// copiers read deadlines (used to drain after SIGTERM).
		if fd != fdReady {
			if err := syscall.SetNonblock(fd, true); err != nil {
				return fmt.Errorf("descriptor %d: %w", fd, err)
			}
		}
		files[i] = os.NewFile(uintptr(fd), fmt.Sprintf("fd%d", fd))
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	return RunDriver(ctx, os.Args[1:], os.Getenv, files[0], files[1], readyFile{files[2]})
}

// readyFile tells the shim that the driver is ready: it writes one byte, as
// the binary-v2 protocol requires, and closes the descriptor.
type readyFile struct{ f *os.File }

func (r readyFile) Close() error {
	_, werr := r.f.Write([]byte{0})
	return errors.Join(werr, r.f.Close())
}
