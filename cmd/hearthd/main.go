// Command hearthd is Hearth's agent. It drives containerd for the apps,
// serves the local API to the hearth CLI, and talks to systemd. Started by
// containerd's shim with the log-driver marker, it doubles as the writer of
// container logs, so that one static binary does both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hearthbox/hearth/runtime/logfile"
)

func main() {
	if logfile.IsDriverInvocation(os.Args[1:], os.Getenv) {
		os.Exit(logfile.Main())
	}
	os.Exit(run(os.Args[1:], os.Stderr))
}

// config is what the command line says.
type config struct {
	dev        bool
	stateDir   string
	containerd string
	// namespace is the containerd namespace of Hearth's containers.
	namespace string
	socket    string
	// devCatalog and devCatalogKey name a catalog to trust in development
	// (the sample catalog that make run builds).
	devCatalog    string
	devCatalogKey string
	healthTimeout time.Duration
	// netPrefix and netPool name the app networks' bridges and chains and
	// the addresses they take (several hearthd on one host, as in tests).
	netPrefix string
	netPool   netip.Prefix
	// The reverse proxy: its addresses, the box's name, the public domain.
	httpAddr, httpsAddr, portBind string
	appPortBase                   int
	boxName, domain               string
	acmeEmail                     string
	acmeStaging                   bool
	logLevel                      slog.Level
	// consoleFile shows the setup code on the console (getty's issue
	// file); resetMarker on the boot partition asks for a factory reset.
	consoleFile, resetMarker string
	// ui is the web UI's own address ("" = only on the proxy's port 80,
	// for the box's own names).
	ui string
	// mdns runs the LAN responder on mdnsInterfaces (all LAN ones when
	// empty); ipEcho and stun override the public address sources.
	mdns                         bool
	mdnsInterfaces, ipEcho, stun string
	// firewall keeps the nftables table; upnp maps 80 and 443 on the
	// router; adminPorts are LAN-only under the firewall.
	firewall, upnp bool
	adminPorts     string
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("hearthd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.dev, "dev", false, "development mode: state in ./.hearth, a private containerd, the socket in the state folder")
	fs.StringVar(&c.stateDir, "state", "", "state folder (default /var/lib/hearth, or ./.hearth with --dev)")
	fs.StringVar(&c.containerd, "containerd", "/run/containerd/containerd.sock", "containerd's socket (ignored with --dev)")
	fs.StringVar(&c.namespace, "namespace", "hearth", "the containerd namespace of Hearth's containers (several hearthd on one host need their own)")
	fs.StringVar(&c.socket, "socket", "", "the API socket (default /run/hearth/hearthd.sock, or <state>/hearthd.sock with --dev)")
	fs.StringVar(&c.devCatalog, "dev-catalog", "", "with --dev: a signed catalog file to trust too")
	fs.StringVar(&c.devCatalogKey, "dev-catalog-key", "", "with --dev: the base64 public key of --dev-catalog")
	fs.DurationVar(&c.healthTimeout, "health-timeout", 3*time.Minute, "how long an install or update waits for the app to be healthy")
	fs.StringVar(&c.netPrefix, "net-prefix", "hearth", "prefix of the app networks' bridges and firewall chains")
	pool := fs.String("net-pool", "10.89.0.0/16", "the addresses app networks take, a /24 each")
	fs.StringVar(&c.httpAddr, "http", "", "the proxy's HTTP address (default :80, or 127.0.0.1:8880 with --dev)")
	fs.StringVar(&c.httpsAddr, "https", "", "the proxy's HTTPS address (default :443, or 127.0.0.1:8443 with --dev)")
	fs.StringVar(&c.portBind, "port-bind", "", "the address apps' own ports bind on (default all, or 127.0.0.1 with --dev)")
	fs.IntVar(&c.appPortBase, "app-port-base", 10001, "the first of the apps' own ports")
	fs.StringVar(&c.boxName, "name", "hearth", "the box's name on the LAN (<name>.local)")
	fs.StringVar(&c.domain, "domain", "", "the box's public domain: apps answer at <app>.<domain> with Let's Encrypt certificates")
	fs.StringVar(&c.acmeEmail, "acme-email", "", "the email Let's Encrypt may write to about certificates")
	fs.BoolVar(&c.acmeStaging, "acme-staging", false, "use Let's Encrypt's staging endpoint (trials)")
	fs.StringVar(&c.ui, "ui", "", "the web UI's own address (default none: the UI is on the proxy's HTTP port at <name>.local; 127.0.0.1:8080 with --dev)")
	fs.BoolVar(&c.mdns, "mdns", true, "answer <name>.local and the apps' names on the LAN (off with --dev unless given)")
	fs.StringVar(&c.mdnsInterfaces, "mdns-interfaces", "", "comma-separated LAN interfaces for mDNS (default: every LAN interface)")
	fs.StringVar(&c.ipEcho, "ip-echo", "", "comma-separated HTTPS services that answer with the caller's address (default: a built-in list)")
	fs.StringVar(&c.stun, "stun", "", "comma-separated STUN servers, host:port (default: a built-in list)")
	fs.BoolVar(&c.firewall, "firewall", false, "keep the host firewall (nftables table inet hearth); the image turns it on")
	fs.StringVar(&c.adminPorts, "admin-ports", "22", "comma-separated TCP ports the firewall opens to the LAN only (SSH; the --ui port is added)")
	fs.BoolVar(&c.upnp, "upnp", false, "ask the router (UPnP IGD, NAT-PMP, PCP) to forward the proxy's ports 80 and 443 to the box")
	fs.StringVar(&c.consoleFile, "console-file", "", "the getty issue file that shows the setup code (default "+boxConsoleFile+", or <state>/console/hearth.issue with --dev)")
	fs.StringVar(&c.resetMarker, "reset-marker", "", "a file whose presence at start asks for a factory reset (default "+boxResetMarker+", or <state>/hearth-reset with --dev)")
	debug := fs.Bool("debug", false, "log debug messages")
	var err error
	if err = fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	mdnsSet := false
	fs.Visit(func(f *flag.Flag) { mdnsSet = mdnsSet || f.Name == "mdns" })
	if c.dev && !mdnsSet {
		c.mdns = false // a development box does not claim a name on the LAN unless asked
	}
	if c.netPool, err = netip.ParsePrefix(*pool); err != nil {
		return c, fmt.Errorf("--net-pool: %w", err)
	}
	if *debug {
		c.logLevel = slog.LevelDebug
	}
	if c.stateDir == "" {
		c.stateDir = "/var/lib/hearth"
		if c.dev {
			c.stateDir = ".hearth"
		}
	}
	abs, err := filepath.Abs(c.stateDir)
	if err != nil {
		return c, err
	}
	c.stateDir = abs
	if c.socket == "" {
		c.socket = "/run/hearth/hearthd.sock"
		if c.dev {
			c.socket = filepath.Join(c.stateDir, "hearthd.sock")
		}
	}
	for _, d := range []struct {
		v        *string
		dev, box string
	}{{&c.httpAddr, "127.0.0.1:8880", ":80"}, {&c.httpsAddr, "127.0.0.1:8443", ":443"}, {&c.portBind, "127.0.0.1", ""}, {&c.ui, "127.0.0.1:8080", ""}} {
		if *d.v == "" {
			*d.v = d.box
			if c.dev {
				*d.v = d.dev
			}
		}
	}
	firstbootDefaults(&c)
	if (c.devCatalog != "" || c.devCatalogKey != "") && !c.dev {
		return c, errors.New("--dev-catalog is for development only: add --dev")
	}
	return c, nil
}

func run(args []string, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "hearthd:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("hearthd stopped", "err", err)
		return 1
	}
	return 0
}
