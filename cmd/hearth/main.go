// Command hearth is Hearth's command line. It talks to hearthd over the
// local API socket ($HEARTH_SOCKET, else /run/hearth/hearthd.sock), the way
// the tailscale CLI talks to tailscaled, and it builds and signs catalogs
// for maintainers, offline. docs/api.md describes the commands.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, os.Getenv)) }

// run runs one command and returns its exit status: 0 on success, 1 when
// it failed, 2 on a usage error. Output goes to stdout; progress and the
// one-line error to stderr.
func run(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := newCLI(stdout, stderr, getenv)
	return c.exit(c.dispatch(ctx, args))
}
