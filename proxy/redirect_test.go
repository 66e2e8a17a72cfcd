package proxy

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestHTTPPort(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	r := route("hello", "hello.hearth.local", b.url())
	r.OldHosts = []Redirect{{Host: "old.hearth.local", Until: time.Now().Add(time.Hour)}, {Host: "gone.hearth.local", Until: time.Now().Add(-time.Hour)}}
	h.apply(t, r)
	_, httpsPort := splitPort(t, h.httpsAddr)
	c := h.client(t, false)

	tests := []struct {
		name         string
		url          string
		wantStatus   int
		wantLocation string
		wantBody     string
	}{
		{"route host redirects to https", "http://hello.hearth.local/a/b?c=d", http.StatusPermanentRedirect, "https://hello.hearth.local:" + httpsPort + "/a/b?c=d", ""},
		{"host is case-insensitive", "http://HELLO.hearth.local./x", http.StatusPermanentRedirect, "https://hello.hearth.local:" + httpsPort + "/x", ""},
		{"old host goes straight to the new one", "http://old.hearth.local/p", http.StatusPermanentRedirect, "https://hello.hearth.local:" + httpsPort + "/p", ""},
		{"expired old host is unknown", "http://gone.hearth.local/p", http.StatusNotFound, "", "No app here"},
		{"unknown host", "http://nope.hearth.local/", http.StatusNotFound, "", "No app here"},
		{"acme challenge is answered, not redirected", "http://hello.hearth.local/.well-known/acme-challenge/" + challengeToken, http.StatusOK, "", challengeAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, c, tt.url, nil)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Location"); got != tt.wantLocation {
				t.Errorf("Location: got %q, want %q", got, tt.wantLocation)
			}
			if !strings.Contains(body, tt.wantBody) {
				t.Errorf("body: got %q, want it to contain %q", body, tt.wantBody)
			}
		})
	}
	if n := b.hitCount(); n != 0 {
		t.Errorf("backend hits: got %d, want 0 (nothing is forwarded from plain HTTP)", n)
	}
}

func TestOldHostRedirect(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	r := route("notes", "notes.example.org", b.url())
	r.Hosts = append(r.Hosts, "notes.hearth.local")
	r.OldHosts = []Redirect{
		{Host: "memo.example.org", Until: time.Now().Add(time.Hour)},
		{Host: "older.example.org", Until: time.Now().Add(-time.Second)},
	}
	h.apply(t, r)
	_, httpsPort := splitPort(t, h.httpsAddr)
	c := h.client(t, true)

	resp, _ := get(t, c, "https://memo.example.org/doc/1?v=2", nil)
	if resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("status: got %d, want 308", resp.StatusCode)
	}
	if got, want := resp.Header.Get("Location"), "https://notes.example.org:"+httpsPort+"/doc/1?v=2"; got != want {
		t.Errorf("Location: got %q, want %q", got, want)
	}
	// An expired old name has no certificate any more and no route.
	calls := h.certs.manageCalls()
	for _, n := range calls[len(calls)-1] {
		if n == "older.example.org" {
			t.Errorf("Manage got expired old host %q", n)
		}
	}
	if n := b.hitCount(); n != 0 {
		t.Errorf("backend hits: got %d, want 0", n)
	}
}

func TestHSTS(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	pub := route("pub", "pub.example.org", b.url())
	pub.Hosts = append(pub.Hosts, "pub.hearth.local")
	pub.HSTS = true
	h.apply(t, pub, route("plain", "plain.example.org", b.url()))
	c := h.client(t, true)
	tests := []struct {
		url  string
		want string
	}{
		{"https://pub.example.org/", hstsValue},
		{"https://pub.hearth.local/", ""}, // never for .local names
		{"https://plain.example.org/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			resp, _ := get(t, c, tt.url, nil)
			if got := resp.Header.Get("Strict-Transport-Security"); got != tt.want {
				t.Errorf("Strict-Transport-Security: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnknownHost(t *testing.T) {
	h := startProxy(t, nil)
	b := newBackend(t, nil)
	h.apply(t, route("hello", "hello.hearth.local", b.url()))
	// The certificate layer serves the unknown name here; the proxy must still
	// not forward it anywhere.
	h.certs.mu.Lock()
	h.certs.managed["other.hearth.local"] = true
	h.certs.mu.Unlock()
	resp, body := get(t, h.client(t, true), "https://other.hearth.local/secret", nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status: got %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(body, "No app here") {
		t.Errorf("body: got %q, want the no-app page", body)
	}
	checkOwnPageHeaders(t, resp.Header)
	if n := b.hitCount(); n != 0 {
		t.Errorf("backend hits: got %d, want 0", n)
	}
}

func checkOwnPageHeaders(t *testing.T, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
		"X-Frame-Options":         "DENY",
		"Content-Type":            "text/html; charset=utf-8",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: got %q, want %q", k, got, v)
		}
	}
}

func splitPort(t *testing.T, addr string) (string, string) {
	t.Helper()
	i := strings.LastIndexByte(addr, ':')
	if i < 0 {
		t.Fatalf("no port in %q", addr)
	}
	return addr[:i], addr[i+1:]
}
