package testenv

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// RegistryRealm is the realm of the Basic challenge a registry with
// credentials answers unauthenticated requests with.
const RegistryRealm = "hearth-test"

// RegistryOptions tune StartRegistry.
type RegistryOptions struct {
	// Username and Password, when set (both), make every request need HTTP
	// Basic auth: without it the registry answers 401 with
	// `WWW-Authenticate: Basic realm="hearth-test"`, as containerd's docker
	// resolver and go-containerregistry expect.
	Username, Password string
	// Tamper serves every blob GET with one byte flipped (same length), for
	// digest-mismatch tests. Pushes and HEADs are unaffected, so a test
	// pushes normally, then pulls a corrupt blob. Manifests are not tampered.
	Tamper bool
	// Addr is where to listen; default 127.0.0.1:0. It must be a loopback
	// address: the registry speaks plain HTTP.
	Addr string
}

// Registry is an in-process OCI registry (go-containerregistry's
// pkg/registry, memory-backed, logger silenced) served over plain HTTP on
// 127.0.0.1. go-containerregistry talks plain HTTP to 127.0.0.1 by itself;
// containerd's resolver must be told to (docker.WithPlainHTTP).
type Registry struct {
	// Host is "127.0.0.1:port": prefix references with it.
	Host string

	srv      *http.Server
	served   chan error // Serve's result
	requests atomic.Int64
	close    sync.Once
	closeErr error
}

// StartRegistry starts a registry on 127.0.0.1:0. Stop it with Close.
func StartRegistry(opts RegistryOptions) (*Registry, error) {
	if (opts.Username == "") != (opts.Password == "") {
		return nil, errors.New("start registry: options Username and Password must be set together")
	}
	if strings.Contains(opts.Username, ":") {
		return nil, errors.New("start registry: option Username must not contain ':'")
	}
	blobs := registry.NewInMemoryBlobHandler()
	if opts.Tamper {
		blobs = tamperBlobs{inner: blobs}
	}
	var h http.Handler = registry.New(
		registry.Logger(log.New(io.Discard, "", 0)),
		registry.WithBlobHandler(blobs),
	)
	if opts.Username != "" {
		h = basicAuth(opts.Username, opts.Password, h)
	}

	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return nil, fmt.Errorf("registry address %q: must be a loopback host:port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	r := &Registry{Host: ln.Addr().String(), served: make(chan error, 1)}
	r.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			r.requests.Add(1)
			h.ServeHTTP(w, req)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() { r.served <- r.srv.Serve(ln) }()
	return r, nil
}

// StartRegistryT starts a registry for one test and closes it in t.Cleanup.
func StartRegistryT(tb testing.TB, opts RegistryOptions) *Registry {
	tb.Helper()
	r, err := StartRegistry(opts)
	if err != nil {
		tb.Fatalf("start registry: %v", err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("close registry: %v", err)
		}
	})
	return r
}

// Close stops the registry, closing open connections, and waits for its
// server to return. Closing twice is fine.
func (r *Registry) Close() error {
	r.close.Do(func() {
		// Close, not Shutdown: a client may hold a fresh connection that
		// Shutdown would wait 5 s for, and a test registry owes no one grace.
		err := r.srv.Close()
		if serr := <-r.served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			r.closeErr = fmt.Errorf("close registry: %w", err)
		}
	})
	return r.closeErr
}

// Requests returns how many HTTP requests the registry has received,
// including refused ones: a test compares it before and after a pull to
// prove that a cached pull fetched nothing.
func (r *Registry) Requests() int { return int(r.requests.Load()) }

// basicAuth refuses requests without the right Basic credentials.
func basicAuth(user, pass string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, p, ok := req.BasicAuth()
		userOK := subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1
		passOK := subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1
		if !ok || !userOK || !passOK {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+RegistryRealm+`"`)
			w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`+"\n")
			return
		}
		next.ServeHTTP(w, req)
	})
}

// tamperBlobs serves every blob with its middle byte flipped. Stat, Put and
// Delete go to the inner handler untouched, so pushes work and sizes match.
type tamperBlobs struct {
	inner registry.BlobHandler
}

var (
	_ registry.BlobStatHandler   = tamperBlobs{}
	_ registry.BlobPutHandler    = tamperBlobs{}
	_ registry.BlobDeleteHandler = tamperBlobs{}
)

// Get returns the blob with one byte flipped.
func (t tamperBlobs) Get(ctx context.Context, repo string, h v1.Hash) (io.ReadCloser, error) {
	rc, err := t.inner.Get(ctx, repo, h)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	if len(b) > 0 {
		b[len(b)/2] ^= 0xff
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// Stat returns the blob's true size.
func (t tamperBlobs) Stat(ctx context.Context, repo string, h v1.Hash) (int64, error) {
	s, ok := t.inner.(registry.BlobStatHandler)
	if !ok {
		return 0, errors.New("inner blob handler cannot stat")
	}
	return s.Stat(ctx, repo, h)
}

// Put stores the blob untouched.
func (t tamperBlobs) Put(ctx context.Context, repo string, h v1.Hash, rc io.ReadCloser) error {
	p, ok := t.inner.(registry.BlobPutHandler)
	if !ok {
		return errors.New("inner blob handler cannot put")
	}
	return p.Put(ctx, repo, h, rc)
}

// Delete deletes the blob.
func (t tamperBlobs) Delete(ctx context.Context, repo string, h v1.Hash) error {
	d, ok := t.inner.(registry.BlobDeleteHandler)
	if !ok {
		return errors.New("inner blob handler cannot delete")
	}
	return d.Delete(ctx, repo, h)
}
