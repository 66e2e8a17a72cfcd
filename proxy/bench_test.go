package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
)

// rawBackend is a minimal HTTP/1.1 keep-alive server on loopback that
// answers every request with the same 1 KiB response. It allocates almost
// nothing per request, so that a benchmark's allocations are the proxy's.
type rawBackend struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]bool
}

func newRawBackend(tb testing.TB) *rawBackend {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	body := bytes.Repeat([]byte("hearth bench 1k\n"), 64)
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
		strconv.Itoa(len(body)) + "\r\n\r\n")
	resp = append(resp, body...)
	b := &rawBackend{ln: ln, conn: map[net.Conn]bool{}}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conn[c] = true
			b.mu.Unlock()
			b.wg.Go(func() { serveRaw(c, resp) })
		}
	})
	tb.Cleanup(func() {
		_ = ln.Close()
		b.mu.Lock()
		for c := range b.conn {
			_ = c.Close()
		}
		b.mu.Unlock()
		b.wg.Wait()
	})
	return b
}

// serveRaw answers each request head on c (requests have no body) with resp.
func serveRaw(c net.Conn, resp []byte) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
		}
		if _, err := c.Write(resp); err != nil {
			return
		}
	}
}

// discardWriter is a ResponseWriter that keeps nothing but its header map.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(int)             {}
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// BenchmarkServeHTTPS measures the HTTPS handler's hot path: a GET routed by
// host name and forwarded to a keep-alive upstream, its 1 KiB answer copied
// back (without the client side's TLS and HTTP parsing, which net/http
// does). Run it with -benchmem: allocs/op are the proxy's per request.
func BenchmarkServeHTTPS(b *testing.B) {
	p, err := New(Config{
		HTTPAddr:  "127.0.0.1:0",
		HTTPSAddr: "127.0.0.1:0",
		Certs:     &testCerts{},
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = p.Close()
		p.transport.CloseIdleConnections()
	})
	be := newRawBackend(b)
	if err := p.Apply(context.Background(), []Route{route("bench", "bench.hearth.test", "http://"+be.ln.Addr().String())}); err != nil {
		b.Fatal(err)
	}
	h := p.httpsSrv.Handler
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequest(http.MethodGet, "https://bench.hearth.test/", nil)
		if err != nil {
			b.Error(err)
			return
		}
		req.RemoteAddr = "127.0.0.1:40000"
		req.TLS = &tls.ConnectionState{Version: tls.VersionTLS13}
		req.Header.Set("User-Agent", "bench")
		req.Header.Set("Accept", "*/*")
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			req.Body = http.NoBody
			clear(w.h)
			h.ServeHTTP(w, req)
		}
	})
}
