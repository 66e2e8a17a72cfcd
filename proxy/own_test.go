package proxy

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The HTTP port serves the box's own pages for the names OwnHost accepts;
// app names still redirect to HTTPS and other names get the "no app here"
// page.
func TestOwnPagesOnHTTP(t *testing.T) {
	own := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "own page "+r.URL.Path)
	})
	h := startProxy(t, func(c *Config) {
		c.Own = own
		c.OwnHost = func(host string) bool { return host == "hearth.local" }
	})
	h.apply(t, Route{ID: "hello", Hosts: []string{"hello.hearth.local"}, State: StateStopped})
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		host, body string
		status     int
	}{
		{"hearth.local", "own page /setup", http.StatusOK},
		{"HEARTH.local:80", "own page /setup", http.StatusOK},
		{"hello.hearth.local", "", http.StatusPermanentRedirect},
		{"other.local", "", http.StatusNotFound},
	} {
		t.Run(c.host, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, "http://"+h.httpAddr+"/setup", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = c.host
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status {
				t.Errorf("got status %d, want %d", resp.StatusCode, c.status)
			}
			if c.body != "" && !strings.Contains(string(body), c.body) {
				t.Errorf("got body %q, want %q", body, c.body)
			}
		})
	}
	if _, err := New(Config{HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", Certs: h.certs, Own: own}); err == nil {
		t.Error("got New with Own but no OwnHost accepted, want an error")
	}
}
