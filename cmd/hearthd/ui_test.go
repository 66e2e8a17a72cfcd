package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

// The proxy's port 80 serves the UI for the box's names and IP literals
// only.
func TestOwnHost(t *testing.T) {
	own := ownHost(uiHosts("home"))
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		host string
		want bool
	}{
		{"home.local", true},
		{"localhost", true},
		{strings.ToLower(host) + ".local", true},
		{"192.168.1.20", true},
		{"[fe80::1]", true},
		{"hello.home.local", false},
		{"evil.example", false},
		{"home.local.evil.example", false},
	} {
		t.Run(c.host, func(t *testing.T) {
			if got := own(c.host); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// Until the UI is made, its placeholder answers 503; then the UI.
func TestLateHandler(t *testing.T) {
	var l lateHandler
	rec := httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("got %d before set, want 503", rec.Code)
	}
	l.set(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec = httptest.NewRecorder()
	l.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("got %d after set, want the UI's 418", rec.Code)
	}
}

// The proxy sends browsers to the UI's handoff on the box's own name.
func TestAppLoginURL(t *testing.T) {
	for _, c := range []struct{ addr, want string }{
		{":80", "http://home.local/auth/app"},
		{"", "http://home.local/auth/app"},
		{"127.0.0.1:8880", "http://home.local:8880/auth/app"},
	} {
		t.Run(c.addr, func(t *testing.T) {
			if got := appLoginURL("home", c.addr); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
