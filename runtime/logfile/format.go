// Package logfile stores containers' output in CRI-formatted, rotating files
// and reads them back, following them across rotations.
//
// The writing side is a containerd "logging binary": the shim starts hearthd
// again with DriverArgs as its arguments (see IsDriverInvocation, RunDriver and
// Main), and that process copies the container's stdout and stderr into
// Path(dir, id) until both streams end. Because the shim owns that process,
// logging survives restarts of hearthd. The reading side (Read) is used by the
// runtime to serve logs.
//
// The package imports neither containerd nor the runtime package rt; rt
// imports it.
package logfile

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// MaxLineBytes is the longest text of one entry. A longer line is stored as
// partial ("P") entries of this size followed by a full ("F") one.
const MaxLineBytes = 16 << 10

// Stream names.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// ErrBadLine is returned by ParseLine for a line that is not a CRI log entry.
var ErrBadLine = errors.New("malformed log line")

// Entry is one line of a log file.
type Entry struct {
	// Time is when the driver read the line, in UTC.
	Time time.Time
	// Stream is Stdout or Stderr.
	Stream string
	// Line is the text, without its newline.
	Line string
	// Partial is true when the line continues in the next entry of the same
	// stream (it was longer than MaxLineBytes).
	Partial bool
}

// Path is the file that holds a container's current log. Rotated files are
// Path+".1" (the newest) to Path+".N" (the oldest).
func Path(dir, containerID string) string {
	return filepath.Join(dir, containerID+".log")
}

// appendEntry appends the CRI form of one entry:
// "<RFC3339Nano UTC> <stream> <F|P> <text>\n".
func appendEntry(b []byte, t time.Time, stream string, line []byte, partial bool) []byte {
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	if partial {
		b = append(b, " P "...)
	} else {
		b = append(b, " F "...)
	}
	b = append(b, line...)
	return append(b, '\n')
}

// ParseLine parses one line of a log file, with or without its newline.
func ParseLine(line []byte) (Entry, error) {
	line = bytes.TrimSuffix(line, []byte{'\n'})
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return Entry{}, fmt.Errorf("no stream: %w", ErrBadLine)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Entry{}, fmt.Errorf("no tag: %w", ErrBadLine)
	}
	tag, text, ok := bytes.Cut(rest, []byte{' '})
	if !ok {
		return Entry{}, fmt.Errorf("no text: %w", ErrBadLine)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return Entry{}, fmt.Errorf("time %q: %w", ts, ErrBadLine)
	}
	e := Entry{Time: t.UTC(), Line: string(text)}
	switch string(stream) {
	case Stdout, Stderr:
		e.Stream = string(stream)
	default:
		return Entry{}, fmt.Errorf("stream %q: %w", stream, ErrBadLine)
	}
	switch string(tag) {
	case "F":
	case "P":
		e.Partial = true
	default:
		return Entry{}, fmt.Errorf("tag %q: %w", tag, ErrBadLine)
	}
	return e, nil
}
