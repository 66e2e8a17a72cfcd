package discover

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestEcho(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   string
		err    error
	}{
		{name: "plain address", status: 200, body: "198.51.100.4\n", want: "198.51.100.4"},
		{name: "not an address", status: 200, body: "<html>hello</html>", err: ErrBadAnswer},
		{name: "wrong family", status: 200, body: "2001:db8::1", err: ErrBadAnswer},
		{name: "server error", status: 502, body: "bad gateway", err: ErrBadAnswer},
		{name: "too long", status: 200, body: strings.Repeat("1", 300), err: ErrBadAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			e, err := NewEcho(EchoConfig{URL: srv.URL + "/ip"})
			if err != nil {
				t.Fatalf("NewEcho: %v", err)
			}
			got, err := e.Lookup(t.Context(), IPv4)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Errorf("got %v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("got %v, %v; want %s", got, err, tt.want)
			}
		})
	}
}

// The family is pinned: asking for IPv6 from a server that listens on IPv4
// only fails instead of answering with the IPv4 address.
func TestEchoPinsFamily(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("198.51.100.4"))
	}))
	t.Cleanup(srv.Close)
	if _, err := NewEcho(EchoConfig{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}); err == nil {
		t.Fatalf("NewEcho accepted http to a name, want https required")
	}
	e, err := NewEcho(EchoConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := e.Lookup(t.Context(), IPv6); err == nil {
		t.Errorf("got %s over IPv6 from an IPv4-only server, want an error", a)
	}
}
