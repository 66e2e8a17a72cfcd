// Package accesslog writes the proxy's access log, one size-capped rotating
// file per app (StateDir/logs/access/<app>.log), in the same line format as
// the apps' own output so that one reader serves both.
package accesslog

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/hearthbox/hearth/proxy"
	"github.com/hearthbox/hearth/runtime/logfile"
)

// unmatched names the file of requests no route matched.
const unmatched = "_unmatched"

// Sink writes access entries. It is safe for concurrent use.
type Sink struct {
	dir      string
	maxBytes int64
	maxFiles int
	log      *slog.Logger

	// mu guards files.
	mu    sync.Mutex
	files map[string]*logfile.Writer
	// bufs recycles line buffers (*[]byte).
	bufs sync.Pool
}

// New returns a sink writing under dir, each file capped at maxBytes and
// keeping maxFiles files.
func New(dir string, maxBytes int64, maxFiles int, log *slog.Logger) *Sink {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sink{dir: dir, maxBytes: maxBytes, maxFiles: maxFiles, log: log.With("component", "accesslog"), files: map[string]*logfile.Writer{},
		bufs: sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}}
}

// line is what one access log line holds (JSON).
type line struct {
	Method     string  `json:"method"`
	Host       string  `json:"host"`
	Path       string  `json:"path"`
	Status     int     `json:"status"`
	Bytes      int64   `json:"bytes"`
	DurationMS float64 `json:"durationMs"`
	Remote     string  `json:"remote"`
}

// Write records one entry; a failure is logged, never returned to the
// request that made it. It is called once per request: the line is
// encoded into a pooled buffer (the same bytes json.Marshal of a line
// gives, without its reflection and allocations).
func (s *Sink) Write(e proxy.AccessEntry) {
	id := e.RouteID
	if !validID(id) {
		id = unmatched
	}
	bp := s.bufs.Get().(*[]byte)
	b := appendLine((*bp)[:0], line{Method: e.Method, Host: e.Host, Path: e.Path, Status: e.Status, Bytes: e.Bytes,
		DurationMS: float64(e.Duration.Microseconds()) / 1000, Remote: e.RemoteAddr})
	w, err := s.writer(id)
	if err == nil {
		err = w.WriteLine(e.Time, "stdout", b, false)
	}
	if cap(b) <= maxPooledLine {
		*bp = b
		s.bufs.Put(bp)
	}
	if err != nil {
		s.log.Warn("access log", "route", id, "err", err)
	}
}

// maxPooledLine bounds the buffers kept for reuse.
const maxPooledLine = 16 << 10

// validID reports whether id is an app id that can name a file:
// [a-z0-9][a-z0-9-]{0,62}.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 63 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && i > 0:
		default:
			return false
		}
	}
	return true
}

func (s *Sink) writer(id string) (*logfile.Writer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.files[id]; ok {
		return w, nil
	}
	w, err := logfile.NewWriter(filepath.Join(s.dir, id+".log"), s.maxBytes, s.maxFiles)
	if err != nil {
		return nil, fmt.Errorf("open access log of %s: %w", id, err)
	}
	s.files[id] = w
	return w, nil
}

// Path is the access log file of a route.
func (s *Sink) Path(id string) string { return filepath.Join(s.dir, id+".log") }

// Close closes every file.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var first error
	for id, w := range s.files {
		if err := w.Close(); err != nil && first == nil {
			first = err
		}
		delete(s.files, id)
	}
	return first
}
