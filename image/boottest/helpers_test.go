package boottest

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetupCode(t *testing.T) {
	for _, tc := range []struct {
		name, serial, want string
	}{
		{"none", "Debian GNU/Linux 13 hearth ttyS0\n\nhearth login: ", ""},
		{"one", "\nHearth setup code: K7QX-4M2P\nOpen http://hearth.local/ in a browser\nhearth login: ", "K7QX-4M2P"},
		{"the last of two", "Hearth setup code: AAAA-BBBB\n...\nHearth setup code: CCCC-DDDD\n", "CCCC-DDDD"},
		{"the journal's line", "hearthd[301]: level=INFO msg=\"setup code: type it in the setup wizard\" code=K7QX-4M2P-9ZZA file=/var/lib/hearth/setup-code\n", "K7QX-4M2P-9ZZA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := setupCode(tc.serial); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestBootAnalysis(t *testing.T) {
	for _, tc := range []struct {
		name, serial, want string
	}{
		{"none", "hearth login: ", ""},
		{"unfinished", "=== hearth-boot-analyze\r\nStartup finished in 1s\r\n", ""},
		{"whole", "login: === hearth-boot-analyze\r\nStartup finished in 1s\r\n=== hearth-boot-analyze end\r\n", "Startup finished in 1s\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bootAnalysis(tc.serial); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRelay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "through "+r.URL.Path)
	}))
	t.Cleanup(srv.Close)
	sock := filepath.Join(t.TempDir(), "relay.sock")
	r, err := NewRelay(sock, strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", sock)
	}}
	c := &http.Client{Transport: tr}
	for _, path := range []string{"/one", "/two"} {
		resp, err := c.Get("http://relay" + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if got, want := string(b), "through "+path; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	tr.CloseIdleConnections()
	if err := r.Close(); err != nil {
		t.Errorf("close: got %v, want nil", err)
	}
}
