// Command web is Hearth's sample HTTP app. Tests run it in real containers to
// see what a Hearth app sees: its identity, environment, files, limits,
// network and health. It uses the standard library only and builds into a
// static binary (see internal/sampleimg).
//
// Environment:
//
//	PORT       port to listen on (default 8080; 0 picks a free one)
//	HOST       address to listen on (default: all)
//	DATA_DIR   data folder (default /app/data), created at start if it can be
//	STORE_URL  the store app's base URL for /peer (default http://store:8081)
//
// "web -check URL" exits 0 when URL answers below 400: a health probe for
// command health checks.
//
// Endpoints (GET unless said; failures are HTTP 500 with the error text, bad
// input is HTTP 400 naming the parameter):
//
//	/                     JSON Info: version, hostname, uid, gid, env, data files
//	/healthz              200 "ok"; 500 when built broken or after POST /break
//	POST /break, /heal    make /healthz fail, or pass again
//	/write?path=P&data=D  write D (default a short text) to the absolute path P
//	/read?path=P          the contents of the absolute path P (up to 1 MiB)
//	/proc?file=F          /proc/self/F for F in status, cgroup, mountinfo, limits,
//	                      uid_map, gid_map, oom_score_adj
//	/alloc?mb=N           allocate, touch and hold N MiB more
//	/burn?ms=N            spin the CPU for N ms
//	/dial?addr=A&timeout=MS  open a TCP connection to A
//	/resolve?name=N       JSON array of N's addresses
//	/peer                 increment "hits" in the store, answer the new value
//	/log?lines=N&size=S   print N lines of S bytes on stdout, one line on stderr
//	/exit?code=N          answer, then exit with code N
//
// On start it prints one JSON line (appkit.StartLine) on stdout; it stops
// gracefully on SIGTERM.
package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

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
	// "web -check URL" is the image's own health probe for command health
	// checks: the image has no shell and no curl.
	if len(os.Args) == 3 && os.Args[1] == "-check" {
		return check(os.Args[2])
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	a := newApp(appConfig{
		Version:     version,
		BuiltBroken: broken == "true",
		DataDir:     appkit.Getenv("DATA_DIR", "/app/data"),
		StoreURL:    appkit.Getenv("STORE_URL", "http://store:8081"),
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
	})
	return appkit.Serve(ctx, appkit.Settings{
		App:     "web",
		Version: version,
		Addr:    net.JoinHostPort(os.Getenv("HOST"), appkit.Getenv("PORT", "8080")),
		DataDir: a.cfg.DataDir,
		Handler: a.routes(),
		Exit:    a.exit,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
	})
}

// check asks url and returns 0 when it answers below 400, 1 otherwise.
func check(url string) int {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		fmt.Fprintln(os.Stderr, resp.Status)
		return 1
	}
	return 0
}
