package main

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sync/errgroup"

	"github.com/hearthbox/hearth/agent"
	"github.com/hearthbox/hearth/agent/api"
	"github.com/hearthbox/hearth/agent/catalog"
	"github.com/hearthbox/hearth/agent/notify"
	"github.com/hearthbox/hearth/agent/state"
	"github.com/hearthbox/hearth/ddns/discover"
	"github.com/hearthbox/hearth/internal/accesslog"
	"github.com/hearthbox/hearth/internal/ctrd"
	"github.com/hearthbox/hearth/proxy"
	"github.com/hearthbox/hearth/proxy/certs"
	rt "github.com/hearthbox/hearth/runtime"
	"github.com/hearthbox/hearth/runtime/network"
)

// version is hearthd's version, set at link time.
const version = "0.1.0-dev"

// serve wires the parts and runs them until ctx ends.
func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	if err := os.MkdirAll(cfg.stateDir, 0o700); err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	address := cfg.containerd
	if cfg.dev {
		d, err := ctrd.Start(ctx, ctrd.Options{Dir: filepath.Join(cfg.stateDir, "containerd"), KeepTasks: true})
		if err != nil {
			return err
		}
		defer func() {
			if err := d.Stop(context.WithoutCancel(ctx)); err != nil {
				log.Warn("stop containerd", "err", err)
			}
		}()
		address = d.Socket
		log.Info("private containerd started", "socket", d.Socket, "log", d.Log)
	}

	store, err := state.Open(filepath.Join(cfg.stateDir, "hearth.db"), state.Options{Logger: log})
	if err != nil {
		return err
	}
	defer store.Close()

	driver, err := rt.New(ctx, rt.Config{
		Address:   address,
		Namespace: cfg.namespace,
		StateDir:  filepath.Join(cfg.stateDir, "runtime"),
		DataRoot:  filepath.Join(cfg.stateDir, "apps"),
		LogDriver: self,
		Network:   network.Config{Prefix: cfg.netPrefix, Pool: cfg.netPool},
		Logger:    log,
	})
	if err != nil {
		return err
	}
	defer driver.Close()

	sources, builtIn, err := catalogSources(cfg)
	if err != nil {
		return err
	}
	certCfg := certs.Config{StateDir: filepath.Join(cfg.stateDir, "certs"), BoxName: cfg.boxName, Logger: log}
	if cfg.domain != "" {
		certCfg.ACME = &certs.ACMEConfig{Email: cfg.acmeEmail, Staging: cfg.acmeStaging}
	}
	certMgr, err := certs.New(ctx, certCfg)
	if err != nil {
		return err
	}
	defer certMgr.Close()
	access := accesslog.New(filepath.Join(cfg.stateDir, "logs", "access"), 10<<20, 3, log)
	defer access.Close()
	uiHandler := &lateHandler{} // the web UI, made once the agent is
	uiSessions := &lateSessions{}
	px, err := proxy.New(proxy.Config{HTTPAddr: cfg.httpAddr, HTTPSAddr: cfg.httpsAddr, PortBind: cfg.portBind, Certs: certMgr,
		Own: uiHandler, OwnHost: ownHost(uiHosts(cfg.boxName)), AccessLog: access.Write, Logger: log,
		Sessions: uiSessions, LoginURL: appLoginURL(cfg.boxName, cfg.httpAddr), SessionCookie: "hearth_session"})
	if err != nil {
		return err
	}
	backups, err := newBackups(cfg.stateDir, cfg.boxName, log)
	if err != nil {
		return err
	}
	mapper, err := newPortMapper(cfg, log)
	if err != nil {
		return err
	}
	var router discover.Router
	if mapper != nil {
		router = mapper
	}
	reach, responder, err := newReach(cfg, store, router, log)
	if err != nil {
		return err
	}
	var agentProxy agent.Proxy = px
	if responder != nil {
		agentProxy = agent.WithMDNS(px, responder, cfg.boxName)
	}
	fw, err := newFirewall(cfg, log)
	if err != nil {
		return err
	}
	setup, err := newSetup(cfg, log)
	if err != nil {
		return err
	}
	addonServers, err := newAddons(cfg.stateDir, store, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := addonServers.Close(context.WithoutCancel(ctx)); err != nil {
			log.Warn("stop addon servers", "err", err)
		}
	}()
	notifier, err := agent.NewNotifier(store, notify.Config{DataRoot: cfg.stateDir, BoxName: cfg.boxName, Logger: log,
		Checks: []notify.Check{agent.CertificateCheck(store, cfg.domain, certMgr, time.Now)}})
	if err != nil {
		return err
	}
	ag, err := agent.New(agent.Config{
		Store:         store,
		Runtime:       driver,
		Catalogs:      catalog.NewManager(catalog.Config{HTTPClient: &http.Client{Timeout: 30 * time.Second}, Logger: log}),
		Sources:       sources,
		BuiltIn:       builtIn,
		DataRoot:      filepath.Join(cfg.stateDir, "apps"),
		Version:       version,
		HealthTimeout: cfg.healthTimeout,
		Proxy:         agentProxy,
		Firewall:      fw,
		Reach:         reach,
		BoxName:       cfg.boxName,
		Domain:        cfg.domain,
		FirstPort:     cfg.appPortBase,
		Backup:        backups,
		Setup:         setup,
		Notifier:      notifier,
		Addons:        addonServers,
		Fault:         faultInjector(log),
		Logger:        log,
	})
	if err != nil {
		return err
	}
	if err := resetIfMarked(ctx, cfg, ag, log); err != nil {
		return err
	}
	ui, err := newUI(cfg, ag, certMgr.LocalCA(), log)
	if err != nil {
		return err
	}
	uiHandler.set(ui)
	uiSessions.set(ui)
	uiLn, err := uiListener(cfg.ui)
	if err != nil {
		return err
	}
	ln, err := api.Listen(cfg.socket)
	if err != nil {
		return err
	}
	srv := api.NewServer(ag, api.ServerConfig{Logger: log})

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return ag.Run(ctx) })
	g.Go(func() error { return notifier.Run(ctx) })
	g.Go(func() error { return srv.Serve(ctx, ln) })
	g.Go(func() error { return px.Run(ctx) })
	g.Go(func() error { return serveUI(ctx, uiLn, ui, log) })
	if mapper != nil {
		g.Go(func() error { return mapper.Run(ctx) })
	}
	g.Go(func() error { return reach.Run(ctx) })
	if responder != nil {
		g.Go(func() error { return runMDNS(ctx, responder, log) })
	}
	g.Go(func() error { return notifySystemd(ctx, ag.Ready(), log) })
	g.Go(func() error {
		select {
		case <-ag.Ready():
			if uiLn != nil {
				fmt.Fprintf(os.Stdout, "HEARTH_UI=http://%s\n", uiLn.Addr())
			}
			fmt.Fprintf(os.Stdout, "HEARTH_SOCKET=%s\n", cfg.socket)
			hAddr, sAddr := px.Addrs()
			log.Info("hearthd ready", "state", cfg.stateDir, "socket", cfg.socket, "proxy_http", hAddr, "proxy_https", sAddr)
		case <-ctx.Done():
		}
		return nil
	})
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	log.Info("hearthd stopped; apps keep running")
	return err
}

// catalogSources are the catalogs this build trusts: the official one built
// in, and in development the sample catalog make run prepared.
func catalogSources(cfg config) ([]catalog.Source, map[string][]byte, error) {
	src, env, err := catalog.Embedded()
	if err != nil {
		return nil, nil, fmt.Errorf("built-in catalog: %w", err)
	}
	sources := []catalog.Source{src}
	builtIn := map[string][]byte{src.ID: env}
	if cfg.devCatalog != "" {
		env, err := os.ReadFile(cfg.devCatalog)
		if err != nil {
			return nil, nil, fmt.Errorf("--dev-catalog: %w", err)
		}
		pub, err := base64.StdEncoding.DecodeString(cfg.devCatalogKey)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, nil, errors.New("--dev-catalog-key: must be a base64 ed25519 public key")
		}
		dev := catalog.Source{ID: "samples", Title: "Samples (development)",
			Trust: catalog.Trust{Keys: []catalog.Key{{ID: catalog.KeyID(pub), Public: pub}}, Threshold: 1}}
		sources = append(sources, dev)
		builtIn[dev.ID] = env
	}
	return sources, builtIn, nil
}

// notifySystemd says READY=1 once the state is open and the first reconcile
// pass ran, and pings the watchdog at half its interval. Outside systemd it
// does nothing.
func notifySystemd(ctx context.Context, ready <-chan struct{}, log *slog.Logger) error {
	select {
	case <-ready:
	case <-ctx.Done():
		return nil
	}
	if ok, err := daemon.SdNotify(false, daemon.SdNotifyReady); err != nil {
		log.Warn("systemd notify", "err", err)
	} else if !ok {
		return nil // not under systemd
	}
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil || interval == 0 {
		return nil
	}
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
			return nil
		case <-t.C:
			if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
				log.Warn("systemd watchdog", "err", err)
			}
		}
	}
}
