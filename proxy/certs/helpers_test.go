package certs

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Certs is the proxy's interface, repeated here (the proxy imports this
// package, so this package cannot import it) to keep the Manager to it.
type Certs interface {
	TLSConfig() *tls.Config
	HTTPChallengeHandler(next http.Handler) http.Handler
	Manage(ctx context.Context, names []string) error
}

var _ Certs = (*Manager)(nil)

// logBuffer collects logs and shows them when a test fails.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// dumpOnFailure prints what w collected if t fails.
func dumpOnFailure(t *testing.T, what string, w *logBuffer) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s:\n%s", what, w.String())
		}
	})
}

// newManager makes a Manager whose logs show when the test fails, and
// closes it at the end.
func newManager(t *testing.T, cfg Config) *Manager {
	t.Helper()
	if cfg.StateDir == "" {
		cfg.StateDir = t.TempDir()
	}
	if cfg.BoxName == "" {
		cfg.BoxName = "hearth"
	}
	logs := &logBuffer{}
	dumpOnFailure(t, "certs logs", logs)
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	// After Close: a renewal certmagic's maintenance started may still be
	// releasing its storage lock; let it, before the state dir goes.
	t.Cleanup(func() {
		locks := filepath.Join(cfg.StateDir, "certmagic", "locks")
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if entries, _ := os.ReadDir(locks); len(entries) == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Cleanup(func() { m.Close() })
	return m
}

// waitFor polls cond until it holds or timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitIssued waits until name has a certificate and returns its status.
func waitIssued(t *testing.T, m *Manager, name string, timeout time.Duration) CertStatus {
	t.Helper()
	var st CertStatus
	waitFor(t, timeout, "a certificate for "+name, func() bool {
		st = m.Status(name)
		if st.LastError != nil {
			t.Fatalf("%s: %v", name, st.LastError)
		}
		return !st.NotAfter.IsZero()
	})
	return st
}

// serveTLS serves "hello <host>" over TLS with the Manager's configuration
// on a new loopback port, until the test ends.
func serveTLS(t *testing.T, m *Manager) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveTLSOn(t, m.TLSConfig(), ln)
}

func serveTLSOn(t *testing.T, cfg *tls.Config, ln net.Listener) string {
	t.Helper()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "hello %s over %s", r.Host, r.Proto)
		}),
		TLSConfig: cfg,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ServeTLS(ln, "", "")
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

// handshake connects to addr with SNI name and returns the verified chain's
// leaf, trusting roots.
func handshake(addr, name string, roots *x509.CertPool) (*x509.Certificate, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

// get fetches https://name/ from the server at addr over HTTP/2, trusting
// roots, and returns the body.
func get(t *testing.T, addr, name string, roots *x509.CertPool) (string, error) {
	t.Helper()
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + name + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func poolOf(t *testing.T, pemBytes []byte) *x509.CertPool {
	t.Helper()
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in PEM")
	}
	return p
}

// isUnknownAuthority reports whether err is a client's refusal of a
// certificate from a CA it does not trust.
func isUnknownAuthority(err error) bool {
	var ua x509.UnknownAuthorityError
	return errors.As(err, &ua) || (err != nil && strings.Contains(err.Error(), "unknown authority"))
}
