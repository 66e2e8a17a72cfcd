package proxy

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// harness is a running proxy on loopback with a test CA.
type harness struct {
	p         *Proxy
	certs     *testCerts
	httpAddr  string
	httpsAddr string

	mu     sync.Mutex
	access []AccessEntry
}

// startProxy runs a proxy for one test; edit may change its Config. The
// proxy is stopped, and Run's result checked, in t.Cleanup.
func startProxy(t *testing.T, edit func(*Config)) *harness {
	t.Helper()
	h := &harness{certs: newTestCerts(t)}
	cfg := Config{
		HTTPAddr:  "127.0.0.1:0",
		HTTPSAddr: "127.0.0.1:0",
		PortBind:  "127.0.0.1",
		Certs:     h.certs,
		AccessLog: func(e AccessEntry) {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.access = append(h.access, e)
		},
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.p = p
	h.httpAddr, h.httpsAddr = p.Addrs()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: got %v, want nil", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after its context ended")
		}
	})
	return h
}

// apply calls Apply and fails the test on error.
func (h *harness) apply(t *testing.T, routes ...Route) {
	t.Helper()
	if err := h.p.Apply(context.Background(), routes); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func (h *harness) accessLog() []AccessEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]AccessEntry(nil), h.access...)
}

// waitAccess waits until the access log holds n entries (they are written
// when a handler returns, which may be after the client has its response).
func (h *harness) waitAccess(t *testing.T, n int) []AccessEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		got := h.accessLog()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		<-tick.C
	}
}

// client talks to the proxy whatever the URL's host: port 443 goes to the
// HTTPS listener, port 80 to the HTTP one, other ports are dialled as given.
// It trusts only the test CA and never follows redirects.
func (h *harness) client(t *testing.T, http2 bool) *http.Client {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			_, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, err
			}
			switch port {
			case "443":
				addr = h.httpsAddr
			case "80":
				addr = h.httpAddr
			}
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: h.certs.pool},
		ForceAttemptHTTP2: http2,
		WriteBufferSize:   64 << 10,
	}
	if !http2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// get does a GET with optional headers and returns the response and its body.
func get(t *testing.T, c *http.Client, url string, header http.Header) (*http.Response, string) {
	t.Helper()
	return send(t, c, http.MethodGet, url, header, "")
}

// forwardPaths are the two ways a request is forwarded: a GET takes the
// fast path, a POST with a body the general one (httputil.ReverseProxy).
var forwardPaths = []struct{ name, method, body string }{
	{"fast", http.MethodGet, ""},
	{"general", http.MethodPost, "x=1"},
}

// send does a request with optional headers and body and returns the
// response and its body.
func send(t *testing.T, c *http.Client, method, url string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rb)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", url, err)
	}
	return resp, string(got)
}

// echoed is what the echo backend saw.
type echoed struct {
	Method string
	Host   string
	Path   string
	Header http.Header
	Body   int64
}

// backend starts an httptest server that counts its requests and runs h
// (nil = echo the request as JSON).
type backend struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits int
}

func newBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{}
	if h == nil {
		h = func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(echoed{Method: r.Method, Host: r.Host, Path: r.URL.RequestURI(), Header: r.Header, Body: n})
		}
	}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		b.hits++
		b.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(b.srv.Close)
	return b
}

func (b *backend) url() string { return b.srv.URL }

func (b *backend) hitCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.hits
}

// route is a running route to upstream on host.
func route(id, host, upstream string) Route {
	return Route{ID: id, Title: id, Hosts: []string{host}, Upstream: upstream, State: StateRunning}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

// refusedUpstream is an upstream URL on which nothing listens.
func refusedUpstream(t *testing.T) string {
	return "http://127.0.0.1:" + strconv.Itoa(freePort(t))
}

func decodeEcho(t *testing.T, body string) echoed {
	t.Helper()
	var e echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("decode echo %q: %v", body, err)
	}
	return e
}

// testWriter sends the proxy's log to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}
