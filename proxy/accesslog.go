package proxy

import (
	"bufio"
	"net"
	"net/http"
	"time"
)

// AccessEntry is one request, for the per-route access log. The query string
// is left out: it often carries tokens.
type AccessEntry struct {
	Time       time.Time // when the request arrived
	RouteID    string    // "" when no route matched
	Method     string
	Host       string
	Path       string
	Status     int // 499 when the client went away before a response
	Bytes      int64
	Duration   time.Duration
	RemoteAddr string // from the connection, never from a header
}

// statusClientGone is logged when the client left before the upstream
// answered (nginx's convention).
const statusClientGone = 499

// recorder counts what a handler writes. It passes Flush through and unwraps
// for http.ResponseController, which the reverse proxy uses to hijack
// connections for WebSockets.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 || w.status < 200 { // 1xx responses are followed by another
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client.
func (w *recorder) Flush() { _ = w.FlushError() }

// FlushError sends buffered data to the client and reports a failure
// (http.ResponseController prefers it to Flush).
func (w *recorder) FlushError() error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection for a protocol upgrade (WebSockets); the
// reverse proxy writes the 101 response itself.
func (w *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.status = http.StatusSwitchingProtocols
	}
	return c, rw, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logAccess sends one entry to the sink, if there is one.
func (p *Proxy) logAccess(r *http.Request, routeID string, w *recorder, start time.Time) {
	if p.cfg.AccessLog == nil {
		return
	}
	status := w.status
	if status == 0 {
		status = http.StatusOK
	}
	p.cfg.AccessLog(AccessEntry{
		Time:       start,
		RouteID:    routeID,
		Method:     r.Method,
		Host:       r.Host,
		Path:       r.URL.Path,
		Status:     status,
		Bytes:      w.bytes,
		Duration:   time.Since(start),
		RemoteAddr: r.RemoteAddr,
	})
}
