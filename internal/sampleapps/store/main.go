// Command store is Hearth's second sample app: a tiny key-value service the
// web app reaches by name (/peer), so tests can prove that two apps talk over
// an app network and that a volume keeps data. Standard library only, built
// into a static binary (see internal/sampleimg).
//
// Environment:
//
//	PORT      port to listen on (default 8081; 0 picks a free one)
//	HOST      address to listen on (default: all)
//	DATA_DIR  data folder (default /app/data); keys live in DATA_DIR/kv
//
// Endpoints (keys match [a-z0-9-]{1,64}; failures are HTTP 500 with the error
// text, bad input HTTP 400):
//
//	GET  /              JSON {"app":"store","version":...}
//	GET  /healthz       200 "ok" (500 when built broken)
//	PUT  /kv/KEY        store the body (up to 1 MiB)
//	GET  /kv/KEY        the stored body, 404 when absent
//	POST /kv/KEY/incr   add one to the number stored (absent counts as 0), answer it
//
// On start it prints one JSON line (appkit.StartLine) on stdout; it stops
// gracefully on SIGTERM.
package main

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hearthbox/hearth/internal/sampleapps/appkit"
)

// version and broken are set by the linker (-X main.version=1.0
// -X main.broken=true); -X can set nothing but package-level strings, so
// these are the program's only package-level variables.
var (
	version = "dev"
	broken  = "false"
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	dataDir := appkit.Getenv("DATA_DIR", "/app/data")
	s := newStore(storeConfig{
		Version:     version,
		BuiltBroken: broken == "true",
		KVDir:       filepath.Join(dataDir, "kv"),
	})
	return appkit.Serve(ctx, appkit.Settings{
		App:     "store",
		Version: version,
		Addr:    net.JoinHostPort(os.Getenv("HOST"), appkit.Getenv("PORT", "8081")),
		DataDir: dataDir,
		Handler: s.routes(),
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
}
