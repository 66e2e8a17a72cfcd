// Package appkit is the small server frame the sample apps (web and store)
// share: it listens, prints the one start line, and stops gracefully on
// SIGTERM or when the app asks to exit. Only the sample apps import it; it uses
// the standard library only, so the apps build into static binaries.
package appkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// StartLine is the single JSON line an app prints on stdout once it listens.
// Tests read Addr from it to learn the port when PORT is 0.
type StartLine struct {
	// App is "web" or "store".
	App string `json:"app"`
	// Version is the version set at build time.
	Version string `json:"version"`
	// Addr is the address the app listens on, host:port.
	Addr string `json:"addr"`
	// DataDir is the app's data folder.
	DataDir string `json:"dataDir"`
	// DataError says why DataDir could not be created, if it could not.
	DataError string `json:"dataError,omitempty"`
}

// Settings describe one app for Serve.
type Settings struct {
	// App and Version go into the start line.
	App, Version string
	// Addr is the address to listen on, host:port (host may be empty).
	Addr string
	// DataDir is created (if it can be) before the start line is printed.
	DataDir string
	// Handler serves the app's endpoints.
	Handler http.Handler
	// Exit, when a value arrives, stops the server gracefully and makes Serve
	// return that value. It may be nil.
	Exit <-chan int
	// Stdout and Stderr receive the start line and errors.
	Stdout, Stderr io.Writer
}

// shutdownTimeout bounds the graceful stop.
const shutdownTimeout = 5 * time.Second

// Getenv returns the environment variable key, or def when it is unset or empty.
func Getenv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// Serve runs the app until ctx is done (SIGTERM: exit code 0) or a code
// arrives on s.Exit, and returns the process exit code.
func Serve(ctx context.Context, s Settings) int {
	line := StartLine{App: s.App, Version: s.Version, DataDir: s.DataDir}
	if err := os.MkdirAll(s.DataDir, 0o755); err != nil {
		line.DataError = err.Error()
	}
	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		fmt.Fprintf(s.Stderr, "%s: listen: %v\n", s.App, err)
		return 1
	}
	line.Addr = ln.Addr().String()
	b, err := json.Marshal(line)
	if err != nil {
		fmt.Fprintf(s.Stderr, "%s: start line: %v\n", s.App, err)
		return 1
	}
	fmt.Fprintf(s.Stdout, "%s\n", b)

	srv := &http.Server{Handler: s.Handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	code := 0
	select {
	case <-ctx.Done():
	case code = <-s.Exit:
	case err := <-served:
		fmt.Fprintf(s.Stderr, "%s: serve: %v\n", s.App, err)
		return 1
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(s.Stderr, "%s: shutdown: %v\n", s.App, err)
		if code == 0 {
			code = 1
		}
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(s.Stderr, "%s: serve: %v\n", s.App, err)
	}
	return code
}
