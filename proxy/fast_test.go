package proxy

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// connCounter counts the connections an httptest server accepted and how
// many of them are closed.
type connCounter struct {
	mu             sync.Mutex
	opened, closed int
}

func (c *connCounter) track(_ net.Conn, s http.ConnState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch s {
	case http.StateNew:
		c.opened++
	case http.StateClosed, http.StateHijacked:
		c.closed++
	}
}

func (c *connCounter) counts() (opened, closed int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opened, c.closed
}

// newCountingBackend is an httptest server running h that counts its
// connections; it is closed in t.Cleanup.
func newCountingBackend(t *testing.T, h http.HandlerFunc) (*httptest.Server, *connCounter) {
	t.Helper()
	cc := &connCounter{}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = cc.track
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cc
}

func TestFastPathKeepsUpstreamConnections(t *testing.T) {
	for _, http2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(http2), func(t *testing.T) {
			h := startProxy(t, nil)
			srv, cc := newCountingBackend(t, func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, r.URL.RequestURI())
			})
			h.apply(t, route("keep", "keep.hearth.local", srv.URL))
			c := h.client(t, http2)
			for i := range 20 {
				path := "/n/" + strconv.Itoa(i) + "?x=%20y"
				resp, body := get(t, c, "https://keep.hearth.local"+path, nil)
				if resp.StatusCode != http.StatusOK || body != path {
					t.Fatalf("GET %s: got %d %q, want 200 %q", path, resp.StatusCode, body, path)
				}
			}
			if opened, _ := cc.counts(); opened != 1 {
				t.Errorf("upstream connections: got %d, want 1", opened)
			}
		})
	}
}

func TestHopByHopHeaders(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-End", "kept")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(echoed{Header: r.Header})
	})
	h.apply(t, route("hop", "hop.hearth.local", b.url()))
	for _, fp := range forwardPaths {
		t.Run(fp.name, func(t *testing.T) {
			resp, body := send(t, h.client(t, false), fp.method, "https://hop.hearth.local/", http.Header{
				"Connection":          {"keep-alive, X-Private"},
				"X-Private":           {"secret"},
				"Te":                  {"trailers, deflate"},
				"Proxy-Authorization": {"Basic Zm9vOmJhcg=="},
				"User-Agent":          {"hearth-test"},
				"X-App":               {"kept"},
			}, fp.body)
			got := map[string][]string{}
			for k, v := range decodeEcho(t, body).Header {
				switch k {
				case "Accept-Encoding", "Content-Length", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
				default:
					got[k] = v
				}
			}
			want := map[string][]string{"Te": {"trailers"}, "User-Agent": {"hearth-test"}, "X-App": {"kept"}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request headers at the backend (-want +got):\n%s", diff)
			}
			for _, k := range []string{"X-Hop", "Keep-Alive"} {
				if v, ok := resp.Header[k]; ok {
					t.Errorf("response header %s: got %q, want none", k, v)
				}
			}
			if got := resp.Header.Get("X-End"); got != "kept" {
				t.Errorf("response header X-End: got %q, want %q", got, "kept")
			}
		})
	}
}

// rawUpstream serves each connection with serve on loopback; it is stopped
// in t.Cleanup.
func rawUpstream(t *testing.T, serve func(net.Conn, *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			})
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		wg.Wait()
	})
	return "http://" + ln.Addr().String()
}

// readHead reads one request head from br.
func readHead(br *bufio.Reader) error {
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return err
		}
		if line == "\r\n" {
			return nil
		}
	}
}

func TestFastPathRetriesStaleConnections(t *testing.T) {
	h := startProxy(t, nil)
	// An upstream that closes every connection after one answer without
	// saying so: each pooled connection is stale when it is next used.
	up := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if readHead(br) != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(20 * time.Millisecond) // the proxy pools the connection first
	})
	h.apply(t, route("stale", "stale.hearth.local", up))
	c := h.client(t, false)
	for i := range 5 {
		resp, body := get(t, c, "https://stale.hearth.local/", nil)
		if resp.StatusCode != http.StatusOK || body != "ok" {
			t.Fatalf("request %d: got %d %q, want 200 %q", i, resp.StatusCode, body, "ok")
		}
		time.Sleep(40 * time.Millisecond)
	}
}

func TestFastPathCutBodyAbortsResponse(t *testing.T) {
	h := startProxy(t, nil)
	up := rawUpstream(t, func(c net.Conn, br *bufio.Reader) {
		if readHead(br) != nil {
			return
		}
		// Chunked, so that only the proxy can tell the client that the
		// body is cut (with a length, net/http would notice by itself).
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\nonly ten b\r\n")
	})
	h.apply(t, route("cut", "cut.hearth.local", up))
	for _, http2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(http2), func(t *testing.T) {
			resp, err := h.client(t, http2).Get("https://cut.hearth.local/")
			if err != nil {
				return // cut before the head arrived: also not a whole answer
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err == nil {
				t.Errorf("body: got %q and no error, want a cut response", body)
			}
		})
	}
}

func TestFastPathClientGone(t *testing.T) {
	h := startProxy(t, nil)
	gone := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // the proxy closed the upstream connection
		close(gone)
	})
	h.apply(t, route("gone", "gone.hearth.local", b.url()))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://gone.hearth.local/wait", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := h.client(t, false).Do(req)
	if err == nil {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Fatalf("GET: got an answer (%s, %q), want the client's deadline", resp.Status, body)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("GET: got %v, want the client's deadline", err)
	}
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request was not ended when the client left")
	}
	log := h.waitAccess(t, 1)
	if len(log) != 1 || log[0].Status != statusClientGone {
		t.Errorf("access log: got %+v, want one entry with status %d", log, statusClientGone)
	}
}

func TestFastPathStreamsAndPassesTrailers(t *testing.T) {
	h := startProxy(t, nil)
	next := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/trailer" {
			w.Header().Set("Trailer", "X-Sum")
			_, _ = io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		<-next
		_, _ = io.WriteString(w, "data: two\n\n")
	})
	h.apply(t, route("stream", "stream.hearth.local", b.url()))
	for _, http2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(http2), func(t *testing.T) {
			c := h.client(t, http2)
			resp, err := c.Get("https://stream.hearth.local/events")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			br := bufio.NewReader(resp.Body)
			line, err := br.ReadString('\n')
			if err != nil || line != "data: one\n" {
				t.Fatalf("first event before the second was written: got %q, %v, want %q", line, err, "data: one\n")
			}
			next <- struct{}{}
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != "\ndata: two\n\n" {
				t.Errorf("rest: got %q, %v, want %q", rest, err, "\ndata: two\n\n")
			}

			resp, body := get(t, c, "https://stream.hearth.local/trailer", nil)
			if body != "body" || resp.Trailer.Get("X-Sum") != "42" {
				t.Errorf("trailer: got body %q, X-Sum %q, want %q, %q", body, resp.Trailer.Get("X-Sum"), "body", "42")
			}
		})
	}
}

func TestApplyClosesUnusedUpstreamConnections(t *testing.T) {
	h := startProxy(t, nil)
	srv, cc := newCountingBackend(t, func(w http.ResponseWriter, r *http.Request) {})
	h.apply(t, route("old", "old.hearth.local", srv.URL))
	if resp, _ := get(t, h.client(t, false), "https://old.hearth.local/", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	h.apply(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		opened, closed := cc.counts()
		if opened == 1 && closed == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("upstream connections after the route went: got %d opened, %d closed, want 1 and 1", opened, closed)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFastPathOK(t *testing.T) {
	tests := []struct {
		name   string
		method string
		url    string
		header http.Header
		body   io.Reader
		want   bool
	}{
		{"get", http.MethodGet, "https://a.hearth.local/x?y", nil, nil, true},
		{"head", http.MethodHead, "https://a.hearth.local/", nil, nil, true},
		{"post", http.MethodPost, "https://a.hearth.local/", nil, nil, false},
		{"get with body", http.MethodGet, "https://a.hearth.local/", nil, io.LimitReader(nil, 0), false},
		{"upgrade", http.MethodGet, "https://a.hearth.local/", http.Header{"Upgrade": {"websocket"}}, nil, false},
		{"expect", http.MethodGet, "https://a.hearth.local/", http.Header{"Expect": {"100-continue"}}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, tt.body)
			for k, v := range tt.header {
				r.Header[k] = v
			}
			if tt.body != nil {
				r.ContentLength = -1
			}
			if got := fastPathOK(r); got != tt.want {
				t.Errorf("fastPathOK: got %v, want %v", got, tt.want)
			}
		})
	}
}
