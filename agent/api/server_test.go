package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/internal/testenv"
)

// server serves f on a fresh socket until the test ends, and returns the
// socket's path. Peer credentials make the API root-only, so it needs root.
func server(t *testing.T, f api.Service) string {
	t.Helper()
	sock, stop := stoppableServer(t, f)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Serve: got %v, want nil", err)
		}
	})
	return sock
}

// stoppableServer is server with a stop function that ends Serve and
// returns its error (stop runs at the end of the test too).
func stoppableServer(t *testing.T, f api.Service) (string, func() error) {
	t.Helper()
	testenv.Need(t)
	dir, err := os.MkdirTemp("", "hearth-api-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "run", "hearthd.sock")
	ln, err := api.Listen(sock)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- api.NewServer(f, api.ServerConfig{}).Serve(ctx, ln) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case serveErr = <-served:
			case <-time.After(10 * time.Second):
				serveErr = errors.New("Serve did not return 10 s after its context ended")
			}
		})
		return serveErr
	}
	t.Cleanup(func() { stop() })
	return sock, stop
}

// client returns a Client for sock that closes its connections at the end.
func client(t *testing.T, sock string) *api.Client {
	c := api.NewClient(sock)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// rawAnswer is an answer as an HTTP client without api.Client sees it.
type rawAnswer struct {
	status int
	ctype  string
	body   string
}

// raw sends a request to the socket with plain net/http.
func raw(t *testing.T, sock, method, path, ctype, body string) rawAnswer {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		},
	}}
	defer hc.CloseIdleConnections()
	req, err := http.NewRequest(method, "http://hearthd"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return rawAnswer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(b)}
}

// wantActor is the actor the server records for this test process.
func wantActor(t *testing.T) string {
	t.Helper()
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("uid 0 pid %d (%s)", os.Getpid(), strings.TrimSpace(string(comm)))
}
