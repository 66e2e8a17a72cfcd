package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestApplyIsAtomic(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	port := freePort(t)
	good := route("hello", "hello.hearth.local", b.url())
	h.apply(t, good)
	callsBefore := len(h.certs.manageCalls())

	newPort := route("new", "new.hearth.local", b.url())
	newPort.Port, newPort.PortHost = port, "hearth.local"
	bad := route("bad", "bad.hearth.local", "http://8.8.8.8:80")
	err := h.p.Apply(context.Background(), []Route{route("hello", "hello.hearth.local", refusedUpstream(t)), newPort, bad})
	if !errors.Is(err, ErrInvalidRoute) {
		t.Fatalf("Apply: got %v, want ErrInvalidRoute", err)
	}
	if !strings.Contains(err.Error(), "routes[2].upstream") {
		t.Errorf("error %q does not name routes[2].upstream", err)
	}
	if n := len(h.certs.manageCalls()); n != callsBefore {
		t.Errorf("Manage calls: got %d, want %d (unchanged)", n, callsBefore)
	}
	if _, ok := h.p.PortAddr("new"); ok {
		t.Errorf("PortAddr(new): got a port, want none")
	}
	if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		c.Close()
		t.Errorf("port %d was opened by a refused Apply", port)
	}
	resp, _ := get(t, h.client(t, true), "https://hello.hearth.local/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("old route after a refused Apply: got status %d, want 200", resp.StatusCode)
	}

	// A failure to manage certificates also changes nothing.
	h.certs.setFail(errors.New("acme down"))
	err = h.p.Apply(context.Background(), []Route{good, newPort})
	if err == nil || !strings.Contains(err.Error(), "acme down") {
		t.Fatalf("Apply with failing Manage: got %v, want the Manage error", err)
	}
	if _, ok := h.p.PortAddr("new"); ok {
		t.Errorf("PortAddr(new) after failed Manage: got a port, want none")
	}
	h.certs.setFail(nil)
	h.apply(t, good, newPort)
	if _, ok := h.p.PortAddr("new"); !ok {
		t.Errorf("PortAddr(new) after Apply: got none, want a port")
	}
}

func TestApplyManagesEveryName(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	r := route("a", "a.example.org", b.url())
	r.Hosts = append(r.Hosts, "a.hearth.local")
	r.Port, r.PortHost = freePort(t), "hearth.local"
	r.OldHosts = []Redirect{{Host: "old-a.example.org", Until: time.Now().Add(time.Hour)}}
	routes := []Route{r, route("b", "b.hearth.local", b.url())}
	h.apply(t, routes...)
	h.apply(t, routes...) // idempotent: the same names are not managed again
	want := [][]string{{"a.example.org", "a.hearth.local", "b.hearth.local", "hearth.local", "old-a.example.org"}}
	if diff := cmp.Diff(want, h.certs.manageCalls()); diff != "" {
		t.Errorf("Manage calls (-want +got):\n%s", diff)
	}
	h.apply(t)
	want = append(want, nil)
	if diff := cmp.Diff(want, h.certs.manageCalls()); diff != "" {
		t.Errorf("Manage calls after removing all routes (-want +got):\n%s", diff)
	}
}

// A request that is streaming when Apply changes (or removes) its route
// finishes on the route it started with, and its connection stays up.
func TestLongRequestSurvivesApply(t *testing.T) {
	h := startProxy(t, nil)
	release := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second\n")
	})
	other := newBackend(t, nil)
	h.apply(t, route("long", "long.hearth.local", b.url()))

	for _, http2 := range []bool{false, true} {
		t.Run("http2="+strconv.FormatBool(http2), func(t *testing.T) {
			h.apply(t, route("long", "long.hearth.local", b.url()))
			resp, err := h.client(t, http2).Get("https://long.hearth.local/")
			if err != nil {
				t.Fatalf("GET: %v", err)
			}
			defer resp.Body.Close()
			rd := bufio.NewReader(resp.Body)
			if line, err := rd.ReadString('\n'); err != nil || line != "first\n" {
				t.Fatalf("first line: got %q, %v, want %q", line, err, "first\n")
			}
			// Change the upstream, then remove the route altogether.
			h.apply(t, route("long", "long.hearth.local", other.url()))
			h.apply(t, route("unrelated", "x.hearth.local", other.url()))
			release <- struct{}{}
			rest, err := io.ReadAll(rd)
			if err != nil || string(rest) != "second\n" {
				t.Errorf("rest: got %q, %v, want %q", rest, err, "second\n")
			}
		})
	}
}

func TestRoutePort(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	port := freePort(t)
	r := route("notes", "notes.hearth.local", b.url())
	r.Port, r.PortHost = port, "hearth.local"
	h.apply(t, r)
	addr, ok := h.p.PortAddr("notes")
	if want := net.JoinHostPort("127.0.0.1", strconv.Itoa(port)); !ok || addr != want {
		t.Fatalf("PortAddr: got %q, %v, want %q, true", addr, ok, want)
	}
	for _, serverName := range []string{"hearth.local", ""} {
		t.Run("sni="+serverName, func(t *testing.T) {
			c := h.client(t, true)
			tr := c.Transport.(*http.Transport)
			// The certificate must be the port host's, whatever the client
			// asked for (phones reach the box by address too).
			tr.TLSClientConfig.ServerName = "hearth.local"
			if serverName == "" {
				tr.TLSClientConfig.ServerName = ""
				tr.TLSClientConfig.InsecureSkipVerify = true
				tr.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
					return cs.PeerCertificates[0].VerifyHostname("hearth.local")
				}
			}
			resp, body := get(t, c, "https://"+addr+"/p", nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status: got %d, want 200", resp.StatusCode)
			}
			if got := decodeEcho(t, body); got.Path != "/p" || got.Header.Get("X-Forwarded-Proto") != "https" {
				t.Errorf("backend saw path %q proto %q, want /p https", got.Path, got.Header.Get("X-Forwarded-Proto"))
			}
		})
	}
	h.apply(t, route("notes", "notes.hearth.local", b.url()))
	if _, ok := h.p.PortAddr("notes"); ok {
		t.Errorf("PortAddr after the port was removed: got a port, want none")
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("port %s still accepts after its route dropped it", addr)
	}
}

func TestRunStops(t *testing.T) {
	certs := newTestCerts(t)
	p, err := New(Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", PortBind: "127.0.0.1", Certs: certs})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	port := freePort(t)
	r := route("a", "a.hearth.local", refusedUpstream(t))
	r.Port, r.PortHost = port, "hearth.local"
	if err := p.Apply(context.Background(), []Route{r}); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: got %v, want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Run did not return")
	}
	httpAddr, httpsAddr := p.Addrs()
	for _, a := range []string{httpAddr, httpsAddr, net.JoinHostPort("127.0.0.1", strconv.Itoa(port))} {
		if c, err := net.Dial("tcp", a); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Run returned", a)
		}
	}
	if err := p.Apply(context.Background(), []Route{r}); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Run: got %v, want ErrClosed", err)
	}
	if err := p.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Run: got %v, want ErrClosed", err)
	}
}

func TestNewConfig(t *testing.T) {
	certs := newTestCerts(t)
	base := Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Certs: certs}
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no http address", func(c *Config) { c.HTTPAddr = "" }, "config.HTTPAddr"},
		{"no https address", func(c *Config) { c.HTTPSAddr = "" }, "config.HTTPSAddr"},
		{"no certs", func(c *Config) { c.Certs = nil }, "config.Certs"},
		{"relative login url", func(c *Config) { c.LoginURL = "/login" }, "config.LoginURL"},
		{"javascript login url", func(c *Config) { c.LoginURL = "javascript:alert(1)" }, "config.LoginURL"},
		{"bad cookie name", func(c *Config) { c.SessionCookie = "a;b" }, "config.SessionCookie"},
		{"bad listen address", func(c *Config) { c.HTTPSAddr = "127.0.0.1:99999" }, "config.HTTPSAddr"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			p, err := New(cfg)
			if err == nil {
				_ = p.Close()
				t.Fatalf("New: got nil error, want one naming %s", tt.field)
			}
			if !strings.HasPrefix(err.Error(), tt.field+":") {
				t.Errorf("New: got %q, want it to start with %q", err, tt.field+":")
			}
		})
	}
	p, err := New(base)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// Routes (and their ports) applied before Run are served once Run starts.
func TestApplyBeforeRun(t *testing.T) {
	certs := newTestCerts(t)
	p, err := New(Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", PortBind: "127.0.0.1", Certs: certs})
	if err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, nil)
	r := route("early", "early.hearth.local", b.url())
	r.Port, r.PortHost = freePort(t), "hearth.local"
	if err := p.Apply(context.Background(), []Route{r}); err != nil {
		t.Fatalf("Apply before Run: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	h := &harness{p: p, certs: certs}
	h.httpAddr, h.httpsAddr = p.Addrs()
	addr, _ := p.PortAddr("early")
	for _, tt := range []struct{ url, serverName string }{
		{"https://" + addr + "/", "hearth.local"}, // the route's port serves the port host's certificate
		{"https://early.hearth.local/", ""},
	} {
		c := h.client(t, true)
		c.Transport.(*http.Transport).TLSClientConfig.ServerName = tt.serverName
		if resp, _ := get(t, c, tt.url, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: got status %d, want 200", tt.url, resp.StatusCode)
		}
	}
}
