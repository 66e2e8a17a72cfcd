package proxy

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/google/go-cmp/cmp"
)

func TestForwardedHeadersAreSetByTheProxy(t *testing.T) {
	h := startProxy(t, func(c *Config) { c.SessionCookie = "hearth_session" })
	b := newBackend(t, nil)
	h.apply(t, route("hello", "hello.hearth.local", b.url()))
	spoofed := http.Header{
		"X-Forwarded-For":   {"6.6.6.6"},
		"X-Forwarded-Host":  {"evil.example"},
		"X-Forwarded-Proto": {"http"},
		"X-Forwarded-Port":  {"1"},
		"Forwarded":         {"for=6.6.6.6;proto=http"},
		"X-Real-Ip":         {"6.6.6.6"},
		"X_forwarded_for":   {"6.6.6.6"},
		"Cookie":            {"a=1; hearth_session=secret; b=2"},
		"X-App":             {"kept"},
	}
	for _, fp := range forwardPaths {
		for _, http2 := range []bool{false, true} {
			t.Run(fp.name+"/http2="+strconv.FormatBool(http2), func(t *testing.T) {
				resp, body := send(t, h.client(t, http2), fp.method, "https://hello.hearth.local/p?q=1", spoofed, fp.body)
				forwardedHeaders(t, resp, body)
			})
		}
	}
}

// forwardedHeaders checks what the echo backend saw of the spoofed headers.
func forwardedHeaders(t *testing.T, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status: got %d, want 200", resp.StatusCode)
	}
	e := decodeEcho(t, body)
	got := map[string][]string{}
	for _, k := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Port", "Forwarded", "X-Real-Ip", "X_forwarded_for", "Cookie", "X-App"} {
		if v, ok := e.Header[k]; ok {
			got[k] = v
		}
	}
	want := map[string][]string{
		"X-Forwarded-For":   {"127.0.0.1"},
		"X-Forwarded-Host":  {"hello.hearth.local"},
		"X-Forwarded-Proto": {"https"},
		"Cookie":            {"a=1; b=2"},
		"X-App":             {"kept"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("headers at the backend (-want +got):\n%s", diff)
	}
	if e.Host != "hello.hearth.local" || e.Path != "/p?q=1" {
		t.Errorf("host and path: got %q %q, want %q %q", e.Host, e.Path, "hello.hearth.local", "/p?q=1")
	}
}

func TestHTTP2(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	h.apply(t, route("hello", "hello.hearth.local", b.url()))
	for _, tt := range []struct {
		http2 bool
		want  int
	}{{true, 2}, {false, 1}} {
		t.Run("http2="+strconv.FormatBool(tt.http2), func(t *testing.T) {
			resp, _ := get(t, h.client(t, tt.http2), "https://hello.hearth.local/", nil)
			if resp.ProtoMajor != tt.want {
				t.Errorf("protocol: got HTTP/%d, want HTTP/%d", resp.ProtoMajor, tt.want)
			}
			if resp.StatusCode != http.StatusOK {
				t.Errorf("status: got %d, want 200", resp.StatusCode)
			}
		})
	}
}

func TestWebSocketEcho(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(1 << 20)
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, msg); err != nil {
				return
			}
		}
	})
	h.apply(t, route("chat", "chat.hearth.local", b.url()))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss://chat.hearth.local/ws", &websocket.DialOptions{HTTPClient: h.client(t, false)})
	if err != nil {
		t.Fatalf("dial through the proxy: %v", err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	for _, msg := range []string{"hello", strings.Repeat("x", 100<<10), "bye"} {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			t.Fatalf("write: %v", err)
		}
		_, got, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(got) != msg {
			t.Errorf("echo: got %d bytes, want %d", len(got), len(msg))
		}
	}
	if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

func TestFriendlyPages(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	mk := func(id, state, upstream string) Route {
		r := route(id, id+".hearth.local", upstream)
		r.Title = "<b>" + id + "</b>"
		r.State = state
		return r
	}
	h.apply(t,
		mk("stopped", StateStopped, b.url()),
		mk("starting", StateStarting, b.url()),
		mk("updating", StateUpdating, ""),
		mk("none", StateRunning, ""),
		mk("refused", StateRunning, refusedUpstream(t)),
	)
	tests := []struct {
		id         string
		status     int
		retryAfter string
		text       string
	}{
		{"stopped", http.StatusServiceUnavailable, "60", "is stopped"},
		{"starting", http.StatusServiceUnavailable, "5", "is starting"},
		{"updating", http.StatusServiceUnavailable, "10", "is being updated"},
		{"none", http.StatusBadGateway, "5", "is not answering"},
		{"refused", http.StatusBadGateway, "5", "is not answering"},
	}
	c := h.client(t, true)
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			resp, body := get(t, c, "https://"+tt.id+".hearth.local/", nil)
			if resp.StatusCode != tt.status {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tt.status)
			}
			if got := resp.Header.Get("Retry-After"); got != tt.retryAfter {
				t.Errorf("Retry-After: got %q, want %q", got, tt.retryAfter)
			}
			checkOwnPageHeaders(t, resp.Header)
			if want := "&lt;b&gt;" + tt.id + "&lt;/b&gt; " + tt.text; !strings.Contains(body, want) {
				t.Errorf("body: got %q, want it to contain %q", body, want)
			}
		})
	}
	if n := b.hitCount(); n != 0 {
		t.Errorf("backend hits: got %d, want 0", n)
	}
}

func TestUpstreamTimeout(t *testing.T) {
	h := startProxy(t, func(c *Config) { c.Timeouts.UpstreamResponseHeader = 200 * time.Millisecond })
	release := make(chan struct{})
	var mu sync.Mutex
	slow := 0
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/quick" {
			return
		}
		mu.Lock()
		slow++
		mu.Unlock()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h.apply(t, route("slow", "slow.hearth.local", b.url()), route("refused", "refused.hearth.local", refusedUpstream(t)))
	for _, fp := range forwardPaths {
		t.Run(fp.name, func(t *testing.T) {
			// A quick answer first, so that the slow request goes out on a
			// kept-alive connection: a timeout there is not sent again.
			c := h.client(t, true)
			if resp, _ := send(t, c, fp.method, "https://slow.hearth.local/quick", nil, fp.body); resp.StatusCode != http.StatusOK {
				t.Fatalf("quick request: got %d, want 200", resp.StatusCode)
			}
			mu.Lock()
			slow = 0
			mu.Unlock()
			resp, body := send(t, c, fp.method, "https://slow.hearth.local/", nil, fp.body)
			if resp.StatusCode != http.StatusGatewayTimeout {
				t.Errorf("status: got %d, want 504", resp.StatusCode)
			}
			if !strings.Contains(body, "took too long") {
				t.Errorf("body: got %q, want the timeout page", body)
			}
			mu.Lock()
			if slow != 1 {
				t.Errorf("slow requests at the upstream: got %d, want 1", slow)
			}
			mu.Unlock()
			resp, body = send(t, h.client(t, true), fp.method, "https://refused.hearth.local/", nil, fp.body)
			if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "is not answering") {
				t.Errorf("refused upstream: got %d %q, want 502 and the unreachable page", resp.StatusCode, body)
			}
		})
	}
}

// hits says whether a request must reach the backend.
type hits int

const (
	hitsNo hits = iota
	hitsYes
	hitsEither
)

func TestUploadLimit(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	r := route("files", "files.hearth.local", b.url())
	r.MaxUploadBytes = 1 << 20
	h.apply(t, r)
	tests := []struct {
		name      string
		size      int
		chunked   bool
		want      int
		wantsHits hits
	}{
		{"at the limit", 1 << 20, false, http.StatusOK, hitsYes},
		{"declared too big", 2 << 20, false, http.StatusRequestEntityTooLarge, hitsNo},
		// Streamed: the proxy cuts the body once it passes the limit; the
		// backend may or may not have begun to read it by then.
		{"chunked too big, counted as it streams", 2 << 20, true, http.StatusRequestEntityTooLarge, hitsEither},
		{"chunked under the limit", 512 << 10, true, http.StatusOK, hitsYes},
	}
	for _, tt := range tests {
		for _, http2 := range []bool{false, true} {
			t.Run(tt.name+"/http2="+strconv.FormatBool(http2), func(t *testing.T) {
				before := b.hitCount()
				var body io.Reader = bytes.NewReader(make([]byte, tt.size))
				if tt.chunked {
					body = io.MultiReader(body) // hides the length
				}
				req, err := http.NewRequest(http.MethodPost, "https://files.hearth.local/upload", body)
				if err != nil {
					t.Fatal(err)
				}
				resp, err := h.client(t, http2).Do(req)
				if err != nil {
					t.Fatalf("POST: %v", err)
				}
				defer resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("status: got %d, want %d", resp.StatusCode, tt.want)
				}
				if hit := b.hitCount() > before; tt.wantsHits != hitsEither && hit != (tt.wantsHits == hitsYes) {
					t.Errorf("backend reached: got %v, want %v", hit, tt.wantsHits == hitsYes)
				}
			})
		}
	}
}

func TestAccessLog(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("hello"))
	})
	h.apply(t, route("hello", "hello.hearth.local", b.url()))
	c := h.client(t, true)
	get(t, c, "https://hello.hearth.local/x?token=secret", http.Header{"X-Forwarded-For": {"6.6.6.6"}})
	get(t, h.client(t, false), "http://nope.hearth.local/y", nil)
	got := h.waitAccess(t, 2)
	if len(got) != 2 {
		t.Fatalf("access log: got %d entries, want 2: %+v", len(got), got)
	}
	for i := range got {
		if got[i].Time.IsZero() || got[i].Duration <= 0 {
			t.Errorf("entry %d: time %v and duration %v, want both set", i, got[i].Time, got[i].Duration)
		}
		got[i].Time, got[i].Duration = time.Time{}, 0
		if !strings.HasPrefix(got[i].RemoteAddr, "127.0.0.1:") {
			t.Errorf("entry %d: RemoteAddr %q, want the connection's", i, got[i].RemoteAddr)
		}
		got[i].RemoteAddr = ""
	}
	want := []AccessEntry{
		{RouteID: "hello", Method: "GET", Host: "hello.hearth.local", Path: "/x", Status: 200, Bytes: 5},
		{RouteID: "", Method: "GET", Host: "nope.hearth.local", Path: "/y", Status: 404, Bytes: got[len(got)-1].Bytes},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("access log (-want +got):\n%s", diff)
	}
}

// Shutdown does not cover hijacked connections: Run must cut an open
// WebSocket itself and still return.
func TestRunCutsWebSockets(t *testing.T) {
	certs := newTestCerts(t)
	p, err := New(Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Certs: certs, Timeouts: Timeouts{Shutdown: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		_, _, _ = c.Read(context.Background()) // until the proxy cuts it
	})
	if err := p.Apply(context.Background(), []Route{route("chat", "chat.hearth.local", b.url())}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	h := &harness{p: p, certs: certs}
	h.httpAddr, h.httpsAddr = p.Addrs()
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	c, _, err := websocket.Dial(dctx, "wss://chat.hearth.local/ws", &websocket.DialOptions{HTTPClient: h.client(t, false)})
	if err != nil {
		cancel()
		<-done
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: got %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return with a WebSocket open")
	}
	if _, _, err := c.Read(dctx); err == nil {
		t.Errorf("read after shutdown: got a message, want the connection cut")
	}
}
